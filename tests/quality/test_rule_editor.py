"""Quality rules edited on the dataset page, and "no rules" instead of a score of 100."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, upgrade
from shuzhi.errors import Forbidden, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.models import DatasetVersion
from shuzhi.lake.readers import FileSource
from shuzhi.quality import service as quality
from shuzhi.quality.checks import RuleSpec, validate_rule
from shuzhi.quality.models import RuleKind
from shuzhi.quality.schemas import RuleIn
from shuzhi.quality.views import rule_from_form
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv
from tests.web.helpers import csrf, login


def _load(database: Database, code: str, path: Path) -> int:
    rows = people_rows(20)
    rows[0][4] = ""  # one missing age
    with acting(database, SYSTEM) as ctx:
        return lake.ingest(ctx, code, FileSource(write_csv(path, rows))).version.number


def test_a_dataset_without_rules_shows_no_rules_not_a_score(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    bare, ruled = published_entry(database), published_entry(database)
    with acting(database, SYSTEM) as ctx:
        quality.define_quality_rule(ctx, ruled, RuleIn(kind=RuleKind.NOT_NULL, column="年龄"))
    _load(database, bare, tmp_path / "bare.csv")
    _load(database, ruled, tmp_path / "ruled.csv")
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        version = lake.get_dataset_version(ctx, bare, 1)
        board = quality.quality_scores(ctx)
    assert version.quality_score is None and version.quality_score_reason == "no_rules"
    scores = {e.resource_code: e for e in board.entries}
    assert scores[bare].score is None and scores[bare].reason == "no_rules"
    ruled_score = scores[ruled].score
    assert ruled_score is not None and 0 < ruled_score < 100
    unit = board.units[0]
    assert unit.score == scores[ruled].score and unit.entries == 2 and unit.scored_entries == 1
    login(client, "cdo", PASSWORD)
    api = client.get(f"/api/v1/datasets/{bare}/versions/1").json()
    assert api["quality_score"] is None and api["quality_score_reason"] == "no_rules"
    listed = client.get("/api/v1/quality/scores").json()
    assert {"resource_code": bare, "score": None, "reason": "no_rules"}.items() <= {
        k: v for e in listed["entries"] if e["resource_code"] == bare for k, v in e.items()
    }.items()
    page = client.get(f"/datasets/{bare}")
    assert "未设置规则" in page.text and ">100.0<" not in page.text
    assert "未设置规则" in client.get(f"/datasets/{bare}/versions/1").text


def test_old_scores_of_datasets_without_rules_are_cleared_by_the_migration(
    database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    bare, ruled = published_entry(database), published_entry(database)
    with acting(database, SYSTEM) as ctx:
        quality.define_quality_rule(ctx, ruled, RuleIn(kind=RuleKind.NOT_NULL, column="年龄"))
    _load(database, bare, tmp_path / "bare.csv")
    _load(database, ruled, tmp_path / "ruled.csv")
    command.downgrade(alembic_config(database), "quality_0001")
    table: sa.Table = DatasetVersion.__table__  # type: ignore[assignment]
    with database.engine.begin() as conn:
        conn.execute(
            sa.update(table).where(table.c.quality_score.is_(None)).values(quality_score=100.0)
        )
        kept = conn.execute(sa.select(sa.func.min(table.c.quality_score))).scalar()
    upgrade(database)
    with database.engine.connect() as conn:
        scores = sorted(conn.execute(sa.select(table.c.quality_score)).scalars(), key=str)
    assert scores == sorted([kept, None], key=str) and kept is not None and kept < 100


def test_rules_are_changed_and_deleted_with_the_define_permission(
    database: Database, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    _load(database, code, tmp_path / "p.csv")
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        rule = quality.define_quality_rule(ctx, code, RuleIn(kind=RuleKind.NOT_NULL, column="年龄"))
    with pytest.raises(Invalid) as bad, acting(database, liaison) as ctx:
        quality.update_quality_rule(
            ctx, rule.id, RuleIn(kind=RuleKind.RANGE, column="无此列", params={"min": 9, "max": 1})
        )
    assert {e.field for e in bad.value.errors} == {"column", "min"}
    with (
        pytest.raises(Forbidden),
        acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx,
    ):
        quality.delete_quality_rule(ctx, rule.id)
    with acting(database, liaison) as ctx:
        changed = quality.update_quality_rule(
            ctx, rule.id, RuleIn(kind=RuleKind.RANGE, column="年龄", params={"min": 0, "max": 120})
        )
        assert changed.kind is RuleKind.RANGE and changed.params == {"min": 0, "max": 120}
        quality.delete_quality_rule(ctx, rule.id)
        assert quality.list_quality_rules(ctx, code) == []
    with pytest.raises(NotFound), acting(database, liaison) as ctx:
        quality.update_quality_rule(ctx, rule.id, RuleIn(kind=RuleKind.NOT_NULL, column="年龄"))
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        actions = [e.action for e in audit.view_audit(ctx, target_type="quality_rule").items]
    assert actions == ["quality.rule_deleted", "quality.rule_updated", "quality.rule_defined"]


def test_the_api_edits_rules_with_the_same_checks(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = published_entry(database)
    _load(database, code, tmp_path / "p.csv")
    login(client, "a.liaison", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/")}
    made = client.post(
        f"/api/v1/quality/datasets/{code}/rules",
        json={"kind": "not_null", "column": "年龄"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]
    bad = client.put(
        f"/api/v1/quality/rules/{rule_id}",
        json={"kind": "pattern", "column": "年龄", "params": {"pattern": "(a"}},
        headers=headers,
    )
    assert bad.status_code == 422 and "正则表达式无效" in bad.text
    good = client.put(
        f"/api/v1/quality/rules/{rule_id}",
        json={"kind": "pattern", "column": "年龄", "params": {"pattern": "[0-9]+"}},
        headers=headers,
    )
    assert good.status_code == 200 and good.json()["params"] == {"pattern": "[0-9]+"}
    assert client.delete(f"/api/v1/quality/rules/{rule_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/quality/datasets/{code}/rules").json() == []


def test_the_dataset_page_edits_rules(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    _load(database, code, tmp_path / "p.csv")
    login(client, "a.liaison", PASSWORD)
    page = client.get(f"/datasets/{code}")
    assert 'id="quality-rules"' in page.text and 'id="rule-add"' in page.text
    token = csrf(client, f"/datasets/{code}")
    add = client.post(
        f"/quality/datasets/{code}/rules",
        data={
            "csrf_token": token,
            "kind": "allowed_values",
            "column": "姓名",
            "values": "王小\n李明",
        },
        follow_redirects=False,
    )
    assert add.status_code == 303 and add.headers["location"].endswith("#quality-rules")
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        (rule,) = quality.list_quality_rules(ctx, code)
    assert rule.kind is RuleKind.ALLOWED_VALUES and rule.params == {"values": ["王小", "李明"]}
    # Every problem at once, in Chinese, with field names instead of identifiers.
    bad = client.post(
        f"/quality/rules/{rule.id}",
        data={
            "csrf_token": token,
            "kind": "range",
            "column": "",
            "min": "九",
            "max": "1",
            "weight": "0",
        },
    )
    assert bad.status_code == 422
    text = bad.text
    assert "请指定列" in text and "下限" in text and "权重" in text
    assert 'data-field="min"' in text and ">min：" not in text and ">column：" not in text
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert quality.list_quality_rules(ctx, code) == [rule]  # nothing half-written
    edit = client.post(
        f"/quality/rules/{rule.id}",
        data={
            "csrf_token": token,
            "kind": "range",
            "column": "年龄",
            "min": "0",
            "max": "120",
            "weight": "2",
        },
        follow_redirects=False,
    )
    assert edit.status_code == 303
    listed = client.get(f"/datasets/{code}").text
    assert "取值范围" in listed and "0 – 120" in listed
    assert client.post(f"/quality/rules/{rule.id}/delete", data={}).status_code == 403  # CSRF
    gone = client.post(
        f"/quality/rules/{rule.id}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert gone.status_code == 303
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert quality.list_quality_rules(ctx, code) == []


def test_readers_see_rules_but_no_editor(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = published_entry(database)
    _load(database, code, tmp_path / "p.csv")
    with acting(database, SYSTEM) as ctx:
        quality.define_quality_rule(ctx, code, RuleIn(kind=RuleKind.NOT_NULL, column="年龄"))
    login(client, "auditor", PASSWORD)
    page = client.get(f"/datasets/{code}").text
    assert 'id="quality-rules"' in page and "非空" in page and 'id="rule-add"' not in page
    token = csrf(client, f"/datasets/{code}")
    refused = client.post(
        f"/quality/datasets/{code}/rules",
        data={"csrf_token": token, "kind": "not_null", "column": "姓名"},
    )
    assert refused.status_code == 403


FORM_FIELDS = (
    "kind",
    "column",
    "pattern",
    "min",
    "max",
    "values",
    "ref_code",
    "ref_column",
    "max_age_days",
    "weight",
)


@given(
    st.dictionaries(
        st.sampled_from(FORM_FIELDS),
        st.one_of(st.sampled_from([k.value for k in RuleKind]), st.text(max_size=12)),
    )
)
def test_a_rule_form_gives_a_valid_rule_or_field_errors(form: dict[str, str]) -> None:
    """Whatever is posted, the form reader returns a rule the checks accept, or Invalid."""
    try:
        rule = rule_from_form(form)
    except Invalid as bad:
        assert bad.errors and all(e.message.zh and e.message.en for e in bad.errors)
        return
    validate_rule(RuleSpec(rule.kind, rule.column, rule.params))
    assert 0 < rule.weight <= 100
    numbers = [v for v in rule.params.values() if isinstance(v, int | float)]
    assert all(math.isfinite(v) for v in numbers)
