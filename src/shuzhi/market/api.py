"""JSON API of the data market (/api/v1/market) and its public pages under /open/market:
the certificate check (``/open/market/verify/{number}``), the list of registrations under
public notice and the objection form (throttled per address)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from starlette.responses import JSONResponse, RedirectResponse, Response

from shuzhi.context import ANONYMOUS, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid, ShuzhiError, TooManyRequests
from shuzhi.gateway.limits import RateLimiter
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.market import service
from shuzhi.market.models import (
    AgreementStatus,
    ContractStatus,
    PartyKind,
    ProductStatus,
    RegistrationStatus,
)
from shuzhi.market.schemas import (
    AgreementIn,
    AgreementOut,
    ComplianceReview,
    Decision,
    GrantLink,
    NoticeOut,
    ObjectionIn,
    PartyIn,
    PartyOut,
    ProductIn,
    ProductOut,
    PublicCertificate,
    Reason,
    RegistrationEventIn,
    RegistrationIn,
    RegistrationOut,
    ResourceRegistrationIn,
    UpstreamCode,
)
from shuzhi.market.trade_schemas import (
    ContractOut,
    DeliveryKey,
    EvaluationIn,
    FileDeliveryIn,
    ListedProduct,
    Listing,
    ProductReleaseIn,
    PurchaseIn,
    Revenue,
    SignIn,
)
from shuzhi.market.trade_schemas import Reason as EndReason
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep, client_of, reads_only
from shuzhi.web.forms import FormDep
from shuzhi.web.i18n import locale_of
from shuzhi.web.templating import render

router = APIRouter(prefix="/api/v1/market", tags=["market"])
public = APIRouter(tags=["market"])

# Objections: at most this many per address per minute (they are written and reviewed by
# people, so a burst is abuse); reads of the public pages follow the portal's limit.
OBJECTIONS_PER_MINUTE = 5
_lock = threading.Lock()


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    with _lock:
        if not hasattr(state, "market_limiter"):
            state.market_limiter = RateLimiter(state.settings.workers)
    limiter: RateLimiter = state.market_limiter
    return limiter


def _throttle(request: Request, lane: int, per_minute: int) -> None:
    if per_minute <= 0:
        return
    client = client_of(request) or "?"
    bucket = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=7).digest(), "big")
    try:
        _limiter(request).take(bucket, lane, per_minute)
    except TooManyRequests as err:
        raise TooManyRequests(
            f"提交过于频繁：每个地址每分钟最多 {per_minute} 次，请 {err.retry_after} 秒后再试。",
            f"Too many requests: at most {per_minute} per minute per address; retry in"
            f" {err.retry_after} s.",
            retry_after=err.retry_after,
        ) from None


def public_ctx(request: Request) -> Iterator[Ctx]:
    """An anonymous unit of work (a staff session is ignored on public pages)."""
    database: Database = request.app.state.database
    if request.method == "POST":
        _throttle(request, 1, OBJECTIONS_PER_MINUTE)
    else:
        _throttle(request, 0, database.settings.portal_rate_limit)
    with unit_of_work(
        database,
        ANONYMOUS,
        locale=locale_of(request, database.settings.default_locale),
        client=client_of(request),
        read=reads_only(request),
    ) as ctx:
        yield ctx


PublicCtx = Annotated[Ctx, Depends(public_ctx, scope="function")]


# ---------------------------------------------------------------- parties


@router.post("/parties", status_code=201)
def apply_party(ctx: CtxDep, data: PartyIn) -> PartyOut:
    return service.apply_market_party(ctx, data)


@router.get("/parties")
def parties(ctx: CtxDep, kind: PartyKind | None = None) -> list[PartyOut]:
    return service.list_market_parties(ctx, kind)


@router.get("/parties/{party_id}")
def party(ctx: CtxDep, party_id: int) -> PartyOut:
    return service.get_market_party(ctx, party_id)


@router.post("/parties/{party_id}/decision")
def decide_party(ctx: CtxDep, party_id: int, data: Decision) -> PartyOut:
    return service.decide_market_party(ctx, party_id, data.approve, data.reason)


@router.post("/parties/{party_id}/suspension")
def suspend_party(ctx: CtxDep, party_id: int, data: Reason) -> PartyOut:
    return service.suspend_market_party(ctx, party_id, data.reason)


@router.post("/parties/{party_id}/reinstatement")
def reinstate_party(ctx: CtxDep, party_id: int, data: Reason) -> PartyOut:
    return service.reinstate_market_party(ctx, party_id, data.reason)


@router.post("/parties/{party_id}/revocation")
def revoke_party(ctx: CtxDep, party_id: int, data: Reason) -> PartyOut:
    return service.revoke_market_party(ctx, party_id, data.reason)


# ---------------------------------------------------------------- agreements


@router.post("/agreements", status_code=201)
def draft_agreement(ctx: CtxDep, data: AgreementIn) -> AgreementOut:
    return service.draft_agreement(ctx, data)


@router.get("/agreements")
def agreements(ctx: CtxDep, status: AgreementStatus | None = None) -> list[AgreementOut]:
    return service.list_agreements(ctx, status)


@router.get("/agreements/{agreement_id}")
def agreement(ctx: CtxDep, agreement_id: int) -> AgreementOut:
    return service.get_agreement(ctx, agreement_id)


@router.post("/agreements/{agreement_id}/approval")
def approve_agreement(ctx: CtxDep, agreement_id: int) -> AgreementOut:
    return service.approve_agreement(ctx, agreement_id)


@router.post("/agreements/{agreement_id}/activation")
def activate_agreement(ctx: CtxDep, agreement_id: int) -> AgreementOut:
    return service.activate_agreement(ctx, agreement_id)


@router.post("/agreements/{agreement_id}/suspension")
def suspend_agreement(ctx: CtxDep, agreement_id: int, data: Reason) -> AgreementOut:
    return service.suspend_agreement(ctx, agreement_id, data.reason)


@router.post("/agreements/{agreement_id}/termination")
def terminate_agreement(ctx: CtxDep, agreement_id: int, data: Reason) -> AgreementOut:
    return service.terminate_agreement(ctx, agreement_id, data.reason)


@router.post("/agreements/{agreement_id}/grants")
def attach_grant(ctx: CtxDep, agreement_id: int, data: GrantLink) -> AgreementOut:
    return service.attach_agreement_grant(ctx, agreement_id, data.grant_id)


@router.get("/agreements/{agreement_id}/covers/{code:path}")
def covers(ctx: CtxDep, agreement_id: int, code: str) -> dict[str, object]:
    found = service.get_agreement(ctx, agreement_id)
    reason = service.why_not_covered(ctx, found.id, code)
    return {
        "agreement_id": found.id,
        "resource_code": code,
        "covered": reason is None,
        "reason": None if reason is None else {"zh": reason[0], "en": reason[1]},
    }


@router.post("/agreements/expiry")
def expire(ctx: CtxDep) -> dict[str, list[int]]:
    return {"expired": service.expire_agreements(ctx)}


# ---------------------------------------------------------------- products


@router.post("/products", status_code=201)
def create_product(ctx: CtxDep, data: ProductIn) -> ProductOut:
    return service.create_product(ctx, data)


@router.get("/operator/products")
def products(ctx: CtxDep, status: ProductStatus | None = None) -> list[ProductOut]:
    return service.list_products(ctx, status)


@router.get("/operator/products/{product_id}")
def product(ctx: CtxDep, product_id: int) -> ProductOut:
    return service.get_product(ctx, product_id)


@router.post("/products/{product_id}/release")
def product_release(ctx: CtxDep, product_id: int, data: ProductReleaseIn) -> ProductOut:
    """A new sandbox release of the product: a new version of its own output."""
    service.load_product_release(ctx, product_id, data.sandbox_release_id)
    return service.get_product(ctx, product_id)


@router.post("/products/{product_id}/output", status_code=201)
def product_output(ctx: CtxDep, product_id: int, file: Annotated[UploadFile, File()]) -> ProductOut:
    """The operator loads its product's result (a product not built from a sandbox release)."""
    with lake.staged_upload(ctx, file.filename or "", file.file) as path:
        service.load_product_output(ctx, product_id, FileSource(path))
    return service.get_product(ctx, product_id)


