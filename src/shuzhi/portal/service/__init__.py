"""Open data (数据开放): what the provider opens, what the public reads, who may read more.

Publication guard: an entry is opened only when it is published in the catalogue, its open
type is unconditional or conditional, and its current dataset version holds no personal
column the provider has not confirmed to be served de-identified. The guard is checked again
whenever data leaves: a newer version with an unconfirmed personal column stops downloads
until the provider republishes.

Reading is public and needs no account: these functions take an anonymous ``Ctx``.
Conditionally open data is read only with the key of an approved application.
"""

from __future__ import annotations

from shuzhi.portal.service.applications import (
    applicant_for_session,
    authorised_applicant,
    change_applicant_password,
    decide_open_application,
    issue_applicant_key,
    list_open_applications,
    login_applicant,
    may_manage,
    my_applications,
    register_applicant,
    revoke_open_application,
    submit_open_application,
)
from shuzhi.portal.service.common import (
    AGREEMENT_VERSION,
    APPLICANT_KEY_KIND,
    APPLICANT_KINDS,
    DECISION_DAYS,
    FACETS,
    KEY_DAYS,
    MAX_PAGE,
    PREVIEW_ROWS,
    SEARCH_KIND,
    DataRelease,
    masked_batches,
)
from shuzhi.portal.service.downloads import release
from shuzhi.portal.service.guard import (
    close_dataset,
    entry_republished,
    entry_withdrawn,
    list_publications,
    on_entry_republished,
    on_entry_withdrawn,
    open_candidates,
    open_dataset,
    publication_unit,
    republish_dataset,
    resume_publication,
    suspend_publication,
)
from shuzhi.portal.service.reading import (
    LABELS_SECONDS,
    dataset_page,
    get_open_dataset,
    labels,
    list_open_codes,
    open_datasets,
    open_unit,
    open_units,
    search_open,
    search_words,
)
from shuzhi.portal.service.usage import (
    count_api_use,
    count_use,
    count_visitor,
    flush_usage,
    home_figures,
    portal_figures,
    seed_usage,
    visitor_digest,
)

__all__ = [
    "AGREEMENT_VERSION",
    "APPLICANT_KEY_KIND",
    "APPLICANT_KINDS",
    "DECISION_DAYS",
    "FACETS",
    "KEY_DAYS",
    "LABELS_SECONDS",
    "MAX_PAGE",
    "PREVIEW_ROWS",
    "SEARCH_KIND",
    "DataRelease",
    "applicant_for_session",
    "authorised_applicant",
    "change_applicant_password",
    "close_dataset",
    "count_api_use",
    "count_use",
    "count_visitor",
    "dataset_page",
    "decide_open_application",
    "entry_republished",
    "entry_withdrawn",
    "flush_usage",
    "get_open_dataset",
    "home_figures",
    "issue_applicant_key",
    "labels",
    "list_open_applications",
    "list_open_codes",
    "list_publications",
    "login_applicant",
    "masked_batches",
    "may_manage",
    "my_applications",
    "on_entry_republished",
    "on_entry_withdrawn",
    "open_candidates",
    "open_dataset",
    "open_datasets",
    "open_unit",
    "open_units",
    "portal_figures",
    "publication_unit",
    "register_applicant",
    "release",
    "republish_dataset",
    "resume_publication",
    "revoke_open_application",
    "search_open",
    "search_words",
    "seed_usage",
    "submit_open_application",
    "suspend_publication",
    "visitor_digest",
]
