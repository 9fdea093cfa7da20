"""What an evidence document may be: a few document and image formats, recognised by their
content (not their name), within size limits, with archives checked against zip bombs.
Names are reduced to a safe display name; files are stored by their digest, never by name."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from shuzhi.errors import Invalid

MAX_BYTES = 20 * 1024 * 1024
MAX_UNPACKED = 100 * 1024 * 1024
MAX_MEMBERS = 2000
MAX_RATIO = 100
NAME_LIMIT = 100

# extension → kind
KINDS = {
    ".pdf": "pdf",
    ".ofd": "ofd",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".pptx": "pptx",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".txt": "text",
}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "text": "text/plain; charset=utf-8",
}
# The part an office archive must hold to be what its name says.
_MAIN_PART = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
    "ofd": "OFD.xml",
}
_EXECUTABLE = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


@dataclass(frozen=True)
class Checked:
    filename: str
    kind: str


def safe_name(name: str) -> str:
    """A display name without any path, control or reserved character, at most
    ``NAME_LIMIT`` characters, keeping its extension; never empty."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(c if c.isprintable() else "_" for c in _UNSAFE.sub("_", base))
    base = base.strip(" .")
    suffix = PurePosixPath(base).suffix.lower()
    if len(suffix) > 10 or not re.fullmatch(r"\.[a-z0-9]+", suffix or ".x"):
        suffix = ""
    stem = base[: len(base) - len(suffix)] if suffix else base
    stem = stem.strip(" .")[: NAME_LIMIT - len(suffix)] or "document"
    return stem + suffix


def _bad(zh: str, en: str) -> Invalid:
    return Invalid.field("file", zh, en)


def _check_archive(data: bytes, kind: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _bad(
            "文件已损坏，无法作为文档读取。", "The file is damaged and is not a readable document."
        ) from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
        raise _bad("文件解压后过大，已拒收。", "The file unpacks to too much data; refused.")
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise _bad(
                "文件压缩比异常（疑似压缩炸弹），已拒收。",
                "The file is compressed suspiciously tightly (a zip bomb?); refused.",
            )
    names = {m.filename for m in members}
    if _MAIN_PART[kind] not in names:
        raise _bad("文件内容与扩展名不符。", "The file's content does not match its extension.")


def check_document(name: str, data: bytes) -> Checked:
    """The safe name and kind of an upload, or a bilingual ``Invalid`` saying why not."""
    filename = safe_name(name)
    kind = KINDS.get(PurePosixPath(filename).suffix.lower())
    if not data:
        raise _bad("文件为空。", "The file is empty.")
    if len(data) > MAX_BYTES:
        raise _bad(
            f"文件超过 {MAX_BYTES // (1024 * 1024)} MB 上限。",
            f"The file is larger than the {MAX_BYTES // (1024 * 1024)} MB limit.",
        )
    if data.startswith(_EXECUTABLE):
        raise _bad("不接受可执行文件。", "Executable files are not accepted.")
    if kind is None:
        raise _bad(
            "只接受 PDF、OFD、Word、Excel、PowerPoint、PNG、JPEG 或纯文本文件。",
            "Only PDF, OFD, Word, Excel, PowerPoint, PNG, JPEG or plain-text files are accepted.",
        )
    if kind == "pdf":
        ok = data.startswith(b"%PDF-")
    elif kind == "png":
        ok = data.startswith(b"\x89PNG\r\n\x1a\n")
    elif kind == "jpeg":
        ok = data.startswith(b"\xff\xd8\xff")
    elif kind == "text":
        try:
            ok = b"\x00" not in data and bool(data.decode("utf-8"))
        except UnicodeDecodeError:
            ok = False
    else:
        ok = data.startswith(b"PK\x03\x04")
        if ok:
            _check_archive(data, kind)
    if not ok:
        raise _bad("文件内容与扩展名不符。", "The file's content does not match its extension.")
    return Checked(filename, kind)