@router.post("/products/{product_id}/submission")
def submit_product(ctx: CtxDep, product_id: int) -> ProductOut:
    return service.submit_product(ctx, product_id)


@router.post("/products/{product_id}/compliance")
def review_product(ctx: CtxDep, product_id: int, data: ComplianceReview) -> ProductOut:
    return service.review_product_compliance(ctx, product_id, data)


# ---------------------------------------------------------------- registration ledger


@router.post("/products/{product_id}/registration", status_code=201)
def register_product(ctx: CtxDep, product_id: int, data: RegistrationIn) -> RegistrationOut:
    return service.register_product(ctx, product_id, data)


@router.post("/registrations", status_code=201)
def register_resource(ctx: CtxDep, data: ResourceRegistrationIn) -> RegistrationOut:
    return service.register_resource(ctx, data)


@router.get("/registrations")
def registrations(ctx: CtxDep, status: RegistrationStatus | None = None) -> list[RegistrationOut]:
    return service.list_registrations(ctx, status)


@router.get("/registrations/{number}")
def registration(ctx: CtxDep, number: str) -> RegistrationOut:
    return service.get_registration(ctx, number)


@router.post("/registrations/{number}/confirmation")
def confirm(ctx: CtxDep, number: str) -> RegistrationOut:
    return service.confirm_registration(ctx, number)


