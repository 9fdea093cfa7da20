"""Masking and keyed pseudonymisation of values, one rule per category.

Every partial mask keeps a fixed set of character positions and replaces the others with
``*``; applying it to its own output changes nothing (idempotent), so data masked upstream
can pass through the same rule safely. Rules (what each keeps):

- resident_id: region code (6) + birth year (4); of 15-digit IDs region + 2-digit year
- mobile_phone: first 3 + last 4 (138****5678); landline_phone: area code + last 2 of the number
- bank_card: last 4; passport / travel_permit / taiwan_permit / sar_passport: first character
  + last 2
- license_plate: province + issuing-authority letter (浙A*****)
- diplomatic_plate: 使 and the mission's three digits (使014***, 224***使); of consulate
  plates the province, letter and 领 (沪A****领)
- email: first character + domain (a domain name), fixed ``***`` so the length is hidden
- ip_address: first two IPv4 octets / first three IPv6 groups
- address: administrative prefix down to street/town (街道/镇/乡), or one level above if
  the value ends there; the remainder becomes ``****``
- person_name: surname (compound surnames kept whole); birth_date: year only, of a value
  written as a date (digits and date or time separators)
- uscc: authority, category and region (first 8); org_code: first 2; postal_code: first 2
- precise_location: two decimals (about 1 km) of a value that is wholly one coordinate or a
  pair, written ``lat,lng``
- health, ethnicity, religion, biometric: redacted; gender: ``*``

A value a rule does not recognise as a whole (a note typed into a coordinates column, words
around an e-mail address or a date) keeps only its first and last character, as too short or
malformed identifiers do: no rule ever passes text it cannot read through unchanged.

Pseudonyms are HMAC-SHA256 under a secret key over the category and the canonical value:
deterministic per key (joins still work), unlinkable without the key, never a bare hash.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable
from enum import StrEnum

from shuzhi.standards.addresses import ADMIN_CUE
from shuzhi.standards.documents import normalize_plate
from shuzhi.standards.names import COMPOUND_SURNAMES
from shuzhi.standards.phones import mobile_digits, parse_landline
from shuzhi.standards.resident_id import parse_resident_id
from shuzhi.standards.text import compact, normalize

MASK = "*"
REDACTED = "***"
MIN_KEY_BYTES = 16


class MaskLevel(StrEnum):
    """How strongly a value is hidden; ordered ``none < partial < pseudonym < redact``."""

    NONE = "none"
    PARTIAL = "partial"
    PSEUDONYM = "pseudonym"
    REDACT = "redact"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER = (MaskLevel.NONE, MaskLevel.PARTIAL, MaskLevel.PSEUDONYM, MaskLevel.REDACT)


def is_more_masked(a: MaskLevel, b: MaskLevel) -> bool:
    """True when level ``a`` hides strictly more than level ``b``."""
    return a.rank > b.rank


def compare_levels(a: MaskLevel, b: MaskLevel) -> int:
    """-1, 0 or 1 as ``a`` hides less than, as much as, or more than ``b``."""
    return (a.rank > b.rank) - (a.rank < b.rank)


def may_override(default: MaskLevel, requested: MaskLevel) -> bool:
    """An override of a category's default is allowed only towards more masking."""
    return requested.rank >= default.rank


def strictest(*levels: MaskLevel) -> MaskLevel:
    return max(levels, key=lambda level: level.rank, default=MaskLevel.NONE)


def keep(text: str, head: int, tail: int) -> str:
    """``text`` with all but the first ``head`` and last ``tail`` characters replaced by ``*``.

    Values too short to keep anything are masked entirely, so the output never equals a
    non-empty input.
    """
    n = len(text)
    if n == 0:
        return ""
    if head + tail >= n:
        head, tail = (1, 0) if n >= 3 else (0, 0)
    return text[:head] + MASK * (n - head - tail) + (text[n - tail :] if tail else "")


def _generic(value: str) -> str:
    return keep(normalize(value).replace(" ", ""), 1, 1)


# Identifiers already in the form a rule reads (plain ASCII digits) need no normalising:
# NFKC, trimming and compacting leave them as they are. Most stored values are in that form,
# and skipping the normalisation takes 40 % (resident IDs) to 60 % (mobile numbers) off
# what masking one costs a gateway call.
_COMPACT_ID = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_COMPACT_MOBILE = re.compile(r"1[0-9]{10}")


def mask_resident_id(value: str) -> str:
    code = value if _COMPACT_ID.fullmatch(value) else compact(value)
    if len(code) == 18:
        return keep(code, 10, 0)
    if len(code) == 15:
        return keep(code, 8, 0)
    return _generic(value)


