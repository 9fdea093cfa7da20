"""Data products (数据产品/数据服务/数据工具) built by an operator under an agreement.

Every input must be covered by the agreement now (``agreements.covers``); the scenario must
be on its whitelist; the price within its fee cap. A dataset graded 核心数据, or holding
personal information whose classification nobody confirmed, is never an input. The
bureau's compliance review (source legality, authorisation chain, personal information,
security assessment) must pass before the product can be registered."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import ErrorCollector, Invalid
from shuzhi.lake import service as lake
from shuzhi.market.events import ProductCreated, ProductReviewed, ProductSubmitted
from shuzhi.market.models import Agreement, Product, ProductStatus, Right
from shuzhi.market.schemas import COMPLIANCE_ITEMS, ComplianceReview, ProductIn, ProductOut
from shuzhi.market.service.agreements import why_not_covered
from shuzhi.market.service.common import agreement_row, conflict, product_row, refused
from shuzhi.market.service.output import checked_release, output_from_release
from shuzhi.market.service.samples import unmasked_columns
from shuzhi.org import service as org
from shuzhi.sandbox.schemas import ReleaseOut
from shuzhi.security.categories import CATEGORY_INFO
from shuzhi.security.grading import NationalLevel


def sample_hash(sample: list[dict[str, object]]) -> str:
    """SHA-256 of the sample as canonical JSON (keys sorted, no spaces): its 存证 digest."""
    text = json.dumps(sample, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def data_problems(ctx: Ctx, resource_code: str) -> tuple[str, str] | None:
    """Why a resource's current data may not go into a product, or None."""
    current = lake.current_version(ctx, resource_code)
    if current is None:
        return None
    version, _files = current
    if version.grade is not None and version.grade.national_level == NationalLevel.CORE:
        return (
            f"数据资源 {resource_code} 定级为核心数据，不得用于数据产品。",
            f"Resource {resource_code} is graded core data (核心数据); it may not go into a"
            " product.",
        )
    unconfirmed = [c.name for c in version.classification if c.personal and not c.overridden]
    if unconfirmed:
        return (
            f"数据资源 {resource_code} 含未经确认的个人信息（{'、'.join(unconfirmed[:5])}），"
            "须先由数源单位确认分类。",
            f"Resource {resource_code} holds personal information nobody has confirmed"
            f" ({', '.join(unconfirmed[:5])}); the source unit must confirm its classification"
            " first.",
        )
    return None


def api_delivery_problems(ctx: Ctx, resource_code: str) -> tuple[str, str] | None:
    """Why a resource may not be handed to a buyer row by row through the gateway, or None.

    API delivery serves the delivered resource's rows to the buyer; a resource holding personal
    information (confirmed or not) never goes to a buyer that way, whatever masking a grant
    would apply: such a product is delivered as a file of its result."""
    current = lake.current_version(ctx, resource_code)
    if current is None:  # nothing loaded yet: nothing personal to hand over
        return None
    version, _files = current
    personal = [c.name for c in version.classification if c.personal]
    if personal:
        return (
            f"数据资源 {resource_code} 含个人信息（{'、'.join(personal[:5])}），"
            "不得以接口方式逐条交付给买方，请以文件方式交付产品结果。",
            f"Resource {resource_code} holds personal information ({', '.join(personal[:5])});"
            " it is not delivered to a buyer record by record through the API. Deliver the"
            " product's result as a file.",
        )
    return None


def confirmed_columns(ctx: Ctx, inputs: list[str]) -> dict[str, tuple[str, str]]:
    """The classification the inputs' source units confirmed or corrected (column →
    category, decided_by): a sample's column of the same name is classified as they decided."""
    confirmed: dict[str, tuple[str, str]] = {}
    for code in inputs:
        current = lake.current_version(ctx, code)
        for c in current[0].classification if current is not None else []:
            if c.overridden:
                confirmed[c.name] = (c.category, c.decided_by or "")
    return confirmed


