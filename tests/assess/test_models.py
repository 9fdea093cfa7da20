"""Models as versioned data: the seeded national models, edits, local schemes."""

from __future__ import annotations

import pytest

from shuzhi.assess import service
from shuzhi.assess.probes import PROBES
from shuzhi.assess.schemas import IndicatorEdit, ModelIn, WeightsIn
from shuzhi.assess.service.modelling import seed_data, seed_model
from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from tests.assess.helpers import open_round
from tests.conftest import acting
from tests.factories import seed_org


def test_seeded_models_have_the_national_structure(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        added = service.seed_assessment_models(ctx)
        assert {m.code for m in added} == {"dcmm-2018", "dcmm-2025"}
        again = service.seed_assessment_models(ctx)  # idempotent
        models = {m.code: m for m in service.list_assessment_models(ctx)}
    assert again == []
    assert (models["dcmm-2018"].domain_count, models["dcmm-2018"].item_count) == (8, 28)
    assert (models["dcmm-2025"].domain_count, models["dcmm-2025"].item_count) == (9, 33)
    m25 = models["dcmm-2025"]
    assert [d.name_zh for d in m25.domains][3] == "数据资产"
    assert [i.name_zh for i in m25.domains[3].items] == ["权属管理", "价值评估", "资产运营"]
    assert m25.levels[2] == ["稳健级", "Robust"]
    for d in m25.domains:
        assert abs(sum(i.weight for i in d.items) - 100) < 0.01
        for item in d.items:
            assert {ind.level for ind in item.indicators} == {1, 2, 3, 4, 5}
            assert all(ind.window_days == 90 for ind in item.indicators)
    assert abs(sum(d.weight for d in m25.domains) - 100) < 0.01
    platform = [ind for d in m25.domains for i in d.items for ind in i.indicators if ind.probe]
    assert len(platform) == len(PROBES) == 43 and all(
        ind.evidence == "platform" for ind in platform
    )
    with acting(database, SYSTEM) as ctx:
        assert audit.view_audit(ctx, action="assess.models_seeded").total == 1


def test_weights_that_do_not_sum_are_refused_and_nothing_changes(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        service.seed_assessment_models(ctx)
    with pytest.raises(Invalid) as bad, acting(database, SYSTEM) as ctx:
        service.set_assessment_weights(
            ctx, "dcmm-2018", WeightsIn(domains={"strategy": 30, "quality": 30})
        )
    assert "100" in bad.value.errors[0].message.en
    with acting(database, SYSTEM) as ctx:
        m = service.get_assessment_model(ctx, "dcmm-2018")
    assert m.revision == 1 and m.domains[0].weight == 12.5


def test_an_edit_raises_the_revision_and_an_open_round_keeps_its_own(database: Database) -> None:
    seed_org(database)
    round_id = open_round(database)
    weights = {
        d: 10.0
        for d in (
            "strategy",
            "governance",
            "architecture",
            "assets",
            "standards",
            "quality",
            "security",
            "lifecycle",
        )
    }
    weights["circulation"] = 20.0
    with acting(database, SYSTEM) as ctx:
        m = service.set_assessment_weights(ctx, "dcmm-2025", WeightsIn(domains=weights))
        m = service.edit_assessment_indicator(
            ctx,
            "dcmm-2025",
            "strategy.planning.l1",
            IndicatorEdit(text_zh="新的表述", window_days=30),
        )
        r = service.get_assessment_round(ctx, round_id)
        sheet = service.unit_assessment_sheet(ctx, round_id, "A")
    assert m.revision == 3
    assert r.model_revision == 1
    assert sheet.domains[0].items[0].indicators[0].indicator.text_zh != "新的表述"
    assert sheet.domains[-1].name_zh == "数据应用流通"


def test_threshold_only_for_platform_indicators(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        service.seed_assessment_models(ctx)
    with pytest.raises(Conflict), acting(database, SYSTEM) as ctx:
        service.edit_assessment_indicator(
            ctx, "dcmm-2025", "strategy.planning.l1", IndicatorEdit(threshold=1)
        )


def _local(code: str = "gz-index") -> ModelIn:
    data = seed_data()
    base = seed_model(data, data["models"][0]).model_dump()
    base.update(
        code=code, name_zh="市公共数据管理指数", name_en="City public data index", edition="2026"
    )
    return ModelIn.model_validate(base)


def test_a_local_scheme_is_defined_like_the_national_ones(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        made = service.define_assessment_model(ctx, _local())
    assert made.kind == "local" and made.item_count == 28
    with pytest.raises(Conflict), acting(database, SYSTEM) as ctx:
        service.define_assessment_model(ctx, _local())


def test_a_bad_local_scheme_reports_every_problem(database: Database) -> None:
    bad = _local("bad").model_dump()
    bad["domains"][0]["weight"] = 50
    bad["domains"][1]["items"][0]["code"] = bad["domains"][1]["items"][1]["code"]
    bad["domains"][2]["items"][0]["indicators"][0].update(evidence="platform", probe="nonsense")
    with pytest.raises(Invalid) as err, acting(database, SYSTEM) as ctx:
        service.define_assessment_model(ctx, ModelIn.model_validate(bad))
    text = " ".join(e.message.en for e in err.value.errors)
    assert "sum to" in text and "used twice" in text and "platform query" in text
    assert "threshold" in text


def test_only_the_executive_edits_models(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, SYSTEM) as ctx:
        service.seed_assessment_models(ctx)
    for role in (Role.CDO, Role.UNIT_CDO, Role.AUDITOR):
        with pytest.raises(Forbidden), acting(database, seeded.actor(role)) as ctx:
            service.set_assessment_weights(ctx, "dcmm-2018", WeightsIn(bands=[1, 2, 3, 4, 4.5]))
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        assert (
            service.set_assessment_weights(
                ctx, "dcmm-2018", WeightsIn(bands=[1, 2, 3, 4, 4.5])
            ).bands[-1]
            == 4.5
        )