def mask_mobile(value: str) -> str:
    digits = value if _COMPACT_MOBILE.fullmatch(value) else mobile_digits(value)
    if digits is None:
        code = compact(value).lstrip("+")
        digits = code[2:] if len(code) == 13 and code.startswith("86") else code
    return keep(digits, 3, 4) if len(digits) == 11 else _generic(value)


_AREA_PREFIX = re.compile(r"^\(?(0\d{2,3})[)\-]?(.*)$")
_LOCAL_RUN = re.compile(r"[0-9*]+")


def mask_landline(value: str) -> str:
    parsed = parse_landline(value)
    if parsed is not None:
        local = keep(parsed.local, 0, 2)
        return f"{parsed.area_code}-{local}" if parsed.area_code else local
    text = normalize(value).replace(" ", "")
    m = _AREA_PREFIX.match(text)
    area, rest = (m.group(1), m.group(2)) if m else ("", text)
    run = _LOCAL_RUN.search(rest)
    if run is None:
        return _generic(value)
    local = keep(run.group(0), 0, 2)
    return f"{area}-{local}" if area else local


def mask_bank_card(value: str) -> str:
    code = compact(value)
    return keep(code, 0, 4) if len(code) >= 8 else _generic(value)


def mask_document(value: str) -> str:
    """Passports and travel permits: first character and last two."""
    code = compact(value)
    return keep(code, 1, 2) if len(code) >= 5 else _generic(value)


def mask_license_plate(value: str) -> str:
    plate = normalize_plate(value)
    return keep(plate, 2, 0) if len(plate) >= 4 else _generic(value)


def mask_diplomatic_plate(value: str) -> str:
    plate = normalize_plate(value)
    if len(plate) < 5:
        return _generic(value)
    if plate.startswith("使"):
        return keep(plate, 4, 0)
    if plate.endswith("使"):
        return keep(plate, 3, 1)
    return keep(plate, 2, 1)


_DOMAIN = re.compile(r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)+")


def mask_email(value: str) -> str:
    text = normalize(value)
    local, at, domain = text.rpartition("@")
    if not at or not local or not _DOMAIN.fullmatch(domain):
        return _generic(value)
    return f"{local[0]}{REDACTED}@{domain}"


# Addresses as this rule writes them (IPv6 exploded), masked or not.
_IPV4 = re.compile(r"(?:[0-9]{1,3}|\*)(?:\.(?:[0-9]{1,3}|\*)){3}")
_IPV6 = re.compile(r"(?:[0-9a-f]{4}|\*)(?::(?:[0-9a-f]{4}|\*)){7}")


def mask_ip(value: str) -> str:
    text = normalize(value)
    with contextlib.suppress(ValueError):
        text = ipaddress.ip_address(text).exploded
    if _IPV6.fullmatch(text):
        groups = text.split(":")
        return ":".join(g if i < 3 else MASK for i, g in enumerate(groups))
    if _IPV4.fullmatch(text):
        parts = text.split(".")
        return ".".join(p if i < 2 else MASK for i, p in enumerate(parts))
    return _generic(value)


_STREET_LEVEL = re.compile(r"街道|镇|乡")
_ADDRESS_TAIL = "****"


def mask_address(value: str) -> str:
    text = normalize(value).replace(" ", "")
    if text.endswith(_ADDRESS_TAIL):
        return text  # already cut by this rule
    ends = [m.end() for m in ADMIN_CUE.finditer(text)]
    street = _STREET_LEVEL.search(text)
    cut = street.end() if street else (ends[-1] if ends else 0)
    # Never reveal a value whole: if it ends at the cut, cut one administrative level higher.
    if cut >= len(text):
        higher = [e for e in ends if e < cut]
        cut = higher[-1] if higher else 0
    return text[:cut] + _ADDRESS_TAIL


def mask_person_name(value: str) -> str:
    text = normalize(value).replace(" ", "")
    if len(text) <= 1:
        return MASK * len(text)
    surname = 2 if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES else 1
    return keep(text, surname, 0)


_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})")
# A date (with a time, perhaps) as written: digits and date or time separators only.
_DATE_LIKE = re.compile(r"(?=.*[0-9*])[0-9*\-/.年月日号时分秒:T ]+")


def mask_birth_date(value: str) -> str:
    text = normalize(value)
    if not _DATE_LIKE.fullmatch(text):
        return _generic(value)
    m = _YEAR.search(text)
    if m is None or not any(c.isdigit() or c == MASK for c in text[: m.start()] + text[m.end() :]):
        # No year, or nothing but a year: nothing finer to hide, so hide it all.
        return re.sub(r"\d", MASK, text) if m is None else MASK * 4
    before, after = text[: m.start()], text[m.end() :]
    return re.sub(r"\d", MASK, before) + m.group(0) + re.sub(r"\d", MASK, after)


