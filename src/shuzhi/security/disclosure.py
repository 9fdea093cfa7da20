"""Disclosure rules: what an answer may reveal, beyond who may ask for it.

Masking hides characters of a value in the answer; it hides nothing if the question can
still use the value. A condition ``公民身份号码 like_prefix 3301061990041`` answered with
"one row" or "no rows" tells the caller the next hidden digit, a page ordered by the ID
tells where it sits among the others, a count grouped by it lists the IDs themselves. So
every place where a value leaves the server builds one ``Disclosure`` for the caller and
asks it before running the question:

- a *protected* column (one the caller sees masked, pseudonymised or redacted, or — where
  the caller sees no rows at all, as in the cockpit — any personal-information column) may
  not be filtered (any operator: equality, ranges, ``in``, prefixes, null tests), ordered
  or grouped by;
- the one exception is a column on which the grant explicitly allows an exact-match
  lookup (the gateway's keyed lookup: one full key, one record, metered as a lookup);
- grouped figures over fewer than ``min_group_size`` rows are suppressed
  (``MIN_GROUP_SIZE``, 5 by default): a group that small points at a handful of people.

Refusals are ``Forbidden`` errors (403), bilingual, naming the column (which the caller may
know about) and never the value it tried. Callers audit them as they audit any refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shuzhi.errors import Forbidden
from shuzhi.lake.query import Filter
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel

MIN_GROUP_SIZE = 5


class Use(StrEnum):
    """What a question does with a column."""

    FILTER = "filter"
    ORDER = "order"
    GROUP = "group"
    LOOKUP = "lookup"
    MEASURE = "measure"  # summed, averaged or its extremes taken


_USE_ZH = {
    Use.FILTER: "筛选",
    Use.ORDER: "排序",
    Use.GROUP: "分组",
    Use.LOOKUP: "按键查询",
    Use.MEASURE: "汇总计算",
}


def is_personal(category: str | None) -> bool:
    """Whether a category code is personal (or sensitive personal) information."""
    try:
        info = CATEGORY_INFO[Category(category or Category.NONE.value)]
    except ValueError:
        return True  # an unknown category is treated as the worst case
    return info.personal or info.sensitive


class DisclosureRefused(Forbidden):
    """A question that would reveal what the caller may only see masked."""

    def __init__(self, zh: str, en: str, *, column: str, use: Use, operation: str) -> None:
        super().__init__(zh, en, operation=operation, target=f"{use.value}:{column[:100]}")
        self.column = column
        self.use = use


@dataclass(frozen=True)
class Disclosure:
    """The disclosure rules for one caller over one dataset.

    ``protected``: columns whose values the caller may not use in a question;
    ``lookup``: protected columns on which an exact-match lookup of one full key is allowed;
    ``operation``: the operation named in refusals (and their audit records).
    """

    protected: frozenset[str]
    lookup: frozenset[str] = field(default_factory=frozenset)
    min_group_size: int = MIN_GROUP_SIZE
    operation: str = ""

    # ------------------------------------------------------------ construction

    @classmethod
    def from_masking(
        cls,
        levels: Mapping[str, MaskLevel],
        *,
        key_column: str | None = None,
        operation: str = "",
        min_group_size: int = MIN_GROUP_SIZE,
    ) -> Disclosure:
        """Rules for a caller who sees each column at the given mask level (a grant).

        Every column not shown as it is (partial mask, pseudonym, redaction) is protected;
        ``key_column`` is the column the grant offers exact-match lookups on.
        """
        protected = frozenset(c for c, level in levels.items() if level is not MaskLevel.NONE)
        lookup = frozenset({key_column}) if key_column else frozenset()
        return cls(protected, lookup, min_group_size, operation)

    @classmethod
    def from_categories(
        cls,
        categories: Mapping[str, str],
        *,
        operation: str = "",
        min_group_size: int = MIN_GROUP_SIZE,
    ) -> Disclosure:
        """Rules for a caller who sees no rows (figures only): every personal column is
        protected, whatever its default mask, and no lookup is offered."""
        protected = frozenset(c for c, cat in categories.items() if is_personal(cat))
        return cls(protected, frozenset(), min_group_size, operation)

    # ------------------------------------------------------------ checks

    def is_protected(self, column: str) -> bool:
        return column in self.protected

    def _refuse(self, column: str, use: Use) -> DisclosureRefused:
        shown = column[:100]
        if use is Use.FILTER and column in self.lookup:
            zh = (
                f"列 {shown} 对您脱敏显示，不能作为筛选条件；"
                "如需查询某一条记录，请使用按完整键值查询的接口。"
            )
            en = (
                f"Column {shown!r} is masked for you and cannot be used in conditions; "
                "to read one record, use the lookup by its full key."
            )
        elif use is Use.GROUP:
            zh = f"列 {shown} 含个人信息或对您脱敏显示，不能用于分组。"
            en = f"Column {shown!r} holds personal data or is masked for you; it cannot group."
        elif use is Use.MEASURE:
            zh = f"列 {shown} 含个人信息或对您脱敏显示，不能求和、求平均或取最值。"
            en = (
                f"Column {shown!r} holds personal data or is masked for you; it cannot be"
                " summed, averaged or have its extremes taken."
            )
        else:
            zh = f"列 {shown} 含个人信息或对您脱敏显示，不能用于{_USE_ZH[use]}。"
            en = (
                f"Column {shown!r} holds personal data or is masked for you; "
                f"it cannot be used to {use.value}."
            )
        return DisclosureRefused(zh, en, column=column, use=use, operation=self.operation)

    def check_filter(self, filters: Iterable[Filter]) -> None:
        """Refuse any condition on a protected column (every operator reveals something)."""
        for f in filters:
            if f.column in self.protected:
                raise self._refuse(f.column, Use.FILTER)

    def check_order(self, columns: Iterable[str]) -> None:
        for column in columns:
            if column in self.protected:
                raise self._refuse(column, Use.ORDER)

    def check_group(self, columns: Iterable[str]) -> None:
        for column in columns:
            if column in self.protected:
                raise self._refuse(column, Use.GROUP)

    def check_lookup(self, column: str) -> None:
        """An exact-match lookup of one full key: only on the column the grant offers it on
        (or on a column the caller sees as it is)."""
        if column in self.protected and column not in self.lookup:
            raise self._refuse(column, Use.LOOKUP)

    def violations(
        self,
        *,
        filters: Iterable[str] = (),
        order: Iterable[str] = (),
        group: Iterable[str] = (),
    ) -> list[tuple[str, Use]]:
        """Every (column, use) these rules refuse, for forms that report all errors at once."""
        found: list[tuple[str, Use]] = []
        for columns, use in ((filters, Use.FILTER), (order, Use.ORDER), (group, Use.GROUP)):
            found += [(c, use) for c in columns if c in self.protected]
        return found

    def refusal(self, column: str, use: Use) -> DisclosureRefused:
        """The error these rules give for ``column`` used as ``use`` (for error collectors)."""
        return self._refuse(column, use)

    # ------------------------------------------------------------ small groups

    def suppress(self, count: int | None) -> bool:
        """Whether a grouped figure over ``count`` rows must not be shown."""
        return count is not None and 0 < count < self.min_group_size

    def keep_groups(
        self, groups: Sequence[tuple[Any, Any, int | None]]
    ) -> list[tuple[Any, Any, int | None]]:
        """(group, figure, rows) triples without those over too few rows."""
        return [g for g in groups if not self.suppress(g[2])]
