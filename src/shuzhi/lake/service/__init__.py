"""Aggregation (归集): load a source into a catalogue entry's dataset as a new version, find
what is in it, and decide which version is current.

A load runs the lake engine (``writer.write_version``: atomic, rejects counted), then profiles,
classifies and checks the version through the query engine, compares its columns with the
entry's data items and runs the dataset's quality rules. A version whose columns drifted from
the catalogue waits for the unit CDO (pending_review); otherwise it becomes current and the
previous current version is superseded. Loading the same content again changes nothing.
A failed load leaves the previous version current, writes nothing and is audited.
A load holds no database transaction while it reads the source and analyses the version:
it registers the version in one short transaction at the end (see ``ingest``).
"""

from __future__ import annotations

from shuzhi.lake.service.common import (
    CYCLE_PERIODS,
    DATASETS_DIR,
    GRACE,
    SAMPLE_ROWS_MAX,
    UPLOADS_DIR,
    Progress,
    close_engine,
    describe_source,
    lake_root,
    manifest_file,
    open_engine,
    query_engine,
    safe_url,
    stored_path,
    version_files,
)
from shuzhi.lake.service.freshness import cycle_period, dataset_figures, freshness_report
from shuzhi.lake.service.ingest import (
    CLAIM_ATTEMPTS,
    UPLOAD_GRACE_SECONDS,
    IngestOptions,
    entry_facts,
    ingest,
    set_quality_score,
    staged_upload,
)
from shuzhi.lake.service.leftovers import collect_lake_garbage
from shuzhi.lake.service.pages import dataset_overview, version_detail
from shuzhi.lake.service.pulls import define_source, list_sources, run_due_sources
from shuzhi.lake.service.reading import (
    current_scores,
    current_version,
    get_dataset_version,
    hidden_columns_of,
    list_dataset_versions,
    sample_rows,
    update_cycle_of,
    version_of,
)
from shuzhi.lake.service.review import accept_drift, override_classification, reject_drift
from shuzhi.lake.service.tables import (
    TABLES_DIR,
    Dialect,
    TableVersion,
    link_tables,
    published_tables,
    statements,
    table_name,
)

__all__ = [
    "CLAIM_ATTEMPTS",
    "CYCLE_PERIODS",
    "DATASETS_DIR",
    "GRACE",
    "SAMPLE_ROWS_MAX",
    "TABLES_DIR",
    "UPLOADS_DIR",
    "UPLOAD_GRACE_SECONDS",
    "Dialect",
    "IngestOptions",
    "Progress",
    "TableVersion",
    "accept_drift",
    "close_engine",
    "collect_lake_garbage",
    "current_scores",
    "current_version",
    "cycle_period",
    "dataset_figures",
    "dataset_overview",
    "define_source",
    "describe_source",
    "entry_facts",
    "freshness_report",
    "get_dataset_version",
    "hidden_columns_of",
    "ingest",
    "lake_root",
    "link_tables",
    "list_dataset_versions",
    "list_sources",
    "manifest_file",
    "open_engine",
    "override_classification",
    "published_tables",
    "query_engine",
    "reject_drift",
    "run_due_sources",
    "safe_url",
    "sample_rows",
    "set_quality_score",
    "staged_upload",
    "statements",
    "stored_path",
    "table_name",
    "update_cycle_of",
    "version_detail",
    "version_files",
    "version_of",
]
