"""Assessment models as data: the national models loaded from the package's seed file,
local schemes defined alike, and edits (weights, bands, indicators) that raise the model's
revision. A round keeps the snapshot of the revision it opened with, so editing a model
never changes a round in progress."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from importlib import resources
from typing import Any

from sqlalchemy import func, select

from shuzhi.assess.events import ModelEdited, ModelsSeeded
from shuzhi.assess.models import (
    AssessDomain,
    AssessIndicator,
    AssessItem,
    AssessModel,
    Evidence,
    ModelKind,
)
from shuzhi.assess.probes import PROBES
from shuzhi.assess.schemas import (
    DomainIn,
    DomainOut,
    IndicatorEdit,
    IndicatorIn,
    IndicatorOut,
    ItemIn,
    ItemOut,
    ModelIn,
    ModelOut,
    WeightsIn,
)
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, ErrorCollector, NotFound

WEIGHT_TOTAL = 100.0
TOLERANCE = 0.01


def seed_data() -> dict[str, Any]:
    """The seed file: national model structures, level names and indicator wording."""
    text = resources.files("shuzhi.assess").joinpath("seed.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _shares(n: int) -> list[float]:
    """``n`` weights of two decimals summing to exactly 100 (the last takes the rest)."""
    each = round(WEIGHT_TOTAL / n, 2)
    return [each] * (n - 1) + [round(WEIGHT_TOTAL - each * (n - 1), 2)]


def seed_model(data: dict[str, Any], model: dict[str, Any]) -> ModelIn:
    """One national model of the seed file as a definition: per item one indicator per
    level in the project's wording, plus the platform indicators mapped to the item."""
    platform: dict[str, list[dict[str, Any]]] = {}
    for p in data["platform_indicators"]:
        item = p["items"].get(model["code"])
        if item:
            platform.setdefault(item, []).append(p)
    domains = []
    for d, dw in zip(model["domains"], _shares(len(model["domains"])), strict=True):
        items = []
        for (code, zh, en), iw in zip(d["items"], _shares(len(d["items"])), strict=True):
            indicators = [
                IndicatorIn(
                    code=f"{code}.l{g['level']}",
                    level=g["level"],
                    evidence=Evidence(g["evidence"]),
                    text_zh=g["zh"].format(item=zh),
                    text_en=g["en"].format(item=en.lower()),
                )
                for g in data["level_indicators"]
            ]
            indicators += [
                IndicatorIn(
                    code=f"{code}.l{p['level']}.{p['probe']}",
                    level=p["level"],
                    evidence=Evidence.PLATFORM,
                    probe=p["probe"],
                    threshold=p["threshold"],
                    partial_at=p.get("partial_at"),
                    text_zh=p["zh"],
                    text_en=p["en"],
                )
                for p in platform.get(code, [])
            ]
            indicators.sort(key=lambda i: i.level)
            items.append(
                ItemIn(code=code, name_zh=zh, name_en=en, weight=iw, indicators=indicators)
            )
        domains.append(
            DomainIn(code=d["code"], name_zh=d["zh"], name_en=d["en"], weight=dw, items=items)
        )
    return ModelIn(
        code=model["code"],
        name_zh=model["name_zh"],
        name_en=model["name_en"],
        edition=model["edition"],
        domains=domains,
    )


def _check_weights(
    errors: ErrorCollector, where: str, weights: list[float], zh: str, en: str
) -> None:
    total = sum(weights)
    if abs(total - WEIGHT_TOTAL) > TOLERANCE:
        errors.add(
            where,
            f"{zh}的权重之和为 {total:g}，应为 100。",
            f"The weights of {en} sum to {total:g}, not 100.",
        )


def _check_bands(errors: ErrorCollector, bands: list[float]) -> None:
    if any(b >= c for b, c in itertools.pairwise(bands)) or not bands[0] > 0:
        errors.add(
            "bands",
            "等级分段下限须为递增的正数（如 1,2,3,4,5）。",
            "Level band lower bounds must be rising positive numbers (e.g. 1,2,3,4,5).",
        )


