"""Encoding, delimiter and header detection of delimited text files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.lake.rejects import DiscardRejects, RejectLog, RejectReason
from shuzhi.lake.text import (
    SAMPLE_BYTES,
    Encoding,
    _Copier,
    _Crowding,
    clean_copy,
    clean_names,
    detect_delimiter,
    detect_encoding,
)

TEXT = "姓名,地址\n张三,北京市朝阳区\n李四,上海市浦东新区\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), Encoding.UTF8),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), Encoding.UTF8_BOM),
        (TEXT.encode("gbk"), Encoding.GBK),
        # 𠀀 (U+20000) exists in GB18030 only, as a four-byte sequence.
        ((TEXT + "𠀀,x\n").encode("gb18030"), Encoding.GB18030),
        (b"a,b\n1,2\n", Encoding.UTF8),
    ],
)
def test_detects_encoding(tmp_path: Path, data: bytes, expected: Encoding) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert detect_encoding(path) is expected


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_multibyte_char_cut_at_sample_boundary(tmp_path: Path, encoding: str) -> None:
    line = "名称,值\n"
    body = "数据治理,中文内容\n" * (SAMPLE_BYTES // 10)
    data = (line + body).encode(encoding)
    assert len(data) > SAMPLE_BYTES
    # Make sure a character straddles the boundary: shift by one byte until it does.
    prefix = b"x"
    for shift in range(4):
        candidate = prefix * shift + data
        try:
            candidate[:SAMPLE_BYTES].decode(encoding)
        except UnicodeDecodeError:
            data = candidate
            break
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert detect_encoding(path).value == encoding


def test_gbk_after_long_ascii_prefix(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"id,name\n" + b"1,abc\n" * 40_000 + "2,张三\n".encode("gbk"))
    assert detect_encoding(path) is Encoding.GBK


@pytest.mark.parametrize(
    "data",
    [b"", b"\n\n", b"\xef\xbb\xbf"],
)
def test_empty_file_is_a_clear_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(Invalid) as err:
        detect_encoding(path)
    assert "empty" in err.value.errors[0].message.en


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 10,  # a zip (e.g. renamed .xlsx)
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        bytes(range(256)) * 4,
    ],
)
def test_binary_file_named_csv_is_a_clear_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(Invalid) as err:
        detect_encoding(path)
    assert "not a text file" in err.value.errors[0].message.en
    assert "文本" in err.value.errors[0].message.zh


def test_utf16_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode("utf-16"))
    with pytest.raises(Invalid) as err:
        detect_encoding(path)
    assert "UTF-16" in err.value.errors[0].message.en


@pytest.mark.parametrize(
    ("sample", "suffix", "expected"),
    [
        ("a,b,c\n1,2,3\n", ".csv", ","),
        ("a\tb\tc\n1\t2\t3\n", ".tsv", "\t"),
        ("a\tb\tc\n1\t2\t3\n", ".txt", "\t"),
        ("a;b;c\n1;2,5;3\n4;5,0;6\n", ".csv", ";"),
        ("a|b\n1|2\n", ".txt", "|"),
        ('name,note\n"x","a;b;c"\n"y","d;e;f"\n', ".csv", ","),
        ("onlyone\n1\n2\n", ".csv", ","),
    ],
)
def test_detects_delimiter(sample: str, suffix: str, expected: str) -> None:
    assert detect_delimiter(sample, suffix) == expected


def test_clean_names_examples() -> None:
    assert clean_names([" 姓名 ", "ＡＢＣ", "", "a", "A", "a", "\ufeffid", "a_2"]) == [
        "姓名",
        "ABC",
        "col_3",
        "a",
        "A_2",
        "a_3",
        "id",
        "a_2_2",
    ]


@given(st.lists(st.text(max_size=8), max_size=12))
def test_clean_names_are_unique_trimmed_and_non_empty(names: list[str]) -> None:
    cleaned = clean_names(names)
    assert len(cleaned) == len(names)
    assert len({c.lower() for c in cleaned}) == len(cleaned)
    assert all(c and c == c.strip() for c in cleaned)


def _copy(data: bytes, tmp_path: Path, encoding: Encoding, cap: int = 1 << 20):  # type: ignore[no-untyped-def]
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    out = io.BytesIO()
    log = RejectLog()
    copy = clean_copy(path, out, encoding, log, cap)
    return out.getvalue().decode("utf-8"), log, copy


def test_clean_copy_transcodes_gbk(tmp_path: Path) -> None:
    text, log, copy = _copy(TEXT.encode("gbk"), tmp_path, Encoding.GBK)
    assert text == TEXT
    assert log.count == 0 and copy.lines == 3


def test_utf8_line_in_gbk_file_is_rejected_not_garbled(tmp_path: Path) -> None:
    data = TEXT.encode("gbk") + "王五,广州市天河区\n".encode() + "赵六,深圳\n".encode("gbk")
    text, log, copy = _copy(data, tmp_path, Encoding.GBK)
    assert "赵六,深圳" in text and "广州" not in text
    assert [(r.line, r.reason) for r in log.examples] == [(4, RejectReason.MIXED_ENCODING)]
    assert copy.original_line(4) == 5


def test_undecodable_bytes_are_rejected_with_line_number(tmp_path: Path) -> None:
    data = b"a,b\n1,2\n" + b"3,\xff\xfe\n" + b"4,5\n"
    text, log, _ = _copy(data, tmp_path, Encoding.UTF8)
    assert text == "a,b\n1,2\n4,5\n"
    assert [(r.line, r.reason) for r in log.examples] == [(3, RejectReason.INVALID_ENCODING)]


def test_overlong_line_is_skipped_while_streaming(tmp_path: Path) -> None:
    data = b"a,b\n1,2\n" + b"x" * 300_000 + b",y\n" + b"3,4\n"
    text, log, copy = _copy(data, tmp_path, Encoding.UTF8, cap=4096)
    assert text == "a,b\n1,2\n3,4\n"
    assert [(r.line, r.reason) for r in log.examples] == [(3, RejectReason.LINE_TOO_LONG)]
    assert len(log.examples[0].raw) <= 200
    assert copy.lines == 4 and copy.original_line(3) == 4


def test_overlong_last_line_without_newline(tmp_path: Path) -> None:
    text, log, _ = _copy(b"a,b\n1,2\n" + b"z" * 10_000, tmp_path, Encoding.UTF8, cap=4096)
    assert text == "a,b\n1,2\n"
    assert log.examples[0].line == 3


_UTF8_CJK = re.compile(rb"(?:[\xe3-\xe9][\x80-\xbf]{2}){2}")


def _utf8_lines_by_regex(block: bytes) -> set[int]:
    """Reference: start offsets of lines with two UTF-8 CJK characters in a row that decode."""
    found, checked = set(), -1
    for match in _UTF8_CJK.finditer(block):
        start = block.rfind(b"\n", 0, match.start()) + 1
        if start <= checked:
            continue
        checked = start
        end = block.find(b"\n", match.end())
        try:
            block[start : end if end >= 0 else len(block)].decode("utf-8")
        except UnicodeDecodeError:
            continue
        found.add(start)
    return found


_LINE = st.one_of(
    st.text(alphabet="编号名称混入的行中文abc,0123456789", max_size=12).map(
        lambda t: t.encode("gbk")
    ),
    st.text(alphabet="编号名称混入的行中文abc,0123456789", max_size=12).map(
        lambda t: t.encode("utf-8")
    ),
    st.binary(max_size=16).map(lambda b: b.replace(b"\n", b"")),
)


@given(st.lists(_LINE, max_size=20))
def test_utf8_lines_in_gbk_match_the_regular_expression(lines: list[bytes]) -> None:
    block = b"\n".join(lines) + b"\n"
    copier = _Copier(Encoding.GBK, io.BytesIO(), DiscardRejects(), 1024)
    assert copier._utf8_lines(block) == _utf8_lines_by_regex(block)


# Lines of delimiters and other bytes, with a small field limit so that crowded lines are
# common; the file is cut into chunks of arbitrary sizes, as a streaming read would.
_CROWD_LINE = st.one_of(
    st.integers(min_value=0, max_value=14).map(lambda n: b"," * n),
    st.lists(st.sampled_from([b",", b",", b"a", b"\xe4\xb8\xad", b"\r"]), max_size=40).map(
        b"".join
    ),
)


@settings(max_examples=400)
@given(
    st.lists(_CROWD_LINE, max_size=12),
    st.booleans(),
    st.integers(min_value=1, max_value=8),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=8),
)
@example([b"", b",,"], True, 2, [50])  # a crowded line just after a short one
@example([b"a" * 7, b",,,", b"a"], False, 3, [1])
def test_crowded_lines_are_found_in_any_chunking(
    lines: list[bytes], newline_at_end: bool, limit: int, cuts: list[int]
) -> None:
    data = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    expected = any(line.count(b",") >= limit for line in data.split(b"\n"))
    chunks, start, i = [], 0, 0
    while start < len(data):
        size = cuts[i % len(cuts)]
        chunks.append(data[start : start + size])
        start, i = start + size, i + 1
    crowding = _Crowding(",", limit)
    assert any([crowding.feed(chunk) for chunk in chunks]) == expected
    complete = data[: data.rfind(b"\n") + 1]
    crowding = _Crowding(",", limit)
    assert crowding.in_lines(complete) == any(
        line.count(b",") >= limit for line in complete.split(b"\n")
    )
