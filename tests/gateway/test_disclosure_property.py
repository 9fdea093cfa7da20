"""Property: whatever the grant masks and whatever the caller asks, no sequence of calls
reveals more of a masked value than its mask shows.

Random grants (a mask level per column) and random query sequences (conditions with every
operator on every column, field choices, page walks of random sizes, bulk exports) run
against the real gateway over a small loaded dataset. Every answer must be exactly what can
be computed from the caller's own view — the masked values, the columns it sees as they
are, and the stored row order — or a refusal that says nothing about the data. Then no
answer depends on a hidden character, however many calls are combined.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.gateway.filters import matches
from shuzhi.gateway.shaping import plan, shape
from shuzhi.lake import service as lake
from shuzhi.lake.query import Filter, Op
from shuzhi.lake.readers import FileSource
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing.grants import ColumnMask
from tests.conftest import acting
from tests.factories import seed_org
from tests.gateway.helpers import AUTH, FakeGrants, gateway, make_grant
from tests.lake.helpers import HEADER, people_rows, write_csv
from tests.sharing.helpers import shared_entry

CATEGORIES = {
    "姓名": "person_name",
    "公民身份号码": "resident_id",
    "联系电话": "mobile_phone",
    "出生日期": "birth_date",
    "年龄": "none",
}
ROWS = people_rows(14)
RAW = [dict(zip(HEADER, r, strict=True)) for r in ROWS]
LEVELS = list(MaskLevel)
VALUE_OPS = [o for o in Op if o not in (Op.IS_NULL, Op.NOT_NULL, Op.IN, Op.NOT_IN)]


def _values(column: str) -> st.SearchStrategy[str]:
    """Real values, their prefixes (what an attacker guesses) and a few invented ones."""
    real = [r[column] for r in RAW]
    prefixes = [v[:n] for v in real for n in (1, 3, 6, 10, 11, 14, 17) if n < len(v)]
    return st.one_of(
        st.sampled_from(real), st.sampled_from(prefixes), st.text("0123456789X-", max_size=8)
    )


@st.composite
def conditions(draw: st.DrawFn) -> tuple[str, Filter]:
    column = draw(st.sampled_from(HEADER))
    op = draw(st.sampled_from(list(Op)))
    if op in (Op.IS_NULL, Op.NOT_NULL):
        return f"{column}:{op.value}", Filter(column, op)
    if op in (Op.IN, Op.NOT_IN):
        values = draw(
            st.lists(_values(column).filter(lambda v: "," not in v), min_size=1, max_size=4)
        )
        values = [v for v in values if v] or ["0"]
        return f"{column}:{op.value}:{','.join(values)}", Filter(column, op, tuple(values))
    value = draw(_values(column).filter(bool))
    return f"{column}:{op.value}:{value}", Filter(column, op, value)


QUERY = st.fixed_dictionaries(
    {
        "conditions": st.lists(conditions(), max_size=3),
        "fields": st.lists(st.sampled_from(HEADER), min_size=1, max_size=5, unique=True),
        "page": st.integers(1, 6),
        "export": st.booleans(),
    }
)


def _loaded(database: Database, tmp_path: Path) -> str:
    seed_org(database)
    code = shared_entry(database)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", ROWS, HEADER)))
    return code


def test_no_query_sequence_reveals_more_than_the_masks_show(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    code = _loaded(database, tmp_path)
    grants = FakeGrants(make_grant(code))
    hidden_values = {v for r in RAW for c, v in r.items() if c != "年龄"}
    grant_ids = iter(range(1000, 10**6))
    with gateway(app, grants=grants) as client:
        runtime = app.state.gateway

        @settings(
            max_examples=35,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(
            levels=st.fixed_dictionaries({c: st.sampled_from(LEVELS) for c in HEADER}),
            queries=st.lists(QUERY, min_size=1, max_size=4),
        )
        def run(levels: dict[str, MaskLevel], queries: list[dict[str, Any]]) -> None:
            grant = make_grant(
                code,
                grant_id=next(grant_ids),
                columns=tuple(HEADER),
                masking={c: ColumnMask(CATEGORIES[c], levels[c]) for c in HEADER},
            )
            grants.grant_value = grant
            grants.revision_value += 1
            runtime.check_revision()
            masked = {c for c in HEADER if levels[c] is not MaskLevel.NONE}
            shown_raw = {v for r in RAW for c, v in r.items() if c not in masked}
            for q in queries:
                texts = [t for t, _ in q["conditions"]]
                filters = [f for _, f in q["conditions"]]
                fields = ",".join(q["fields"])
                how = plan(grant, q["fields"], runtime.mask_key)
                expected = [shape(r, how) for r in RAW if matches(r, filters)]
                touches_masked = any(f.column in masked for f in filters)
                base = f"/api/v1/share/{code}"
                params: dict[str, Any] = {"f": texts, "fields": fields, "limit": q["page"]}
                seen: list[dict[str, Any]] = []
                while True:
                    answer = client.get(f"{base}/records", headers=AUTH, params=params)
                    if touches_masked:
                        # Refused before anything is read; the answer names no hidden value.
                        assert answer.status_code == 403, answer.text
                        leaked = {v for v in hidden_values - shown_raw if v in answer.text}
                        assert not leaked
                        break
                    assert answer.status_code == 200, (params, levels, answer.text)
                    body = answer.json()
                    seen += body["items"]
                    if body["next"] is None:
                        break
                    params["cursor"] = body["next"]
                if not touches_masked:
                    # Exactly the caller's own view, filtered by what it sees, in stored order.
                    assert seen == expected
                if q["export"]:
                    answer = client.get(
                        f"{base}/export", headers=AUTH, params={"f": texts, "fields": fields}
                    )
                    if touches_masked:
                        assert answer.status_code == 403
                        continue
                    assert answer.status_code == 200, answer.text
                    exported = list(csv.reader(io.StringIO(answer.text)))
                    assert exported[0] == q["fields"]
                    as_text = [
                        ["" if r[c] is None else str(r[c]) for c in q["fields"]] for r in expected
                    ]
                    assert exported[1:] == as_text

        run()