def _check_indicator(errors: ErrorCollector, ind: IndicatorIn) -> None:
    where = f"indicators.{ind.code}"
    if ind.evidence is Evidence.PLATFORM:
        if ind.probe not in PROBES:
            errors.add(
                where,
                f"平台指标 {ind.code} 须指定已有的平台查询（{ind.probe or '未填'}不存在）。",
                f"Platform indicator {ind.code} needs a known platform query "
                f"({ind.probe or 'none given'} is not one).",
            )
        if ind.threshold is None:
            errors.add(
                where,
                f"平台指标 {ind.code} 须有阈值。",
                f"Platform indicator {ind.code} needs a threshold.",
            )
    elif ind.probe is not None:
        errors.add(
            where,
            f"指标 {ind.code} 不是平台指标，不能指定平台查询。",
            f"Indicator {ind.code} is not a platform indicator and takes no platform query.",
        )


def validate_model(data: ModelIn) -> None:
    """Every problem of a definition at once: duplicate codes, weights that do not sum,
    bands, platform queries."""
    errors = ErrorCollector()
    _check_weights(errors, "domains", [d.weight for d in data.domains], "能力域", "the domains")
    _check_bands(errors, data.bands)
    codes: Counter[str] = Counter()
    for d in data.domains:
        codes[f"domain:{d.code}"] += 1
        _check_weights(
            errors,
            f"domains.{d.code}",
            [i.weight for i in d.items],
            f"能力域 {d.name_zh} 内各能力项",
            f"the items of {d.name_en}",
        )
        for item in d.items:
            codes[f"item:{item.code}"] += 1
            for ind in item.indicators:
                codes[f"indicator:{ind.code}"] += 1
                _check_indicator(errors, ind)
    for code, n in sorted(codes.items()):
        if n > 1:
            errors.add(
                code.split(":")[0],
                f"代码 {code.split(':')[1]} 重复。",
                f"Code {code.split(':')[1]} is used twice.",
            )
    errors.raise_if_any()


def _store(ctx: Ctx, data: ModelIn, kind: ModelKind, levels: list[list[str]]) -> AssessModel:
    model = AssessModel(
        code=data.code,
        name_zh=data.name_zh,
        name_en=data.name_en,
        edition=data.edition,
        kind=kind,
        revision=1,
        levels=levels,
        bands=list(data.bands),
        partial_credit=data.partial_credit,
        updated_by=ctx.actor.label,
    )
    ctx.db.add(model)
    ctx.db.flush()
    for dp, d in enumerate(data.domains):
        domain = AssessDomain(
            model_id=model.id,
            code=d.code,
            position=dp,
            name_zh=d.name_zh,
            name_en=d.name_en,
            weight=d.weight,
        )
        ctx.db.add(domain)
        ctx.db.flush()
        for ip, i in enumerate(d.items):
            item = AssessItem(
                model_id=model.id,
                domain_id=domain.id,
                code=i.code,
                position=ip,
                name_zh=i.name_zh,
                name_en=i.name_en,
                weight=i.weight,
            )
            ctx.db.add(item)
            ctx.db.flush()
            ctx.db.add_all(
                AssessIndicator(model_id=model.id, item_id=item.id, **ind.model_dump())
                for ind in i.indicators
            )
    ctx.db.flush()
    return model


def seed_assessment_models(ctx: Ctx) -> list[ModelOut]:
    """Load the national models that are not there yet (idempotent: a model already stored,
    edited or not, is left as it is)."""
    require(ctx, "seed_assessment_models")
    data = seed_data()
    known = set(ctx.db.scalars(select(AssessModel.code)))
    added = []
    for m in data["models"]:
        if m["code"] in known:
            continue
        definition = seed_model(data, m)
        validate_model(definition)
        added.append(_store(ctx, definition, ModelKind.NATIONAL, data["levels"]))
    if added:
        n = ctx.db.scalar(
            select(func.count()).where(AssessIndicator.model_id.in_([m.id for m in added]))
        )
        record(ctx, ModelsSeeded(models=",".join(m.code for m in added), indicators=int(n or 0)))
    return [_model_out(ctx, m, full=False) for m in added]


