"""The prefix attack on masked columns, reproduced against the real gateway.

A consumer whose grant shows resident IDs as ``3301061990**********`` and phones as
``138****0005`` used ``like_prefix`` conditions on the masked column, pinned to one person by
an unmasked column, to rebuild the hidden characters one at a time. The disclosure rules
refuse the first such condition; the test proves it by running the whole attack.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.security.masking import MaskLevel, mask_mobile, mask_resident_id
from shuzhi.sharing.grants import CallGrant, ColumnMask
from tests.conftest import acting
from tests.factories import seed_org
from tests.gateway.helpers import AUTH, FakeGrants, calls, gateway, make_grant
from tests.lake.helpers import HEADER, people_rows, write_csv
from tests.sharing.helpers import shared_entry

ID_ALPHABET = "0123456789X"
PHONE_ALPHABET = "0123456789"


def _loaded(database: Database, tmp_path: Path, rows: list[list[str]]) -> str:
    seed_org(database)
    code = shared_entry(database)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows, HEADER)))
    return code


def masked_grant(code: str) -> CallGrant:
    return make_grant(
        code,
        columns=("姓名", "公民身份号码", "联系电话", "年龄"),
        masking={
            "姓名": ColumnMask("person_name", MaskLevel.PARTIAL),
            "公民身份号码": ColumnMask("resident_id", MaskLevel.PARTIAL),
            "联系电话": ColumnMask("mobile_phone", MaskLevel.PARTIAL),
            "年龄": ColumnMask("none", MaskLevel.NONE),
        },
    )


class Refused(Exception):
    def __init__(self, status: int, queries: int) -> None:
        super().__init__(status, queries)
        self.status, self.queries = status, queries


def prefix_attack(
    client: TestClient, code: str, column: str, masked: str, pin: str, alphabet: str
) -> tuple[str, int]:
    """Rebuild the value behind ``masked`` (``*`` = hidden) of the one row where ``年龄 = pin``,
    one ``like_prefix`` query per guess; returns (value, queries) or raises ``Refused``."""
    known, queries = "", 0
    for position, shown in enumerate(masked):
        if shown != "*":
            known += shown
            continue
        for guess in alphabet:
            queries += 1
            answer = client.get(
                f"/api/v1/share/{code}/records",
                headers=AUTH,
                params={"f": [f"年龄:eq:{pin}", f"{column}:like_prefix:{known}{guess}"]},
            )
            if answer.status_code != 200:
                raise Refused(answer.status_code, queries)
            if answer.json()["items"]:
                known += guess
                break
        else:
            raise AssertionError(f"no guess fits position {position}")
    return known, queries


def test_masked_values_cannot_be_rebuilt_by_prefix_queries(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    rows = people_rows(40)
    code = _loaded(database, tmp_path, rows)
    target = rows[17]  # 姓名, 公民身份号码, 联系电话, 出生日期, 年龄 (ages are unique here)
    with gateway(app, grants=FakeGrants(masked_grant(code))) as client:
        # What the caller legitimately sees of the target.
        page = client.get(
            f"/api/v1/share/{code}/records", headers=AUTH, params={"f": f"年龄:eq:{target[4]}"}
        )
        assert page.status_code == 200, page.text
        (shown,) = page.json()["items"]
        assert shown["公民身份号码"] == mask_resident_id(target[1])
        assert shown["联系电话"] == mask_mobile(target[2])
        outcomes: dict[str, tuple[str | int, int]] = {}
        for column, masked, alphabet in (
            ("公民身份号码", shown["公民身份号码"], ID_ALPHABET),
            ("联系电话", shown["联系电话"], PHONE_ALPHABET),
        ):
            try:
                outcomes[column] = prefix_attack(client, code, column, masked, target[4], alphabet)
            except Refused as stopped:
                outcomes[column] = (stopped.status, stopped.queries)
    assert outcomes == {"公民身份号码": (403, 1), "联系电话": (403, 1)}, (
        f"attack outcome (value, queries): {outcomes}"
    )
    # Each refusal was metered as a refused call, sealed by the audit log.
    refused = calls(database, outcome="forbidden")
    assert len(refused) == 2
    assert all(target[1][:11] not in c.filter and "like_prefix" in c.filter for c in refused)
    assert all(c.seal is not None for c in refused)
    with acting(database, SYSTEM) as ctx:
        report = audit.check_chain(ctx)
    assert report.ok and report.sealed_records == len(calls(database))
