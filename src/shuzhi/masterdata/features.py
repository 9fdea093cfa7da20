"""Records → the feature table the linkage engine compares, one row per source record.

With ``normalise`` (the default) every record goes through ``normalize.normalize_person``:
the keys are the normalised name, its pinyin key and surname reading, the resident ID's
18-character number (verified or not: a typo'd ID still blocks), the birth date and sex
(declared, else read from the ID), the phone's canonical digits, the address's division
code and its place below the county (``place``). The golden-record columns (``g_*``) hold
only what the evidence supports: a resident ID only when it is valid, a birth date or sex
declared or read from a *valid* ID.

Without ``normalise`` the raw text is compared as written (trimmed): the baseline the
benchmark sets the normalisation against.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pyarrow as pa

from shuzhi.masterdata.normalize.addresses import Address, parse_address
from shuzhi.masterdata.normalize.evidence import Check
from shuzhi.masterdata.normalize.records import normalize_entity, normalize_person
from shuzhi.masterdata.sources import SourceRecord
from shuzhi.standards.text import is_blank

KEY_COLUMNS = (
    "name",
    "name_pinyin",
    "surname_pinyin",
    "ident",
    "birth_date",
    "birth_year",
    "sex",
    "phone",
    "adcode",
    "city",
    "place",
)
GOLDEN_COLUMNS = (
    "g_name",
    "g_resident_id",
    "g_sex",
    "g_birth_date",
    "g_phone",
    "g_address",
    "g_adcode",
)
ENTITY_KEY_COLUMNS = (
    "name",
    "name_core",
    "branch",
    "ident",
    "org_code",
    "regno",
    "rep_pinyin",
    "adcode",
    "city",
)
ENTITY_GOLDEN_COLUMNS = (
    "g_name",
    "g_uscc",
    "g_org_code",
    "g_registration_number",
    "g_legal_representative",
    "g_address",
    "g_adcode",
)
# What a resident ID (or USCC) written in a record amounts to (for golden records and conflicts).
ID_STATES = ("valid", "check_failed", "malformed", "missing")


BATCH = 65_536


@lru_cache(maxsize=20_000)
def _address(raw: str | None) -> Address:
    return parse_address(raw)


def _text(value: str | None) -> str | None:
    if value is None or is_blank(value):
        return None
    return value.strip()


def _place(address: Address) -> str | None:
    """The address below its county (street or town, community, road and number) when the
    county is known: two records at the same place of the same county share this."""
    if address.county is None:
        return None
    parts = (address.street or "", address.community or "", address.detail or "")
    return "|".join(parts) if any(parts) else None


def _id_state(check_digit: Check, shape: Check, valid: bool) -> str:
    if shape is Check.UNKNOWN:
        return "missing"
    if shape is Check.INVALID:
        return "malformed"
    return "valid" if valid else "check_failed"


def build_features(
    records: Iterable[SourceRecord], normalise: bool = True, kind: str = "person"
) -> pa.Table:
    """The feature table: ``unique_id`` (0-based, input order), ``source``, ``row``, the key
    columns, ``ident`` (resident ID or USCC) and ``ident_ok`` (verified), ``id_state``,
    ``id_raw``, ``updated`` and the golden columns."""
    entity = kind == "legal_entity"
    keys = ENTITY_KEY_COLUMNS if entity else KEY_COLUMNS
    golden = ENTITY_GOLDEN_COLUMNS if entity else GOLDEN_COLUMNS
    names = ("unique_id", "source", "row", *keys, "ident_ok", "id_state", "id_raw", "updated")
    names += golden
    types = {"unique_id": pa.int64(), "row": pa.int64(), "ident_ok": pa.bool_()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in names])
    cols: dict[str, list[object]] = {c: [] for c in names}
    batches: list[pa.RecordBatch] = []

    def flush() -> None:
        # Python lists are turned into Arrow every BATCH records, so the objects of at most
        # one batch are alive at a time (a million records would otherwise hold ~2 GB).
        batches.append(
            pa.record_batch([pa.array(cols[c], type=schema.field(c).type) for c in names], schema)
        )
        for column in cols.values():
            column.clear()

    for uid, record in enumerate(records):
        if uid and uid % BATCH == 0:
            flush()
        f = record.fields
        cols["unique_id"].append(uid)
        cols["source"].append(record.source)
        cols["row"].append(record.row)
        cols["updated"].append(_text(f.get("updated")))
        cols["id_raw"].append(f.get("uscc" if entity else "resident_id"))
        if entity:
            _entity(cols, f, normalise)
        elif normalise:
            _normalised(cols, f)
        else:
            _raw(cols, f)
    flush()
    return pa.Table.from_batches(batches, schema).combine_chunks()


def _normalised(cols: dict[str, list[object]], f: dict[str, str | None]) -> None:
    p = normalize_person({k: v for k, v in f.items() if k != "address"})
    address = _address(f.get("address"))
    keys = p.match_keys()
    rid = p.resident_id
    ident_ok = rid.valid
    born = keys["birth_date"]
    adcode = address.adcode
    for column in ("name", "name_pinyin", "surname_pinyin", "sex", "phone"):
        cols[column].append(keys[column])
    cols["ident"].append(rid.number)
    cols["birth_date"].append(born)
    cols["birth_year"].append(born[:4] if born else None)
    cols["adcode"].append(adcode)
    cols["city"].append(adcode[:4] if adcode and len(adcode) >= 4 else None)
    cols["place"].append(_place(address))
    cols["ident_ok"].append(ident_ok)
    cols["id_state"].append(_id_state(rid.check_digit, rid.shape, ident_ok))
    # Golden candidates: only what the evidence supports.
    cols["g_name"].append(p.name.value)
    cols["g_resident_id"].append(rid.number if ident_ok else None)
    declared_sex = p.sex.value if p.sex.check is Check.VALID else None
    id_sex = rid.sex if ident_ok else None
    cols["g_sex"].append(declared_sex or id_sex)
    declared_birth = p.birth_date.value
    if declared_birth is not None and "month_only" in p.birth_date.flags:
        declared_birth = None
    id_birth = rid.birth_date.isoformat() if ident_ok and rid.birth_date else None
    cols["g_birth_date"].append(declared_birth or id_birth)
    cols["g_phone"].append(p.phone.value)
    cols["g_address"].append(address.text or None)
    cols["g_adcode"].append(adcode)


def _raw(cols: dict[str, list[object]], f: dict[str, str | None]) -> None:
    name = _text(f.get("name"))
    rid = _text(f.get("resident_id"))
    born = _text(f.get("birth_date"))
    address = _text(f.get("address"))
    cols["name"].append(name)
    cols["name_pinyin"].append(name)
    cols["surname_pinyin"].append(name[0] if name else None)
    cols["ident"].append(rid)
    cols["birth_date"].append(born)
    cols["birth_year"].append(born[:4] if born else None)
    cols["sex"].append(_text(f.get("sex")))
    cols["phone"].append(_text(f.get("phone")))
    cols["adcode"].append(address)
    cols["city"].append(None)
    cols["place"].append(None)
    cols["ident_ok"].append(False)  # no evidence: no cannot-link constraint either
    cols["id_state"].append("missing" if rid is None else "unchecked")
    cols["g_name"].append(name)
    cols["g_resident_id"].append(rid)
    cols["g_sex"].append(cols["sex"][-1])
    cols["g_birth_date"].append(born)
    cols["g_phone"].append(cols["phone"][-1])
    cols["g_address"].append(address)
    cols["g_adcode"].append(None)


def _entity(cols: dict[str, list[object]], f: dict[str, str | None], normalise: bool) -> None:
    if not normalise:
        name = _text(f.get("name"))
        uscc = _text(f.get("uscc"))
        raw_address = _text(f.get("address"))
        rep = _text(f.get("legal_representative"))
        for column, value in (
            ("name", name),
            ("name_core", name),
            ("branch", None),
            ("ident", uscc),
            ("org_code", _text(f.get("org_code"))),
            ("regno", _text(f.get("registration_number"))),
            ("rep_pinyin", rep),
            ("adcode", raw_address),
            ("city", None),
            ("ident_ok", False),
            ("id_state", "missing" if uscc is None else "unchecked"),
            ("g_name", name),
            ("g_uscc", uscc),
            ("g_org_code", _text(f.get("org_code"))),
            ("g_registration_number", _text(f.get("registration_number"))),
            ("g_legal_representative", rep),
            ("g_address", raw_address),
            ("g_adcode", None),
        ):
            cols[column].append(value)
        return
    e = normalize_entity({k: v for k, v in f.items() if k != "address"})
    address = _address(f.get("address"))
    uscc_ok = e.uscc.check is Check.VALID
    org = e.relation.derived_org_code or e.org_code.value
    adcode = address.adcode
    state = {
        Check.VALID: "valid",
        Check.INVALID: "check_failed",
        Check.UNKNOWN: "missing",
    }.get(e.uscc.check, "malformed")
    if e.uscc.check is Check.INVALID and e.uscc.value and len(e.uscc.value) != 18:
        state = "malformed"
    for column, value in (
        ("name", e.name.value),
        ("name_core", e.name.core),
        ("branch", e.name.branch),
        ("ident", e.uscc.value),
        ("org_code", org),
        ("regno", e.registration_number.value),
        ("rep_pinyin", e.legal_representative.pinyin),
        ("adcode", adcode),
        ("city", adcode[:4] if adcode and len(adcode) >= 4 else None),
        ("ident_ok", uscc_ok),
        ("id_state", state),
        ("g_name", e.name.value),
        ("g_uscc", e.uscc.value if uscc_ok else None),
        (
            "g_org_code",
            org if e.org_code.check is Check.VALID or e.relation.derived_org_code else None,
        ),
        (
            "g_registration_number",
            e.registration_number.value
            if e.registration_number.check is not Check.INVALID
            else None,
        ),
        ("g_legal_representative", e.legal_representative.value),
        ("g_address", address.text or None),
        ("g_adcode", adcode),
    ):
        cols[column].append(value)