def define_assessment_model(ctx: Ctx, data: ModelIn) -> ModelOut:
    """A local scheme (e.g. a city's public-data-management index), defined like DCMM."""
    require(ctx, "edit_assessment_model")
    validate_model(data)
    if ctx.db.scalar(select(AssessModel.id).where(AssessModel.code == data.code)) is not None:
        raise Conflict(
            f"评估模型 {data.code} 已存在。", f"Assessment model {data.code} already exists."
        )
    model = _store(ctx, data, ModelKind.LOCAL, seed_data()["levels"])
    record(ctx, ModelEdited(model=model.code, revision=model.revision, change="defined"))
    return _model_out(ctx, model, full=True)


def _model(ctx: Ctx, code: str) -> AssessModel:
    found = ctx.db.scalar(select(AssessModel).where(AssessModel.code == code))
    if found is None:
        raise NotFound(f"评估模型 {code} 不存在。", f"Assessment model {code} does not exist.")
    return found


def _structure(ctx: Ctx, model: AssessModel) -> list[DomainOut]:
    domains = list(
        ctx.db.scalars(
            select(AssessDomain)
            .where(AssessDomain.model_id == model.id)
            .order_by(AssessDomain.position)
        )
    )
    items = list(
        ctx.db.scalars(
            select(AssessItem).where(AssessItem.model_id == model.id).order_by(AssessItem.position)
        )
    )
    indicators = list(
        ctx.db.scalars(
            select(AssessIndicator)
            .where(AssessIndicator.model_id == model.id)
            .order_by(AssessIndicator.level, AssessIndicator.id)
        )
    )
    by_item: dict[int, list[IndicatorOut]] = {}
    for ind in indicators:
        by_item.setdefault(ind.item_id, []).append(
            IndicatorOut(
                code=ind.code,
                level=ind.level,
                evidence=ind.evidence,
                weight=ind.weight,
                window_days=ind.window_days,
                probe=ind.probe,
                threshold=ind.threshold,
                partial_at=ind.partial_at,
                text_zh=ind.text_zh,
                text_en=ind.text_en,
            )
        )
    by_domain: dict[int, list[ItemOut]] = {}
    for it in items:
        by_domain.setdefault(it.domain_id, []).append(
            ItemOut(
                code=it.code,
                name_zh=it.name_zh,
                name_en=it.name_en,
                weight=it.weight,
                indicators=by_item.get(it.id, []),
            )
        )
    return [
        DomainOut(
            code=d.code,
            name_zh=d.name_zh,
            name_en=d.name_en,
            weight=d.weight,
            items=by_domain.get(d.id, []),
        )
        for d in domains
    ]


def _model_out(ctx: Ctx, model: AssessModel, *, full: bool) -> ModelOut:
    domains = _structure(ctx, model)
    items = [i for d in domains for i in d.items]
    return ModelOut(
        code=model.code,
        name_zh=model.name_zh,
        name_en=model.name_en,
        edition=model.edition,
        kind=model.kind,
        revision=model.revision,
        levels=model.levels,
        bands=model.bands,
        partial_credit=model.partial_credit,
        domain_count=len(domains),
        item_count=len(items),
        indicator_count=sum(len(i.indicators) for i in items),
        domains=domains if full else [],
    )


def list_assessment_models(ctx: Ctx) -> list[ModelOut]:
    """Every model with its domains and items (and their indicators)."""
    require(ctx, "view_assessment_models")
    models = ctx.db.scalars(select(AssessModel).order_by(AssessModel.kind, AssessModel.code))
    return [_model_out(ctx, m, full=True) for m in models]


def get_assessment_model(ctx: Ctx, code: str) -> ModelOut:
    require(ctx, "view_assessment_models")
    return _model_out(ctx, _model(ctx, code), full=True)


