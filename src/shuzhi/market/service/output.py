"""A data product's own output (产品结果): a lake dataset of the operator's unit that the
product delivers, never one of its inputs.

A product built from a sandbox release gets its output when it is made: the release's table
(the released, disclosure-checked figures, with their intervals under differential privacy)
is loaded through the lake's normal ingest into a catalogue entry created for the product
and owned by the operator's unit, so the load is versioned, classified and quality-checked
like any other. A later release of the same product (``load_product_release``) is a new
version of the same dataset: buyers keep their grant and read the new version. A product
built otherwise gets its output when the operator loads its result (``load_product_output``).

A file contract's buyer downloads the output's current version as formula-safe CSV
(``download_product_file``); anyone else is told there is no such file."""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, update

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import SYSTEM, Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import ErrorCollector, Invalid, NotFound
from shuzhi.lake import analysis
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource, Source, inspect_source
from shuzhi.lake.schemas import IngestOut
from shuzhi.market.events import ProductFileDownloaded, ProductOutputLoaded
from shuzhi.market.models import Contract, ContractStatus, DeliveryMode, Product
from shuzhi.market.service.common import agreement_row, conflict, product_row, refused, today
from shuzhi.org import service as org
from shuzhi.sandbox import releases
from shuzhi.sandbox.schemas import ReleaseOut
from shuzhi.security import cells

_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


@contextmanager
def as_platform(ctx: Ctx) -> Iterator[None]:
    """What the platform does on a product's or contract's behalf (the output's catalogue
    entry and its loads, the gateway's grant and key) is done as the system."""
    actor = ctx.actor
    ctx.actor = SYSTEM
    try:
        yield
    finally:
        ctx.actor = actor


def checked_release(
    ctx: Ctx, operator_unit_id: int, inputs: list[str], release_id: int, errors: ErrorCollector
) -> ReleaseOut | None:
    """An approved sandbox release to a data product, asked for by the operator's unit, whose
    query used only the product's inputs; the problems go to ``errors``."""
    found = releases.product_release(ctx, release_id)
    if found is None or found[0].unit_id != operator_unit_id:
        errors.add(
            "sandbox_release_id",
            f"沙箱发布 {release_id} 不存在、未获批准、不是用于数据产品，或不是本运营机构申请的。",
            f"Sandbox release {release_id} does not exist, is not approved for a data product"
            " or was not asked for by this operator.",
        )
        return None
    release, used = found
    missing = [c for c in used if c not in inputs]
    if missing:
        errors.add(
            "inputs",
            f"沙箱发布所用的数据资源须列为产品来源：{'、'.join(missing)}。",
            f"The resources the sandbox release used must be inputs: {', '.join(missing)}.",
        )
    return release


# ---- the output's catalogue entry ---------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _item_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    return "N" if present and all(_is_number(v) for v in present) else "C"


def _output_entry(ctx: Ctx, product: Product, columns: list[str], types: list[str]) -> str:
    """A catalogue entry of the operator's unit for the product's output (published, shared
    on conditions, not open): created by the platform on the product's behalf."""
    unit = org.unit_brief(ctx, product.operator_unit_id)
    if unit is None:  # pragma: no cover - a product's unit always exists
        raise NotFound("单位不存在。", "Unit not found.")
    data = EntryCreate.model_validate(
        {
            "name": f"{product.name[:100]}·产品{product.id}结果信息",
            "abstract": f"数据产品「{product.name}」的产品结果，"
            "由运营机构在授权运营协议范围内加工形成，仅向签订交易合同的买方交付。",
            "unit_code": unit.code,
            "class_code": "3",
            "subclass_code": "01",
            "group_code": "001",
            "format_code": "3",
            "format_subtype": "MySQL",
            "share_type": "conditional",
            "share_conditions": "签订数据产品交易合同后，在合同期限内交付",
            "not_shared_basis": "《公共数据授权运营管理办法》关于数据产品经营权的规定",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "other",
            "not_open_note": "数据产品经登记挂牌后，仅通过交易合同交付",
            "update_cycle": "4",
            "items": [
                {"name": name[:100], "data_type": kind, "length": 50, "share_type": "conditional"}
                for name, kind in zip(columns, types, strict=True)
            ],
        }
    )
    with as_platform(ctx):
        code = catalog.create_entry(ctx, data).resource_code
        catalog.submit_entry(ctx, code)
        catalog.approve_entry(ctx, code, "数据产品结果，随产品创建")
    return code