def input_problems(ctx: Ctx, agreement: Agreement, inputs: list[str]) -> ErrorCollector:
    errors = ErrorCollector()
    for code in inputs:
        problem = why_not_covered(ctx, agreement.id, code) or data_problems(ctx, code)
        if problem is not None:
            errors.add("inputs", *problem)
    return errors


def release_sample(release: ReleaseOut) -> list[dict[str, object]]:
    """The figures of a sandbox release (at most 20 rows) as sample rows."""
    return [dict(zip(release.columns, row, strict=False)) for row in release.rows[:20]]


def product_out(ctx: Ctx, row: Product) -> ProductOut:
    unit = org.unit_brief(ctx, row.operator_unit_id)
    return ProductOut(
        id=row.id,
        name=row.name,
        kind=row.kind,
        agreement_id=row.agreement_id,
        operator_unit_code=unit.code if unit else "",
        inputs=list(row.inputs),
        processing=row.processing,
        scenario=row.scenario,
        update_frequency=row.update_frequency,
        delivery_mode=row.delivery_mode,
        price_cents=row.price_cents,
        fee_standard=row.fee_standard,
        sample=list(row.sample),
        sample_hash=row.sample_hash,
        status=row.status,
        compliance=dict(row.compliance),
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        created_by=row.created_by,
        sandbox_release_id=row.sandbox_release_id,
        output_resource_code=row.output_resource_code,
    )


def create_product(ctx: Ctx, data: ProductIn) -> ProductOut:
    """An operator describes a product built from what its agreement covers."""
    agreement = agreement_row(ctx, data.agreement_id)
    target = f"agreement:{agreement.id}"
    require(ctx, "create_product", agreement.operator_unit_id, target=target)
    inputs = list(dict.fromkeys(c.strip() for c in data.inputs))
    errors = input_problems(ctx, agreement, inputs)
    if Right.PROCESSING not in agreement.rights:
        errors.add(
            "agreement_id",
            "该协议未授予数据加工使用权，不能据此加工数据产品。",
            "The agreement grants no processing-and-use right (数据加工使用权).",
        )
    if data.scenario not in agreement.scenarios:
        errors.add(
            "scenario",
            f"应用场景「{data.scenario}」不在协议的场景白名单内。",
            f"Scenario '{data.scenario}' is not on the agreement's whitelist.",
        )
    if data.price_cents > agreement.fee_cap_cents:
        errors.add(
            "price_cents",
            "价格超过协议约定的运营服务费上限。",
            "The price exceeds the agreement's fee cap (运营服务费上限).",
        )
    sample: list[dict[str, object]] = [dict(row) for row in data.sample]
    release = None
    if data.sandbox_release_id is not None:
        release = checked_release(
            ctx, agreement.operator_unit_id, inputs, data.sandbox_release_id, errors
        )
        if release is not None and not sample:
            sample = release_sample(release)
    for column, category in unmasked_columns(sample, confirmed_columns(ctx, inputs)):
        info = CATEGORY_INFO[category]
        errors.add(
            "sample",
            f"样例数据的「{column}」列含未脱敏的个人信息（{info.label_zh}），"
            "须按平台的脱敏规则处理后再提交。",
            f"Column “{column}” of the sample holds personal information ({info.label_en})"
            " in clear; mask it as the platform masks such data before submitting.",
        )
    if errors.errors:
        raise refused("create_product", target, Invalid(errors=errors.errors))
    row = Product(
        name=data.name,
        kind=data.kind,
        agreement_id=agreement.id,
        operator_unit_id=agreement.operator_unit_id,
        inputs=inputs,
        processing=data.processing,
        scenario=data.scenario,
        update_frequency=data.update_frequency,
        delivery_mode=data.delivery_mode,
        price_cents=data.price_cents,
        fee_standard=data.fee_standard,
        sample=sample,
        sample_hash=sample_hash(sample),
        sandbox_release_id=data.sandbox_release_id,
        status=ProductStatus.DRAFT,
        created_by=ctx.actor.label,
    )
    ctx.db.add(row)
    ctx.db.flush()
    record(
        ctx,
        ProductCreated(
            product_id=row.id,
            unit=row.operator_unit_id,
            agreement_id=agreement.id,
            inputs=",".join(inputs)[:300],
        ),
    )
    if release is not None:
        # The release's table becomes the product's own output (a load of the lake, which
        # commits the product first: a load that fails leaves the product without output,
        # to be loaded again with ``load_product_release``).
        output_from_release(ctx, row, release)
        row = product_row(ctx, row.id)
    return product_out(ctx, row)


