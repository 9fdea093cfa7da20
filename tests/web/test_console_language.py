"""The Chinese console speaks Chinese: no raw text key, no internal code where a name exists.

One test walks every console page of the demo district that each role can reach by following
links (one page per distinct route shape), in zh-CN, and fails on raw text keys (known or
missing) and on internal codes shown in place of their names. Another checks that every key
the templates and services ask for exists, in both languages.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

import shuzhi
from shuzhi.app import create_app
from shuzhi.db.engine import Database
from shuzhi.demo.district import CREDENTIALS_FILE
from shuzhi.quality.models import RuleKind
from shuzhi.security.categories import Category
from shuzhi.web.i18n import TEXTS, translate
from tests.web.helpers import login

SRC = Path(__file__).resolve().parents[2] / "src" / "shuzhi"
PREFIXES = {key.split(".", 1)[0] for key in TEXTS}
# A dotted word run whose first word names a text namespace: a key, known or missing.
KEY_LIKE = re.compile(r"(?<![\w./@-])([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?![\w/@-]|\.\w)")


def declared_actions() -> set[str]:
    """The action of every audit event any module declares."""
    from shuzhi.audit.events import AuditEvent

    for module in pkgutil.walk_packages(shuzhi.__path__, "shuzhi."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: set[str] = set()
    todo: list[type[AuditEvent]] = [AuditEvent]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        action = getattr(cls, "action", None)
        if isinstance(action, str):
            found.add(action)
    return found


# Internal codes that have a name of their own.
CODES = (
    {c.value for c in Category if c is not Category.NONE}
    | {k.value for k in RuleKind if "_" in k.value}
    | declared_actions()
)
CODE_LIKE = re.compile(r"(?<![\w.:/-])([a-z]+(?:[._][a-z]+)+)(?![\w:/-]|\.\w)")
# Four or more English words in a row: a sentence left untranslated.
ENGLISH = re.compile(r"(?<![\w.])[A-Za-z][a-z]+(?:[ ,:]+[A-Za-z][a-z]+){3,}")
ROLES = ("cdo", "executive", "auditor", "rsj.cdo", "rsj.liaison")
DOWNLOADS = (".csv", ".xlsx", ".parquet", ".zip", ".json", ".pdf")
SKIP = ("/lang/", "/logout", "/api/", "/static/", "/portal", "/login", "/account/password")
MAX_PAGES = 400


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# Not prose for the reader: scripts, identifiers set as code, and text marked as English
# (English names kept as data, the English half of a bilingual error).
HIDDEN = {"script", "style", "code", "template"}


class _Page(HTMLParser):
    """The visible text of a page (and its titles, placeholders, labels) and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.code: list[str] = []
        self._open: list[tuple[str, bool, bool]] = []

    def _hidden(self) -> bool:
        return any(hidden for _, hidden, _ in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = tag in HIDDEN or (values.get("lang") or "").startswith("en")
        verbatim = values.get("translate") == "no"  # a code shown as such, e.g. in a code table
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if not hidden and not self._hidden():
            for name in ("title", "placeholder", "aria-label", "alt"):
                if values.get(name):
                    self.text.append(str(values[name]))
        if tag not in VOID and tag != "html":
            self._open.append((tag, hidden, verbatim))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self.text.append(data)
        elif self._open and self._open[-1][0] == "code" and not self._open[-1][2]:
            self.code.append(data)


def _shapes(path: str) -> set[str]:
    """What a page shows of its route: the route, and each query parameter it is given.
    Pages of the same route differ only in ids, codes and numbers (route words are in lower
    case; codes, such as a unit's ``GAJ`` or ``JD-ST``, in upper case); a page adds nothing
    when its route and each of its parameters were seen already (the filters of a list
    combine into more pages than there are ways to show one)."""
    parts = urlsplit(path)
    route = "/".join(
        "#" if re.fullmatch(r"[0-9]+|[A-Z0-9][A-Z0-9_.-]*", s) else s for s in parts.path.split("/")
    )
    keys = {k.split("=")[0] for k in parts.query.split("&") if k}
    return {route} | {f"{route}?{key}" for key in keys}


def _problems(text: str) -> list[str]:
    found = []
    for match in KEY_LIKE.finditer(text):
        word = match.group(1)
        if word.split(".", 1)[0] in PREFIXES or word in TEXTS:
            found.append(f"raw key {word!r}")
    for match in ENGLISH.finditer(text):
        found.append(f"English {match.group(0)!r}")
    for match in CODE_LIKE.finditer(text):
        if match.group(1) in CODES:
            found.append(f"code {match.group(1)!r}")
    return found


def _walk(client: TestClient) -> Iterator[tuple[str, list[str]]]:
    queue: list[str] = ["/"]
    seen_shapes: set[str] = set()
    seen: set[str] = set()
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, headers={"accept": "text/html"})
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        page = _Page()
        page.feed(response.text)
        codes = [f"code {c.strip()!r}" for c in page.code if c.strip() in CODES]
        yield path, _problems(" ".join(page.text)) + codes
        for href in page.links:
            target = urljoin("http://testserver" + path, href)
            parts = urlsplit(target)
            if (
                parts.netloc != "testserver"
                or parts.path.startswith(SKIP)
                or parts.path.endswith(DOWNLOADS)
                or "lang=" in parts.query
            ):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            shapes = _shapes(local)
            if shapes <= seen_shapes:
                continue
            seen_shapes |= shapes
            queue.append(local)