def _arrow_column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def _load_table(
    ctx: Ctx, product: Product, columns: list[str], rows: list[list[Any]], release_id: int
) -> IngestOut:
    """Load a released table as a version of the product's output (its entry made first)."""
    if len(set(columns)) != len(columns) or not columns:
        raise Invalid.field(
            "sandbox_release_id",
            "发布结果的列名须唯一且非空。",
            "The release's columns must be named uniquely.",
        )
    series = [[row[j] if j < len(row) else None for row in rows] for j in range(len(columns))]
    table = pa.table({c: _arrow_column(v) for c, v in zip(columns, series, strict=True)})
    if product.output_resource_code is None:
        code = _output_entry(ctx, product, columns, [_item_type(v) for v in series])
        product.output_resource_code = code
        ctx.db.flush()
    else:
        code = product.output_resource_code
        current = lake.current_version(ctx, code)
        before = [c.name for c in current[1].columns] if current else None
        if before is not None and before != columns:
            raise Invalid.field(
                "sandbox_release_id",
                f"新发布的列（{'、'.join(columns)}）与产品结果的列（{'、'.join(before)}）不同；"
                "不同的结果应作为另一个数据产品。",
                f"The new release's columns ({', '.join(columns)}) differ from the product"
                f" output's ({', '.join(before)}); a different table is another product.",
            )
    with tempfile.TemporaryDirectory(prefix="shuzhi-product-") as tmp:
        path = Path(tmp) / f"release-{release_id}.parquet"
        pq.write_table(table, path)
        return _ingest(ctx, product, FileSource(path), release_id)


def _ingest(ctx: Ctx, product: Product, source: Source, release_id: int | None) -> IngestOut:
    """The lake's own load (versioned, classified, quality-checked); it commits the unit of
    work so far. The product row is read again afterwards."""
    code = product.output_resource_code
    assert code is not None
    product_id, unit, agreement = product.id, product.operator_unit_id, product.agreement_id
    with as_platform(ctx):
        loaded = lake.ingest(ctx, code, source)
    row = product_row(ctx, product_id)
    if release_id is not None:
        row.sandbox_release_id = release_id
    row.updated_at = utcnow()
    ctx.db.flush()
    record(
        ctx,
        ProductOutputLoaded(
            product_id=product_id,
            unit=unit,
            agreement_id=agreement,
            resource_code=code,
            version=loaded.version.number,
            outcome=loaded.outcome,
            release_id=release_id,
        ),
    )
    return loaded


def output_from_release(ctx: Ctx, product: Product, release: ReleaseOut) -> IngestOut:
    """A new product's output, from the release it was built from (checked by the caller)."""
    columns, rows = releases.release_table(release)
    return _load_table(ctx, product, columns, rows, release.id)


def load_product_release(ctx: Ctx, product_id: int, release_id: int) -> IngestOut:
    """A new release of a product: its table becomes a new version of the same output (the
    buyers' grants stay; they read the new version)."""
    product = product_row(ctx, product_id)
    target = f"product:{product_id}"
    require(ctx, "create_product", product.operator_unit_id, target=target)
    agreement = agreement_row(ctx, product.agreement_id)
    errors = ErrorCollector()
    if product.sandbox_release_id is None and product.output_resource_code is not None:
        errors.add(
            "sandbox_release_id",
            "该产品的结果由运营机构直接加载，不是由沙箱发布形成。",
            "This product's output is loaded by the operator, not built from sandbox releases.",
        )
    release = checked_release(
        ctx, agreement.operator_unit_id, list(product.inputs), release_id, errors
    )
    if errors.errors or release is None:
        raise refused("load_product_release", target, Invalid(errors=errors.errors))
    try:
        columns, rows = releases.release_table(release)
        return _load_table(ctx, product, columns, rows, release.id)
    except Invalid as err:
        raise refused("load_product_release", target, err) from None