def _move(
    ctx: Ctx, row: Product, frm: tuple[ProductStatus, ...], op: str, **values: object
) -> None:
    before = row.status
    if before not in frm or not compare_and_set(
        ctx.db, row, Product.status == before, updated_at=utcnow(), **values
    ):
        raise conflict(
            op,
            f"product:{row.id}",
            f"数据产品当前状态为「{row.status}」，不能执行此操作。",
            f"The product is '{row.status}'; this cannot be done now.",
        )


def submit_product(ctx: Ctx, product_id: int) -> ProductOut:
    """The operator hands a product to the bureau for its compliance review."""
    row = product_row(ctx, product_id)
    target = f"product:{product_id}"
    require(ctx, "submit_product", row.operator_unit_id, target=target)
    agreement = agreement_row(ctx, row.agreement_id)
    errors = input_problems(ctx, agreement, list(row.inputs))
    if errors.errors:
        raise refused("submit_product", target, Invalid(errors=errors.errors))
    _move(
        ctx,
        row,
        (ProductStatus.DRAFT, ProductStatus.FAILED),
        "submit_product",
        status=ProductStatus.IN_REVIEW,
    )
    record(
        ctx,
        ProductSubmitted(product_id=row.id, unit=row.operator_unit_id, agreement_id=agreement.id),
    )
    return product_out(ctx, row)


def review_product_compliance(ctx: Ctx, product_id: int, data: ComplianceReview) -> ProductOut:
    """The bureau's compliance review: every item passes, or the product fails (with notes).

    The authorisation chain and the inputs' data are checked again here: an item marked
    passed while the platform finds a problem is refused."""
    row = product_row(ctx, product_id)
    target = f"product:{product_id}"
    require(ctx, "review_product_compliance", target=target)
    agreement = agreement_row(ctx, row.agreement_id)
    items = {name: getattr(data, name) for name in COMPLIANCE_ITEMS}
    errors = ErrorCollector()
    for name, item in items.items():
        if not item.passed and len(item.note.strip()) < 5:
            errors.add(name, "未通过的审查项须写明原因。", "A failed item needs a note saying why.")
    found = input_problems(ctx, agreement, list(row.inputs))
    if found.errors and items["authorisation_chain"].passed:
        errors.errors.extend(found.errors)
    if errors.errors:
        raise refused("review_product_compliance", target, Invalid(errors=errors.errors))
    passed = all(item.passed for item in items.values())
    _move(
        ctx,
        row,
        (ProductStatus.IN_REVIEW,),
        "review_product_compliance",
        status=ProductStatus.COMPLIANT if passed else ProductStatus.FAILED,
        compliance={k: v.model_dump() for k, v in items.items()},
        reviewed_by=ctx.actor.label,
        reviewed_at=utcnow(),
    )
    record(
        ctx,
        ProductReviewed(
            product_id=row.id,
            unit=row.operator_unit_id,
            agreement_id=agreement.id,
            passed=passed,
            failed_items=",".join(k for k, v in items.items() if not v.passed),
        ),
    )
    return product_out(ctx, row)


def list_products(ctx: Ctx, status: ProductStatus | None = None) -> list[ProductOut]:
    unit = scope_unit(ctx, "view_products")
    query = select(Product).order_by(Product.id)
    if status is not None:
        query = query.where(Product.status == status)
    if unit is not None:
        query = query.where(Product.operator_unit_id == unit)
    return [product_out(ctx, r) for r in ctx.db.scalars(query)]


def get_product(ctx: Ctx, product_id: int) -> ProductOut:
    row = product_row(ctx, product_id)
    require(ctx, "view_products", row.operator_unit_id, target=f"product:{product_id}")
    return product_out(ctx, row)