@router.post("/registrations/{number}/events")
def registration_event(ctx: CtxDep, number: str, data: RegistrationEventIn) -> RegistrationOut:
    return service.record_registration_event(ctx, number, data)


@router.post("/registrations/{number}/objections/{objection_id}/resolution")
def resolve(ctx: CtxDep, number: str, objection_id: int, data: Decision) -> RegistrationOut:
    # approve=True upholds the objection (the filing is cancelled)
    return service.resolve_objection(ctx, number, objection_id, data.approve, data.reason)


@router.put("/registrations/{number}/upstream-code")
def upstream(ctx: CtxDep, number: str, data: UpstreamCode) -> RegistrationOut:
    return service.record_upstream_code(ctx, number, data.code)


@router.get("/registrations/{number}/export.zip")
def export(ctx: CtxDep, number: str) -> Response:
    body = service.export_registration(ctx, number)
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{number}.zip"'},
    )


@router.get("/registrations/{number}/certificate.pdf")
def certificate_pdf(ctx: CtxDep, number: str) -> Response:
    """The certificate as a PDF, generated on the server, with its verification code."""
    body = service.certificate_pdf(ctx, number)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{number}.pdf"'},
    )


@router.get("/registrations/{number}/certificate")
def certificate(request: Request, ctx: CtxDep, number: str) -> Response:
    """The printable certificate (HTML); ``certificate.pdf`` is the same as a PDF."""
    found = service.get_registration(ctx, number)
    if found.status != RegistrationStatus.REGISTERED:
        raise Invalid.field(
            "number", "该登记尚未生效，没有证书。", "The registration is not in effect yet."
        )
    return render(request, "market/certificate.html", r=found)


# ---------------------------------------------------------------- trading


@router.post("/contracts", status_code=201)
def apply_purchase(ctx: CtxDep, data: PurchaseIn) -> ContractOut:
    return service.apply_purchase(ctx, data)


@router.get("/contracts")
def contracts(ctx: CtxDep, status: ContractStatus | None = None) -> list[ContractOut]:
    return service.list_contracts(ctx, status)


@router.get("/contracts/{contract_id}")
def contract(ctx: CtxDep, contract_id: int) -> ContractOut:
    return service.get_contract(ctx, contract_id)


@router.post("/contracts/{contract_id}/signature")
def sign_contract(ctx: CtxDep, contract_id: int, data: SignIn) -> ContractOut:
    return service.sign_contract(ctx, contract_id, data)