@pytest.mark.slow
def test_every_console_page_in_chinese_shows_names_not_keys_or_codes(
    demo_database: Database,
) -> None:
    accounts = json.loads(
        (demo_database.settings.data_dir / CREDENTIALS_FILE).read_text(encoding="utf-8")
    )["accounts"]
    passwords = {a["username"]: a["password"] for a in accounts}
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    failures: list[str] = []
    pages = 0
    for username in ROLES:
        with TestClient(app, base_url="http://testserver") as client:
            client.cookies.set("shuzhi_lang", "zh-CN")
            login(client, username, passwords[username])
            for path, problems in _walk(client):
                pages += 1
                failures.extend(f"{username} {path}: {p}" for p in problems)
    assert pages > 40
    assert not failures, "\n".join(sorted(set(failures)))


# Keys asked for literally: t('a.b'), translate(locale, "a.b"), texts.get("a.b").
LITERAL = re.compile(r"""\bt\(\s*['"]([a-z][\w]*(?:\.[\w]+)+)['"]""")
SERVICE_LITERAL = re.compile(
    r"""\b(?:translate\(\s*[\w.]+\s*,|_t\(|text\()\s*['"]([a-z][\w]*(?:\.[\w]+)+)['"]"""
)
# Keys built from a prefix and a closed vocabulary: t('prefix.' ~ value).
PREFIXED = re.compile(r"""\bt\(\s*['"]([a-z][\w]*(?:\.[\w]+)*\.)['"]\s*~""")


def _sources() -> Iterator[tuple[Path, str]]:
    for path in sorted(SRC.rglob("*")):
        if path.suffix in (".html", ".py") and "migrations" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def test_every_key_asked_for_exists_in_both_languages() -> None:
    missing = []
    for path, source in _sources():
        pattern = LITERAL if path.suffix == ".html" else SERVICE_LITERAL
        for key in pattern.findall(source):
            if key not in TEXTS:
                missing.append(f"{path.relative_to(SRC)}: {key}")
    assert missing == []
    for key, (zh, en) in TEXTS.items():
        assert zh.strip() and en.strip(), key
        assert translate("zh-CN", key) != key and translate("en", key) != key


def test_every_prefixed_key_family_has_texts() -> None:
    """Each ``t('prefix.' ~ value)`` in a template names a family that exists."""
    empty = []
    for path, source in _sources():
        if path.suffix != ".html":
            continue
        for prefix in PREFIXED.findall(source):
            if not any(key.startswith(prefix) for key in TEXTS):
                empty.append(f"{path.relative_to(SRC)}: {prefix}")
    assert empty == []


def test_closed_vocabularies_have_a_name_for_every_value() -> None:
    """Keys built from an enum value (``t('sh.op.' ~ op)``) exist for every value."""
    from shuzhi.audit.service import OUTCOMES
    from shuzhi.cockpit.schemas import Measure
    from shuzhi.context import Role
    from shuzhi.lake.models import VersionStatus
    from shuzhi.lake.query import Op
    from shuzhi.quality.models import IssueStatus

    families: dict[str, list[str]] = {
        "sh.op.": [o.value for o in Op],
        "quality.kind.": [k.value for k in RuleKind],
        "quality.status.": [s.value for s in IssueStatus],
        "ck.func.": [m.value for m in Measure],
        "audit.outcome.": list(OUTCOMES),
        "ds.status.": [s.value for s in VersionStatus],
        "role.": [r.value for r in Role],
    }
    missing = [p + v for p, values in families.items() for v in values if p + v not in TEXTS]
    assert missing == []
