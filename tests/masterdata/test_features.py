"""The feature table: one row per record whatever the input, evidence-backed golden values."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.sources import SourceRecord

FIELDS = ("name", "resident_id", "sex", "birth_date", "phone", "address", "updated")
ENTITY_FIELDS = ("name", "uscc", "org_code", "registration_number", "legal_representative")
TEXT = st.one_of(st.none(), st.text(max_size=30))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({f: TEXT for f in FIELDS}), max_size=8), st.booleans())
def test_any_person_text_gives_one_row_per_record(
    rows: list[dict[str, str | None]], normalise: bool
) -> None:
    records = [SourceRecord("s", i + 1, r) for i, r in enumerate(rows)]
    table = build_features(records, normalise=normalise)
    assert table.num_rows == len(rows)
    assert table.column("row").to_pylist() == list(range(1, len(rows) + 1))
    # A golden resident ID is only ever a verified one.
    if normalise:
        for ok, golden in zip(
            table.column("ident_ok").to_pylist(),
            table.column("g_resident_id").to_pylist(),
            strict=True,
        ):
            assert golden is None or ok


@settings(max_examples=40, deadline=None)
@given(st.lists(st.fixed_dictionaries({f: TEXT for f in ENTITY_FIELDS}), max_size=6))
def test_any_entity_text_gives_one_row_per_record(rows: list[dict[str, str | None]]) -> None:
    records = [SourceRecord("s", i + 1, r) for i, r in enumerate(rows)]
    for normalise in (True, False):
        table = build_features(records, normalise=normalise, kind="legal_entity")
        assert table.num_rows == len(rows)


def test_full_width_and_lower_case_x_give_the_same_key() -> None:
    base = "11010519491231002X"
    records = [
        SourceRecord("s", 1, {"resident_id": base}),
        SourceRecord("s", 2, {"resident_id": base.lower()}),
        SourceRecord("s", 3, {"resident_id": "１１０１０５１９４９１２３１００２Ｘ"}),
    ]
    normalised = build_features(records)
    assert set(normalised.column("ident").to_pylist()) == {base}
    assert all(normalised.column("ident_ok").to_pylist())
    plain = build_features(records, normalise=False)
    assert len(set(plain.column("ident").to_pylist())) == 3