def load_product_output(ctx: Ctx, product_id: int, source: Source) -> IngestOut:
    """The operator loads its product's result (a product not built from a sandbox release):
    a new version of the product's output, its entry made on the first load."""
    product = product_row(ctx, product_id)
    target = f"product:{product_id}"
    require(ctx, "create_product", product.operator_unit_id, target=target)
    if product.sandbox_release_id is not None:
        raise conflict(
            "load_product_output",
            target,
            "该产品由沙箱发布形成，其结果只能来自沙箱发布。",
            "This product is built from sandbox releases; its output comes only from them.",
        )
    if product.output_resource_code is None:
        columns, types = _source_columns(source)
        product.output_resource_code = _output_entry(ctx, product, columns, types)
        ctx.db.flush()
    return _ingest(ctx, product, source, None)


def _source_columns(source: Source) -> tuple[list[str], list[str]]:
    """The column names of a file to load and their item types (N when every value seen is
    a number, C otherwise)."""
    preview = inspect_source(source)
    types = []
    for j, _name in enumerate(preview.columns):
        seen = [r[j] for r in preview.rows if r[j] not in (None, "")]
        types.append("N" if seen and all(_NUMBER.fullmatch(str(v)) for v in seen) else "C")
    return list(preview.columns), types


# ---- file delivery ------------------------------------------------------------------------


def _no_file(contract_id: int) -> NotFound:
    return NotFound(
        f"交易合同 {contract_id} 没有可下载的文件。",
        f"There is no file to download under trade contract {contract_id}.",
    )


def download_product_file(ctx: Ctx, contract_id: int) -> tuple[bytes, str]:
    """The buyer of a signed, unexpired file contract downloads the product output's current
    version as formula-safe CSV: (content, file name). Counted on the contract and audited.

    Anyone else — and anyone asking for a contract that does not exist — is told there is no
    such file (the refusal is audited), so nobody learns which contracts or products exist."""
    target = f"contract:{contract_id}"
    row = ctx.db.get(Contract, contract_id)
    if row is None or not allowed(ctx, "create_delivery_key", row.buyer_unit_id):
        if not ctx.actor.is_authenticated:
            require(ctx, "create_delivery_key")
        raise refused("download_product_file", target, _no_file(contract_id))
    product = product_row(ctx, row.product_id)
    if row.status != ContractStatus.ACTIVE or row.ends_on is None or row.ends_on < today():
        raise conflict(
            "download_product_file",
            target,
            "合同不在有效期内，不能下载。",
            "The contract is not in force; nothing can be downloaded under it.",
        )
    if row.delivery_mode != DeliveryMode.FILE:
        raise conflict(
            "download_product_file",
            target,
            "该合同以接口方式交付，请使用接口密钥。",
            "The contract is delivered through the API; use its key.",
        )
    code = product.output_resource_code
    with as_platform(ctx):
        current = lake.current_version(ctx, code) if code else None
    if code is None or current is None:
        raise conflict(
            "download_product_file",
            target,
            "该数据产品尚未形成产品结果，暂无文件可下载。",
            "The product has no output yet: there is no file to download.",
        )
    version, files = current
    hidden = analysis.hidden_columns(version.classification)
    names = [c.name for c in files.columns]
    text = io.StringIO()
    writer = cells.csv_writer(text)
    writer.writerow(names)
    rows = 0
    for batch in lake.query_engine(ctx).scan(files):
        for item in batch.to_pylist():
            values: list[object] = []
            for name in names:
                value = item[name]
                if value is not None and name in hidden:
                    value = analysis.mask_value(str(value), hidden[name])
                values.append(value)
            writer.writerow(values)
            rows += 1
    content = ("\ufeff" + text.getvalue()).encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    name = f"{row.registration_number}-v{version.number}.csv"
    now, number = utcnow(), row.id

    def count(c: Ctx) -> None:  # also after a read unit's reads (a GET)
        c.db.execute(
            update(Contract)
            .where(Contract.id == number)
            .values(
                downloads=Contract.downloads + 1,
                delivered_at=func.coalesce(Contract.delivered_at, now),
            )
        )

    ctx.write(count)
    record(
        ctx,
        ProductFileDownloaded(
            contract_id=row.id,
            unit=row.buyer_unit_id,
            number=row.registration_number,
            resource_code=code,
            version=version.number,
            rows=rows,
            sha256=digest,
        ),
    )
    return content, name


__all__ = [
    "as_platform",
    "checked_release",
    "download_product_file",
    "load_product_output",
    "load_product_release",
    "output_from_release",
]