@router.post("/contracts/{contract_id}/declination")
def decline_contract(ctx: CtxDep, contract_id: int, data: EndReason) -> ContractOut:
    return service.decline_contract(ctx, contract_id, data.reason)


@router.post("/contracts/{contract_id}/termination")
def end_contract(ctx: CtxDep, contract_id: int, data: EndReason) -> ContractOut:
    return service.end_contract(ctx, contract_id, data.reason)


@router.post("/contracts/expiry")
def expire_contracts(ctx: CtxDep) -> dict[str, list[int]]:
    return {"ended": service.expire_contracts(ctx)}


@router.post("/contracts/{contract_id}/key", status_code=201)
def delivery_key(ctx: CtxDep, contract_id: int) -> DeliveryKey:
    return service.create_delivery_key(ctx, contract_id)


@router.get("/contracts/{contract_id}/file.csv")
def product_file(ctx: CtxDep, contract_id: int) -> Response:
    """The buyer of a file contract downloads the product's output (formula-safe CSV)."""
    content, name = service.download_product_file(ctx, contract_id)
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/contracts/{contract_id}/file-delivery")
def file_delivery(ctx: CtxDep, contract_id: int, data: FileDeliveryIn) -> ContractOut:
    return service.record_file_delivery(ctx, contract_id, data)


@router.post("/contracts/{contract_id}/filing")
def file_transaction(ctx: CtxDep, contract_id: int) -> ContractOut:
    return service.file_transaction(ctx, contract_id)


@router.post("/contracts/{contract_id}/evaluation")
def evaluate(ctx: CtxDep, contract_id: int, data: EvaluationIn) -> ContractOut:
    return service.evaluate_contract(ctx, contract_id, data)


@router.get("/revenue")
def revenue(ctx: CtxDep, year: int | None = None, unit_code: str | None = None) -> Revenue:
    return service.market_revenue(ctx, year, unit_code)


# ---------------------------------------------------------------- public


@router.get("/products")
def listed_json(ctx: PublicCtx, q: str = "") -> Listing:
    """The public listing: registered, compliant products that may be traded now."""
    return service.list_listed_products(ctx, q)


@router.get("/products/listed/{number}")
def listed_one(ctx: PublicCtx, number: str) -> ListedProduct:
    return service.listed_product(ctx, number)


@public.get("/open/market")
def listing_page(request: Request, ctx: PublicCtx, q: str = "") -> Response:
    return render(request, "market/listing.html", listing=service.list_listed_products(ctx, q), q=q)


@router.get("/notices")
def notices_json(ctx: PublicCtx) -> list[NoticeOut]:
    return service.list_notices(ctx)


@router.get("/verify/{number}")
def verify_json(ctx: PublicCtx, number: str, code: str | None = None) -> PublicCertificate:
    return service.verify_certificate(ctx, number, code)


@public.get("/open/market/verify/{number}", response_model=None)
def verify_page(
    request: Request, ctx: PublicCtx, number: str, code: str | None = None, format: str = ""
) -> Response:
    found = service.verify_certificate(ctx, number, code)
    if format == "json" or "application/json" in request.headers.get("accept", ""):
        return JSONResponse(found.model_dump(mode="json"))
    return render(request, "market/verify.html", c=found, code=code or "")


@public.get("/open/market/notices")
def notices_page(request: Request, ctx: PublicCtx) -> Response:
    return render(
        request, "market/notices.html", notices=service.list_notices(ctx), errors=[], done=False
    )


@public.post("/open/market/notices/{number}/objections")
def object_page(request: Request, ctx: PublicCtx, number: str, form: FormDep) -> Response:
    try:
        data = parse(ObjectionIn, form)
        service.file_objection(ctx, number, data)
    except Invalid as err:
        ctx.fail(err)
        errors = [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]
        return render(
            request,
            "market/notices.html",
            status=422,
            notices=service.list_notices(ctx),
            errors=errors or [{"field": "", "message": err.message.get(ctx.locale)}],
            done=False,
            number=number,
            form=form,
        )
    except ShuzhiError:
        raise
    return RedirectResponse("/open/market/notices?filed=1", status_code=303)
