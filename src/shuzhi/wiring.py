"""The composition of capabilities: who reacts to which hook event (``shuzhi.hooks``).

``register_all()`` is the one place the subscribers are listed. Every place that assembles
the service stack calls it before any service runs: ``create_app``, the CLI, the demo
builder, the benchmarks and the test session. It is idempotent, so calling it again (a
second app in one process, a test that builds the demo) changes nothing.

Order matters where two subscribers react to one event: they run in the order listed here.
"""

from __future__ import annotations

from shuzhi import hooks
from shuzhi.audit import service as audit
from shuzhi.gateway import indexing as gateway_indexing
from shuzhi.gateway import sealing as gateway_sealing
from shuzhi.market import service as market
from shuzhi.portal import service as portal
from shuzhi.quality import service as quality
from shuzhi.sandbox import service as sandbox
from shuzhi.secops import service as secops
from shuzhi.sharing import service as sharing


def register_all() -> None:
    """Subscribe every capability's reactions and seal the registry (idempotent)."""
    # A refused operation is recorded in the audit log.
    hooks.subscribe(hooks.OperationRefused, audit.on_operation_refused)
    # Grants and open-data publications rely on the published catalogue entry.
    hooks.subscribe(hooks.EntryWithdrawn, sharing.on_entry_withdrawn)
    hooks.subscribe(hooks.EntryWithdrawn, portal.on_entry_withdrawn)
    hooks.subscribe(hooks.EntryRepublished, sharing.on_entry_republished)
    hooks.subscribe(hooks.EntryRepublished, portal.on_entry_republished)
    # An authorisation agreement that ends takes the grants issued under it along.
    hooks.subscribe(hooks.AgreementEnded, sharing.on_agreement_ended)
    # Grants' masks follow the data: a stricter classification of what is served tightens them.
    hooks.subscribe(hooks.VersionLoaded, sharing.on_version_loaded)
    hooks.subscribe(hooks.VersionAccepted, sharing.on_version_accepted)
    hooks.subscribe(hooks.ClassificationChanged, sharing.on_classification_changed)
    # Security operations contains (or lifts) an agreement in force.
    hooks.subscribe(hooks.AgreementHeld, market.on_agreement_held)
    # Quality control checks and scores every loaded version.
    hooks.subscribe(hooks.VersionWritten, quality.on_version_written)
    # The gateway's key indexes of a new version are built before it becomes current.
    hooks.subscribe(hooks.VersionWritten, gateway_indexing.on_version_written)
    # ... and removed by the lake's garbage collection once their version is gone.
    hooks.subscribe(hooks.LakeCollecting, gateway_indexing.on_lake_collecting)
    # Verifying the audit log checks the gateway's call rows against the entries sealing them.
    hooks.subscribe(hooks.SealsChecking, gateway_sealing.on_seals_checking)
    # A rejected version's quality issues are not left on its unit's list.
    hooks.subscribe(hooks.VersionRejected, quality.on_version_rejected)
    # A revoked sandbox grant is recorded in the sandbox's trail (queries stop at once).
    hooks.subscribe(hooks.GrantRevoked, sandbox.on_grant_revoked)
    # The risk register re-assesses a dataset and its units when a fact it scores changes.
    hooks.subscribe(hooks.GrantIssued, secops.risk_on_grant_issued)
    hooks.subscribe(hooks.GrantRevoked, secops.risk_on_grant_revoked)
    hooks.subscribe(hooks.PublicationChanged, secops.risk_on_publication_changed)
    hooks.subscribe(hooks.VersionLoaded, secops.risk_on_version_loaded)
    hooks.subscribe(hooks.VersionAccepted, secops.risk_on_version_accepted)
    hooks.subscribe(hooks.ClassificationChanged, secops.risk_on_classification_changed)
    hooks.subscribe(hooks.EntryWithdrawn, secops.risk_on_entry_withdrawn)
    hooks.subscribe(hooks.EntryRepublished, secops.risk_on_entry_republished)
    hooks.subscribe(hooks.AgreementEnded, secops.risk_on_agreement_ended)
    hooks.REGISTRY.seal()
