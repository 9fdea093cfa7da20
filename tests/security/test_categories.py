"""Category codes are stable and carry PIPL metadata."""

from __future__ import annotations

from shuzhi.security.categories import CATEGORY_INFO, Category, info
from shuzhi.security.masking import MaskLevel

# Shared by API, UI and stored classifications: these values must never change.
STABLE = [
    *("resident_id", "uscc", "mobile_phone", "landline_phone", "bank_card", "passport"),
    *("travel_permit", "license_plate", "email", "ip_address", "address", "person_name"),
    *("birth_date", "health", "none", "org_code", "postal_code", "gender", "ethnicity"),
    *("religion", "biometric", "precise_location", "taiwan_permit", "sar_passport"),
    "diplomatic_plate",
]


def test_codes_are_stable() -> None:
    assert [c.value for c in Category] == STABLE


def test_every_category_has_metadata() -> None:
    assert set(CATEGORY_INFO) == set(Category)
    for c in Category:
        i = info(c)
        assert i.label_zh and i.label_en
        assert not i.sensitive or i.personal
        assert callable(i.mask)


def test_pipl_sensitive_categories() -> None:
    sensitive = {c for c in Category if info(c).sensitive}
    assert {
        Category.HEALTH,
        Category.BANK_CARD,
        Category.BIOMETRIC,
        Category.RELIGION,
        Category.PRECISE_LOCATION,
        Category.RESIDENT_ID,
    } <= sensitive
    assert Category.MOBILE_PHONE not in sensitive and not info(Category.USCC).personal
    assert info(Category.HEALTH).default_level is MaskLevel.REDACT