def model_snapshot(ctx: Ctx, code: str) -> dict[str, Any]:
    """The model's current revision as plain data, kept by a round that opens with it."""
    model = _model(ctx, code)
    out = _model_out(ctx, model, full=True)
    return out.model_dump(mode="json", exclude={"domain_count", "item_count", "indicator_count"})


def _edited(ctx: Ctx, model: AssessModel, change: str) -> ModelOut:
    model.revision += 1
    model.updated_by = ctx.actor.label
    model.updated_at = utcnow()
    ctx.db.flush()
    record(ctx, ModelEdited(model=model.code, revision=model.revision, change=change))
    return _model_out(ctx, model, full=True)


def set_assessment_weights(ctx: Ctx, code: str, data: WeightsIn) -> ModelOut:
    """New weights (domains summing to 100; each domain's items summing to 100), bands or
    partial credit. Rounds already open keep the revision they started with."""
    require(ctx, "edit_assessment_model")
    model = _model(ctx, code)
    domains = {
        d.code: d
        for d in ctx.db.scalars(select(AssessDomain).where(AssessDomain.model_id == model.id))
    }
    items = {
        i.code: i for i in ctx.db.scalars(select(AssessItem).where(AssessItem.model_id == model.id))
    }
    errors = ErrorCollector()
    for name, weight in [*data.domains.items(), *data.items.items()]:
        if not 0 < weight <= WEIGHT_TOTAL:
            errors.add(
                name,
                f"{name} 的权重须大于 0、不超过 100。",
                f"The weight of {name} must be above 0, at most 100.",
            )
    for name in data.domains.keys() - domains.keys():
        errors.add(name, f"模型中没有能力域 {name}。", f"The model has no domain {name}.")
    for name in data.items.keys() - items.keys():
        errors.add(name, f"模型中没有能力项 {name}。", f"The model has no item {name}.")
    errors.raise_if_any()
    new_domain = {c: data.domains.get(c, d.weight) for c, d in domains.items()}
    if data.domains:
        _check_weights(errors, "domains", list(new_domain.values()), "能力域", "the domains")
    for d in domains.values():
        members = [i for i in items.values() if i.domain_id == d.id]
        if any(i.code in data.items for i in members):
            _check_weights(
                errors,
                f"domains.{d.code}",
                [data.items.get(i.code, i.weight) for i in members],
                f"能力域 {d.name_zh} 内各能力项",
                f"the items of {d.name_en}",
            )
    if data.bands is not None:
        _check_bands(errors, data.bands)
    errors.raise_if_any()
    for c, w in data.domains.items():
        domains[c].weight = w
    for c, w in data.items.items():
        items[c].weight = w
    if data.bands is not None:
        model.bands = list(data.bands)
    if data.partial_credit is not None:
        model.partial_credit = data.partial_credit
    return _edited(ctx, model, "weights")


def edit_assessment_indicator(ctx: Ctx, code: str, indicator: str, data: IndicatorEdit) -> ModelOut:
    """Change an indicator's wording, weight, freshness window or thresholds."""
    require(ctx, "edit_assessment_model")
    model = _model(ctx, code)
    ind = ctx.db.scalar(
        select(AssessIndicator).where(
            AssessIndicator.model_id == model.id, AssessIndicator.code == indicator
        )
    )
    if ind is None:
        raise NotFound(f"模型中没有指标 {indicator}。", f"The model has no indicator {indicator}.")
    changes = data.model_dump(exclude_unset=True)
    if (
        any(k in changes for k in ("threshold", "partial_at"))
        and ind.evidence is not Evidence.PLATFORM
    ):
        raise Conflict("只有平台指标有阈值。", "Only platform indicators have thresholds.")
    if "threshold" in changes and changes["threshold"] is None:
        raise Conflict("平台指标须有阈值。", "A platform indicator needs a threshold.")
    for name, value in changes.items():
        if value is not None or name == "partial_at":
            setattr(ind, name, value)
    return _edited(ctx, model, f"indicator {indicator}")
