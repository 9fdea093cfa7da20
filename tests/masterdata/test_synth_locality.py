"""Synthetic extracts of one locality (a demo district's streets) from a chosen set of
departments: everyone lives and every enterprise is registered there, down to the street
and community, moves included."""

from __future__ import annotations

import csv
from pathlib import Path

from shuzhi.masterdata.normalize.addresses import parse_address
from shuzhi.masterdata.normalize.legal_ids import read_uscc
from shuzhi.masterdata.normalize.resident_ids import read_resident_id
from shuzhi.masterdata.synth import Locality, generate, generate_entities, headers

STREETS = [("城西街道", ("文昌社区", "青川社区")), ("南门街道", ("南湖社区",))]
PLACE = Locality("浙江省", "杭州市", "", "330182", STREETS, ("望江路", "锦绣大道"))


def _rows(path: Path) -> list[dict[str, str]]:
    for encoding in ("utf-8", "gb18030"):
        try:
            with path.open(encoding=encoding, newline="") as f:
                return list(csv.DictReader(f))
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"{path} is neither UTF-8 nor GB18030")


def _check_addresses(values: list[str]) -> None:
    communities = dict(STREETS)
    written = [v for v in values if v]
    assert len(written) > 0.8 * len(values)  # some left blank, as clerks do
    for value in written:
        parsed = parse_address(value)
        assert parsed.street in communities, value
        assert parsed.community in communities[parsed.street], value


def test_people_of_a_locality_from_chosen_departments(tmp_path: Path) -> None:
    files = generate(400, tmp_path, 5, departments=("公安", "民政", "卫健"), locality=PLACE)
    assert sorted(files) == ["公安", "卫健", "民政"]
    truth = _rows(tmp_path / "truth.csv")
    assert {r["source"] for r in truth} == {"公安", "民政", "卫健"} and len(truth) >= 400
    for dept, path in files.items():
        columns = headers(dept)
        rows = _rows(path)
        assert list(rows[0]) == list(columns.values())
        _check_addresses([r[columns["address"]] for r in rows])
        ids = [read_resident_id(r[columns["resident_id"]]) for r in rows]
        assert all(e.number.startswith("330182") for e in ids if e.valid and e.number)


def test_enterprises_of_a_locality_from_three_registers(tmp_path: Path) -> None:
    departments = ("市场监管", "税务", "统计")
    files = generate_entities(300, tmp_path, 5, departments=departments, locality=PLACE)
    assert sorted(files) == sorted(departments)
    for dept, path in files.items():
        columns = headers(dept, "legal_entity")
        rows = _rows(path)
        _check_addresses([r[columns["address"]] for r in rows])
        codes = [read_uscc(r[columns["uscc"]]) for r in rows]
        valid = [c.value for c in codes if c.value and c.check.value == "valid"]
        assert valid and all(v[2:8] == "330182" for v in valid)
