"""What an evidence document may be (pure checks; Hypothesis for names)."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.assess.documents import MAX_BYTES, check_document, safe_name
from shuzhi.errors import Invalid


def _docx(extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def test_documents_are_recognised_by_content() -> None:
    assert check_document("制度.pdf", b"%PDF-1.4 x").kind == "pdf"
    assert check_document("规程.docx", _docx()).kind == "docx"
    assert check_document("截图.PNG", b"\x89PNG\r\n\x1a\n....").kind == "png"
    assert check_document("说明.txt", "纯文本".encode()).kind == "text"


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("a.pdf", b"", "empty"),
        ("a.exe", b"MZ\x90", "Executable"),
        ("a.pdf", b"\x7fELF....", "Executable"),
        ("a.pdf", b"#!/bin/sh\nrm -rf /", "Executable"),
        ("a.zip", b"PK\x03\x04", "Only PDF"),
        ("a.html", b"<html>", "Only PDF"),
        ("a.pdf", b"<html>", "does not match"),
        ("a.xlsx", _docx(), "does not match"),
        ("a.docx", b"PK\x03\x04garbage", "damaged"),
        ("a.txt", b"\xff\xfe\x00a", "does not match"),
    ],
)
def test_what_is_not_a_document_is_refused(name: str, data: bytes, says: str) -> None:
    with pytest.raises(Invalid) as err:
        check_document(name, data)
    assert says in err.value.errors[0].message.en
    assert err.value.errors[0].message.zh


def test_too_large_and_zip_bombs_are_refused() -> None:
    with pytest.raises(Invalid) as big:
        check_document("a.pdf", b"%PDF-" + b"0" * MAX_BYTES)
    assert "20 MB" in big.value.errors[0].message.en
    bomb = _docx({"word/media/pad.bin": b"\x00" * (30 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024
    with pytest.raises(Invalid) as err:
        check_document("a.docx", bomb)
    assert "zip bomb" in err.value.errors[0].message.en


def test_names_lose_their_paths_and_controls() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\报告.PDF") == "报告.pdf"
    assert safe_name("a\x00b<>.pdf") == "a_b_.pdf"
    assert safe_name("....") == "document"
    assert len(safe_name("长" * 500 + ".docx")) == 100


@given(st.text())
def test_safe_names_are_always_safe(name: str) -> None:
    out = safe_name(name)
    assert out and len(out) <= 100
    assert not any(c in out for c in '/\\<>:"|?*') and out.isprintable()
    assert out not in (".", "..") and not out.startswith(".")
    assert safe_name(out) == out
