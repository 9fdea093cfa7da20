"""The ASGI application: ``create_app(settings)`` wires capabilities, errors and static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from shuzhi import __version__
from shuzhi.assess import api as assess_api
from shuzhi.assess import views as assess_views
from shuzhi.audit import anchors as audit_anchors
from shuzhi.audit import api as audit_api
from shuzhi.audit import views as audit_views
from shuzhi.auth import api as auth_api
from shuzhi.auth import views as auth_views
from shuzhi.catalog import api as catalog_api
from shuzhi.catalog import views as catalog_views
from shuzhi.catalog.excel import api as catalog_excel_api
from shuzhi.catalog.excel import views as catalog_excel_views
from shuzhi.catalog.projects import api as catalog_projects_api
from shuzhi.catalog.projects import views as catalog_projects_views
from shuzhi.cockpit import api as cockpit_api
from shuzhi.cockpit import views as cockpit_views
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.gateway import api as gateway_api
from shuzhi.gateway import views as gateway_views
from shuzhi.gateway.runtime import GatewayOptions, GatewayRuntime
from shuzhi.gateway.runtime import lifespan as gateway_lifespan
from shuzhi.lake import api as lake_api
from shuzhi.lake import service as lake_service
from shuzhi.lake import views as lake_views
from shuzhi.market import api as market_api
from shuzhi.market import books_api as market_books_api
from shuzhi.market import books_views as market_books_views
from shuzhi.market import views as market_views
from shuzhi.masterdata import api as masterdata_api
from shuzhi.masterdata import pushback_api as masterdata_pushback_api
from shuzhi.masterdata import pushback_views as masterdata_pushback_views
from shuzhi.masterdata import views as masterdata_views
from shuzhi.org import api as org_api
from shuzhi.org import views as org_views
from shuzhi.portal import api as portal_api
from shuzhi.portal import service as portal_service
from shuzhi.portal import views as portal_views
from shuzhi.quality import api as quality_api
from shuzhi.quality import views as quality_views
from shuzhi.sandbox import api as sandbox_api
from shuzhi.sandbox import views as sandbox_views
from shuzhi.secops import api as secops_api
from shuzhi.secops import report_api as secops_report_api
from shuzhi.secops import report_views as secops_report_views
from shuzhi.secops import risk_api as secops_risk_api
from shuzhi.secops import risk_views as secops_risk_views
from shuzhi.secops import views as secops_views
from shuzhi.secops.runtime import Evaluator
from shuzhi.settings import Settings
from shuzhi.sharing import api as sharing_api
from shuzhi.sharing import views as sharing_views
from shuzhi.web import accesslog, problems
from shuzhi.web.deps import csrf_protect
from shuzhi.web.headers import SecurityHeaders
from shuzhi.wiring import register_all

STATIC = Path(__file__).parent / "web" / "static"
# Capabilities register here, API routers first; each brings its api.py and views.py.
ROUTERS = [
    # The gateway's consumer routes come first: they are the hot path, matched in order.
    gateway_api.router,
    auth_api.router,
    org_api.router,
    audit_api.router,
    catalog_excel_api.router,
    catalog_projects_api.router,
    catalog_api.router,
    lake_api.router,
    quality_api.router,
    masterdata_api.router,
    masterdata_pushback_api.router,
    sharing_api.router,
    sandbox_api.router,
    portal_api.router,
    gateway_api.stats_router,
    cockpit_api.router,
    assess_api.router,
    market_api.router,
    market_books_api.router,
    market_api.public,
    secops_api.router,
    secops_risk_api.router,
    secops_report_api.router,
    auth_views.router,
    org_views.router,
    audit_views.router,
    catalog_excel_views.router,
    catalog_projects_views.router,
    catalog_views.router,
    lake_views.router,
    quality_views.router,
    masterdata_views.router,
    masterdata_pushback_views.router,
    sharing_views.router,
    sandbox_views.router,
    gateway_views.router,
    portal_views.router,
    cockpit_views.router,
    assess_views.router,
    market_views.router,
    market_books_views.router,
    secops_views.router,
    secops_risk_views.router,
    secops_report_views.router,
]


def vendor_dir(settings: Settings) -> Path | None:
    """Front-end packages installed from the npm registry (htmx); optional: pages work without."""
    candidates = [
        settings.static_vendor_dir,
        Path.cwd() / "node_modules",
        Path(__file__).resolve().parents[2] / "node_modules",
    ]
    for base in candidates:
        if base is not None and (base / "htmx.org" / "dist" / "htmx.min.js").exists():
            return base / "htmx.org" / "dist"
    return None


def echarts_dir(settings: Settings) -> Path | None:
    """ECharts from the npm registry, for the cockpit's charts (tables work without it)."""
    vendor = vendor_dir(settings)
    base = vendor.parents[1] if vendor is not None else None
    if base is not None and (base / "echarts" / "dist" / "echarts.common.min.js").exists():
        return base / "echarts" / "dist"
    return None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The gateway's lifespan; at shutdown the portal also writes the usage counts it holds,
    and then the audit chain's head is anchored outside the database."""
    async with gateway_lifespan(app):
        evaluator: Evaluator = app.state.secops
        evaluator.start()
        try:
            yield
        finally:
            await run_in_threadpool(evaluator.close)
            await run_in_threadpool(portal_service.flush_usage, app.state.database)
    await run_in_threadpool(audit_anchors.anchor_at_shutdown, app.state.database)


def create_app(
    settings: Settings, *, database: Database | None = None, migrate: bool = True
) -> FastAPI:
    register_all()  # the capabilities' reactions to each other's hook events
    database = database or Database(settings)
    if migrate:
        upgrade(database)
    # Keyed gateway lookups are answered ahead of the middleware (gateway.api.LookupFirstApp).
    app = gateway_api.LookupFirstApp(
        title="Shuzhi (数治) API",
        version=__version__,
        description="Catalogue, aggregate, share, open and protect public data. "
        "Authenticate with a session cookie or `Authorization: Bearer <api key>`.",
        dependencies=[Depends(csrf_protect)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    # The one query engine of this app (dataset contents are read only through it).
    app.state.query_engine = lake_service.open_engine(database)
    app.state.gateway = GatewayRuntime(
        database, app.state.query_engine, GatewayOptions.from_settings(settings)
    )
    # Security monitoring rules, run every few seconds in a child process (docs/secops.md).
    app.state.secops = Evaluator(database, settings.secops_evaluate_seconds, process=True)
    problems.install(app)
    # Outermost of our layers (the gateway's keyed lookups add the same headers themselves).
    app.add_middleware(SecurityHeaders, https=settings.cookie_secure)
    # Access-log lines keep no resident IDs, phone numbers or lookup keys.
    accesslog.install(settings.secret_key)

    @app.get("/healthz", tags=["system"])
    def healthz() -> dict[str, str]:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": database.capabilities.name}

    for router in ROUTERS:
        app.include_router(router)
    charts = echarts_dir(settings)
    if charts is not None:
        app.mount("/static/vendor/echarts", StaticFiles(directory=charts), name="echarts")
    vendor = vendor_dir(settings)
    if vendor is not None:
        app.mount("/static/vendor", StaticFiles(directory=vendor), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
