"""Search tables: indexed documents, their facet value sets and synonym groups.

Facet values are stored once per distinct *set* of values (many documents share the
same unit, share type, status and class), and each document points at its set. Facet
counts are then a GROUP BY over one integer column of the matched documents followed by
a lookup in a small table, instead of touching several rows per matched document.

``search_doc_count`` keeps how many documents share each (kind, facet set, scope); it
is updated in the same transaction as the documents, so a search without text reads
its total and facet counts from a few hundred rows instead of every document.

The full-text part is backend-specific and lives outside the ORM: FTS5 tables
``search_fts`` (title, body) and ``search_fts_title`` (title alone), rowid =
``search_doc.id``, on SQLite; tsvector columns ``tsv`` and ``tsv_title`` on ``search_doc``
on PostgreSQL; created by the ``search_0001`` and ``search_0002`` migrations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, utcnow

KIND_CHARS = 40
KEY_CHARS = 200
FIELD_CHARS = 60
VALUE_CHARS = 200
TERM_CHARS = 100


class IndexedDoc(Base):
    __tablename__ = "search_doc"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_search_doc_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_CHARS))
    key: Mapped[str] = mapped_column(String(KEY_CHARS))
    scope_unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    facet_set_id: Mapped[int] = mapped_column(ForeignKey("search_facet_set.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FacetSet(Base):
    """One distinct set of facet values, identified by a digest of its sorted pairs."""

    __tablename__ = "search_facet_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)


class IndexedFacet(Base):
    """One facet value of one facet set."""

    __tablename__ = "search_facet"
    __table_args__ = (Index("ix_search_facet_field_value", "field", "value", "set_id"),)

    set_id: Mapped[int] = mapped_column(
        ForeignKey("search_facet_set.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(FIELD_CHARS), primary_key=True)
    value: Mapped[str] = mapped_column(String(VALUE_CHARS), primary_key=True)


class DocCount(Base):
    """How many documents of a kind share one facet set and scope (rows with n = 0 go).

    The scope may be NULL, so rows carry a surrogate id rather than a unique triple;
    readers always sum ``n``, which stays exact even if concurrent writers added two
    rows for the same triple.
    """

    __tablename__ = "search_doc_count"
    # Covering: totals and facet counts without text read this index alone.
    __table_args__ = (
        Index("ix_search_doc_count_bucket", "kind", "facet_set_id", "scope_unit_id", "n"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_CHARS))
    facet_set_id: Mapped[int] = mapped_column(ForeignKey("search_facet_set.id"))
    scope_unit_id: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class SynonymTerm(Base):
    """A term and the group it belongs to; a term is in at most one group."""

    __tablename__ = "search_synonym"

    term: Mapped[str] = mapped_column(String(TERM_CHARS), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, index=True)
