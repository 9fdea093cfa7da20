"""A library run, computed: member versions in, entities, memberships, events and conflicts
out. No database here; ``service`` reads the definitions and writes the results. One module
per stage: ``records`` (what a run reads and returns, the feature cache), ``full``,
``incremental``, ``decisions`` (reviewers' decisions, pairs left for review) and ``finish``
(golden records and conflicts).

**Full run** (``full_run``): every record of every member's current version is linked by
the engine (``linkage.link``). Entity IDs stay stable across runs: each new cluster takes
the ID of the previous run's entity that shares the most of its records (records compared
by member and digest of their mapped values; each previous ID is given once, to its
largest overlap); a cluster sharing nothing gets a fresh ID (``P``/``E`` + 16 hex digits
of a hash of its anchor record's member, version and row).

**Incremental run** (``incremental_run``): the records of members whose version did not
change keep their entity. In a changed member's new version a record whose digest was there
before keeps its entity too; the others are *new* (a record whose mapped values changed
counts as removed and new, and as a *changed* record when it stands at the row of a removed
one), and the previous records left over are *removed*. The new records are linked by the
delta engine (``delta.link_delta``) against the records kept, scored with the model of the
full run the library continues from; the engine clusters at entity level (existing entities
are not re-clustered), applies the reviewers' decisions and the cannot-link on verified
identifiers, and says what it merged and why. A merge keeps the ID of the entity with more
records; a changed record that lands in another entity is recorded as a split of its old
one, one still alone keeps its old entity's ID; an entity left without records is retired.
A removed record that alone held an entity together does not split it until the next full
run.
"""

from __future__ import annotations

from shuzhi.masterdata.runner.finish import category, find_conflicts
from shuzhi.masterdata.runner.full import full_run
from shuzhi.masterdata.runner.incremental import incremental_run
from shuzhi.masterdata.runner.records import (
    ConflictFinding,
    Decision,
    Event,
    MemberVersion,
    PreviousRecord,
    RecordRef,
    ReviewFinding,
    RunResult,
    cache_table,
    digest,
    features_with_cache,
    fresh_id,
    read_member,
)

__all__ = [
    "ConflictFinding",
    "Decision",
    "Event",
    "MemberVersion",
    "PreviousRecord",
    "RecordRef",
    "ReviewFinding",
    "RunResult",
    "cache_table",
    "category",
    "digest",
    "features_with_cache",
    "find_conflicts",
    "fresh_id",
    "full_run",
    "incremental_run",
    "read_member",
]