def mask_uscc(value: str) -> str:
    code = compact(value)
    return keep(code, 8, 0) if len(code) == 18 else _generic(value)


def mask_org_code(value: str) -> str:
    return keep(compact(value), 2, 0)


def mask_postal_code(value: str) -> str:
    return keep(compact(value), 2, 0)


# One coordinate, or a pair, and nothing else (each with more than two decimals, or masked).
_DEGREE = r"(-?\d{1,3}\.\d{2})([0-9*]+)"
_COORDINATES = re.compile(rf"\(?\s*{_DEGREE}(?:\s*[,，\s]\s*{_DEGREE})?\s*\)?")


def mask_location(value: str) -> str:
    """Coordinates cut to two decimals, written ``lat,lng``; any other text (a note, an
    address, a coordinate with words around it) is masked as unrecognised values are."""
    m = _COORDINATES.fullmatch(normalize(value))
    if m is None:
        return _generic(value)
    kept, cut = m.group(1, 3), m.group(2, 4)
    return ",".join(k + MASK * len(c) for k, c in zip(kept, cut, strict=True) if k)


def redact(value: str) -> str:
    return REDACTED if value else ""


def mask_gender(value: str) -> str:
    return MASK if value else ""


def unchanged(value: str) -> str:
    return value


# Keyed by category code (see categories.Category); a test keeps the two in step.
MASKERS: dict[str, Callable[[str], str]] = {
    "resident_id": mask_resident_id,
    "uscc": mask_uscc,
    "org_code": mask_org_code,
    "mobile_phone": mask_mobile,
    "landline_phone": mask_landline,
    "bank_card": mask_bank_card,
    "passport": mask_document,
    "travel_permit": mask_document,
    "license_plate": mask_license_plate,
    "taiwan_permit": mask_document,
    "sar_passport": mask_document,
    "diplomatic_plate": mask_diplomatic_plate,
    "email": mask_email,
    "ip_address": mask_ip,
    "address": mask_address,
    "person_name": mask_person_name,
    "birth_date": mask_birth_date,
    "health": redact,
    "postal_code": mask_postal_code,
    "gender": mask_gender,
    "ethnicity": redact,
    "religion": redact,
    "biometric": redact,
    "precise_location": mask_location,
    "none": unchanged,
}


def canonical(value: str, category: str) -> str:
    """The form two spellings of the same identifier share (so pseudonyms join across files)."""
    if category == "resident_id":
        parsed = parse_resident_id(value)
        return parsed.number if parsed else compact(value)
    if category == "mobile_phone":
        return mobile_digits(value) or compact(value)
    if category == "landline_phone":
        landline = parse_landline(value)
        return landline.canonical() if landline else compact(value)
    documents = ("passport", "travel_permit", "taiwan_permit", "sar_passport")
    if category in ("bank_card", *documents, "uscc", "org_code", "postal_code"):
        return compact(value)
    if category in ("license_plate", "diplomatic_plate"):
        return normalize_plate(value)
    if category == "email":
        return normalize(value).lower()
    if category == "ip_address":
        try:
            return str(ipaddress.ip_address(normalize(value)))
        except ValueError:
            return normalize(value)
    return normalize(value).replace(" ", "")


# What the pseudonym key is derived for: every reader that shows pseudonyms (the gateway, a
# street's push-back records) derives the same key, so one value has one pseudonym.
PSEUDONYM_PURPOSE = "shuzhi.pseudonym.v1"


def pseudonym_key(secret: str) -> bytes:
    """The key pseudonyms are made with, derived from the application secret for this one
    purpose (the secret itself is never used)."""
    purpose = PSEUDONYM_PURPOSE.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), purpose, hashlib.sha256).digest()


def pseudonymise(value: str, key: bytes, category: str) -> str:
    """Keyed pseudonym: HMAC-SHA256(key, category ‖ canonical value), 26 base32 characters."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonymisation key must be at least {MIN_KEY_BYTES} bytes")
    message = f"{category}\x1f{canonical(value, category)}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def mask(value: str, category: str, level: MaskLevel, key: bytes | None = None) -> str:
    """Apply ``level`` to one value of ``category`` (a key is needed for pseudonyms)."""
    if level is MaskLevel.NONE:
        return value
    if level is MaskLevel.PARTIAL:
        return MASKERS[category](value)
    if level is MaskLevel.PSEUDONYM:
        if key is None:
            raise ValueError("a secret key is required for pseudonyms")
        return pseudonymise(value, key, category)
    return redact(value)
