"""Console texts in Simplified Chinese (default) and English."""

from __future__ import annotations

from starlette.requests import Request

from shuzhi.assess import texts as assess_texts
from shuzhi.audit import texts as audit_texts
from shuzhi.auth import texts as auth_texts
from shuzhi.catalog import texts as catalog_texts
from shuzhi.cockpit import texts as cockpit_texts
from shuzhi.gateway import texts as gateway_texts
from shuzhi.lake import texts as lake_texts
from shuzhi.market import texts as market_texts
from shuzhi.masterdata import pushback_texts as masterdata_pushback_texts
from shuzhi.masterdata import texts as masterdata_texts
from shuzhi.org import texts as org_texts
from shuzhi.portal import texts as portal_texts
from shuzhi.quality import texts as quality_texts
from shuzhi.sandbox import texts as sandbox_texts
from shuzhi.secops import texts as secops_texts
from shuzhi.sharing import texts as sharing_texts
from shuzhi.web import texts as web_texts

LOCALES = ("zh-CN", "en")
LOCALE_COOKIE = "shuzhi_lang"

# Each capability keeps its own texts; a key belongs to exactly one of them.
TEXT_SOURCES: tuple[dict[str, tuple[str, str]], ...] = (
    web_texts.TEXTS,
    auth_texts.TEXTS,
    audit_texts.TEXTS,
    org_texts.TEXTS,
    catalog_texts.TEXTS,
    lake_texts.TEXTS,
    quality_texts.TEXTS,
    masterdata_texts.TEXTS,
    masterdata_pushback_texts.TEXTS,
    sharing_texts.TEXTS,
    sandbox_texts.TEXTS,
    gateway_texts.TEXTS,
    portal_texts.TEXTS,
    market_texts.TEXTS,
    cockpit_texts.TEXTS,
    assess_texts.TEXTS,
    secops_texts.TEXTS,
)
TEXTS: dict[str, tuple[str, str]] = {
    key: pair for source in TEXT_SOURCES for key, pair in source.items()
}


def locale_of(request: Request, default: str = "zh-CN") -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    return chosen if chosen in LOCALES else default


def translate(locale: str, key: str, **values: object) -> str:
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if locale == "en" else pair[0]
    return text.format(**values) if values else text
