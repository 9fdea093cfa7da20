from shuzhi.db.engine import Database
from tests.factories import seed_org
from tests.sandbox.helpers import sandbox


def test_smoke(database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    out = sb.query(f'SELECT 社区, COUNT(*) AS n, AVG(医疗费用) FROM "{sb.health}" GROUP BY 社区 ORDER BY n DESC')
    print(out)
    assert out.suppressed == 1
