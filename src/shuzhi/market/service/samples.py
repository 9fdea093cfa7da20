"""Whether a product's sample holds personal information in clear, found the way the lake
finds it in a loaded dataset.

Each value is first normalised as the classifier reads it (NFKC: full-width digits and
letters become ASCII). Then, for every column:

- the lake's classifier (``lake.analysis.classify``) classifies the column from its name and
  its values, honouring the classification the inputs' source units confirmed (a column they
  corrected keeps their category). A column of a category the platform masks is in clear
  when one of its values differs from its own masked form (``CategoryInfo.mask``, the masking
  the lake applies: masked values are left as they are);
- every value is searched for a resident ID, a mobile number or a bank card written whole or
  in groups (``330106 19800101 0071``, ``+86 139-1234-5678``) inside other text, each stretch
  of digits judged by the same classifier, whatever the column is called.

Only column names and categories are reported, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from shuzhi.lake import analysis
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.classifier import classify_column
from shuzhi.security.masking import MaskLevel
from shuzhi.standards.text import normalize

# What a value may hold inside other text: identifiers of one person on their own.
IDENTIFIERS = frozenset({Category.RESIDENT_ID, Category.MOBILE_PHONE, Category.BANK_CARD})
# Runs of digit groups joined by single spaces or dashes (a phone may start with +, a
# group end in the X of an ID), and how many groups one identifier spans at most.
_RUN = re.compile(r"\+?[0-9]+[Xx]?(?:[ \-][0-9]+[Xx]?)*")
_SEPARATOR = re.compile(r"[ \-]")
MAX_GROUPS = 8


def _columns(sample: Sequence[Mapping[str, object]]) -> dict[str, list[str]]:
    """The sample's values by column, as the classifier reads them."""
    columns: dict[str, list[str]] = {}
    for row in sample:
        for name, value in row.items():
            values = columns.setdefault(str(name), [])
            if value is not None:
                values.append(normalize(str(value)))
    return columns


def _in_clear(category: Category, values: Sequence[str]) -> bool:
    """Whether a value of a masked category differs from its masked form."""
    info = CATEGORY_INFO[category]
    if info.default_level is MaskLevel.NONE:
        return False
    return any(info.mask(v) != v for v in values if v)


def _stretches(text: str) -> Iterator[str]:
    """Each stretch of consecutive digit groups of each run in ``text`` (an ID followed by
    an X that is not its check character is also tried without it)."""
    for run in _RUN.findall(text):
        groups = _SEPARATOR.split(run)
        for i in range(len(groups)):
            for j in range(i + 1, min(len(groups), i + MAX_GROUPS) + 1):
                stretch = "".join(groups[i:j])
                yield stretch
                if stretch[-1] in "Xx":
                    yield stretch[:-1]


def _identifier_in(values: Sequence[str]) -> Category | None:
    for value in values:
        for stretch in _stretches(value):
            found = classify_column("", [stretch]).category
            if found in IDENTIFIERS:
                return found
    return None


def unmasked_columns(
    sample: Sequence[Mapping[str, object]], confirmed: Mapping[str, tuple[str, str]]
) -> list[tuple[str, Category]]:
    """The sample's columns holding personal information in clear, with its category, in
    column order; ``confirmed`` holds the source units' decisions (column → category,
    decided_by) on the inputs' columns."""
    columns = _columns(sample)
    found = []
    for column in analysis.classify(columns, confirmed):
        category = Category(column.category)
        values = columns[column.name]
        if _in_clear(category, values):
            found.append((column.name, category))
        elif (identifier := _identifier_in(values)) is not None:
            found.append((column.name, identifier))
    return found
