"""Every capability's tables on one metadata object (for migrations and tests)."""

from shuzhi.assess import models as assess_models
from shuzhi.audit import models as audit_models
from shuzhi.auth import models as auth_models
from shuzhi.catalog import models as catalog_models
from shuzhi.catalog.projects import models as catalog_project_models
from shuzhi.cockpit import models as cockpit_models
from shuzhi.db.base import Base
from shuzhi.gateway import models as gateway_models
from shuzhi.lake import models as lake_models
from shuzhi.market import books_models as market_books_models
from shuzhi.market import models as market_models
from shuzhi.masterdata import models as masterdata_models
from shuzhi.masterdata import pushback_models as masterdata_pushback_models
from shuzhi.org import models as org_models
from shuzhi.portal import models as portal_models
from shuzhi.quality import models as quality_models
from shuzhi.sandbox import models as sandbox_models
from shuzhi.search import models as search_models
from shuzhi.secops import models as secops_models
from shuzhi.secops import review_models as secops_review_models
from shuzhi.secops import risk_models as secops_risk_models
from shuzhi.sharing import models as sharing_models

metadata = Base.metadata

__all__ = [
    "assess_models",
    "audit_models",
    "auth_models",
    "catalog_models",
    "catalog_project_models",
    "cockpit_models",
    "gateway_models",
    "lake_models",
    "market_books_models",
    "market_models",
    "masterdata_models",
    "masterdata_pushback_models",
    "metadata",
    "org_models",
    "portal_models",
    "quality_models",
    "sandbox_models",
    "search_models",
    "secops_models",
    "secops_review_models",
    "secops_risk_models",
    "sharing_models",
]
