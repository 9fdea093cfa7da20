"""Linking extracts into people: defects that must link, people that must never merge,
bounded blocks, stable entity IDs, golden records with provenance, the command line."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.linkage import RULES, LinkOptions, link
from shuzhi.masterdata.pipeline import LinkRun, link_files, write_outputs
from shuzhi.masterdata.sources import SourceRecord, map_columns
from shuzhi.standards.identifiers import ric_check_char

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def rid(region: str, born: date, seq: str) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + ric_check_char(first17)


ZHANG = rid("330106", date(1985, 3, 2), "123")  # ends in a digit or X, check holds
LI_1 = rid("110105", date(1990, 7, 1), "011")
LI_2 = rid("110105", date(1990, 7, 1), "031")


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def extracts(tmp_path: Path) -> list[Path]:
    gongan = write_csv(
        tmp_path / "公安.csv",
        ["公民身份号码", "姓名", "性别", "出生日期", "联系电话", "住址", "更新时间"],
        [
            [
                ZHANG,
                "张三丰",
                "男",
                "1985-03-02",
                "13800001111",
                "浙江省杭州市西湖区文三路1号",
                "2024-01-01",
            ],
            [LI_1, "李娜", "女", "1990-07-01", "", "北京市朝阳区建国路8号", "2023-05-01"],
            [LI_2, "李娜", "女", "1990-07-01", "", "北京市朝阳区建国路8号", "2023-05-01"],
        ],
    )
    minzheng = write_csv(
        tmp_path / "民政.csv",
        ["xingming", "shenfenzhenghao", "xingbie", "chushengriqi", "lianxidianhua", "zhuzhi"],
        [
            # full-width digits, traditional characters, a different phone
            [
                "張三豐",
                ZHANG.translate(FULLWIDTH),
                "1",
                "19850302",
                "13900002222",
                "杭州西湖区文三路1号",
            ],
            # a typo in the ID (check fails), the same person otherwise
            [
                "张三丰",
                ZHANG[:10] + str((int(ZHANG[10]) + 1) % 10) + ZHANG[11:],
                "男",
                "1985年3月2日",
                "13800001111",
                "",
            ],
        ],
        encoding="gb18030",
    )
    return [gongan, minzheng]


def _links(path: Path) -> dict[tuple[str, int], str]:
    with path.open(encoding="utf-8") as f:
        return {(r["source"], int(r["row"])): r["entity_id"] for r in csv.DictReader(f)}


def test_headers_map_in_chinese_pinyin_and_english() -> None:
    mapping = map_columns(["公民身份号码", "XingMing", "chu_sheng_ri_qi", "phone", "备注"])
    assert mapping == {
        "resident_id": "公民身份号码",
        "name": "XingMing",
        "birth_date": "chu_sheng_ri_qi",
        "phone": "phone",
    }


def test_link_command_writes_one_line_per_record_and_golden_records(
    extracts: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    args = ["masterdata", "link", "--kind", "person", *map(str, extracts), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--rank", "公安,民政"])
    assert result.exit_code == 0, result.output
    links = _links(out)
    assert sorted(links) == [("公安", 1), ("公安", 2), ("公安", 3), ("民政", 1), ("民政", 2)]
    # Full-width ID + traditional name, and the mistyped ID, all link to 张三丰.
    assert links[("公安", 1)] == links[("民政", 1)] == links[("民政", 2)]
    # Two people with the same name, birth date and address but different valid IDs.
    assert links[("公安", 2)] != links[("公安", 3)]
    with (tmp_path / "out.golden.csv").open(encoding="utf-8") as f:
        golden = {g["entity_id"]: g for g in csv.DictReader(f)}
    zhang = golden[links[("公安", 1)]]
    assert zhang["records"] == "3"
    assert (zhang["name"], zhang["resident_id"], zhang["birth_date"]) == (
        "张三丰",
        ZHANG,
        "1985-03-02",
    )
    assert (zhang["phone"], zhang["phone_source"], zhang["phone_row"]) == (
        "13800001111",
        "公安",
        "1",
    )
    assert zhang["phone_rule"] == "authority"
    with (tmp_path / "out.conflicts.csv").open(encoding="utf-8") as f:
        conflicts = list(csv.DictReader(f))
    assert any(
        c["kind"] == "id_check_failed" and c["detail"].startswith("民政:2=") for c in conflicts
    )
    with (tmp_path / "out.pairs.csv").open(encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    assert all("resident_id=" in p["explanation"] and "name=" in p["explanation"] for p in pairs)
    assert "records / 记录: 5" in result.output


def test_entity_ids_are_stable_across_runs_and_file_order(
    extracts: list[Path], tmp_path: Path
) -> None:
    first = link_files(extracts)
    again = link_files(list(reversed(extracts)))

    def key(run: LinkRun) -> dict[tuple[str, int], str]:
        features = run.linkage.features
        sources = features.column("source").to_pylist()
        rows = features.column("row").to_pylist()
        return dict(zip(zip(sources, rows, strict=True), run.linkage.entity, strict=True))

    assert key(first) == key(again)


def test_two_verified_ids_are_never_merged_even_when_everything_else_agrees() -> None:
    records = [
        SourceRecord(
            "a",
            i + 1,
            {"name": "王伟", "resident_id": r, "birth_date": "1990-07-01", "phone": "13800001111"},
        )
        for i, r in enumerate((LI_1, LI_2, LI_1.lower(), None))
    ]
    linkage = link(build_features(records))
    entity = linkage.entity
    assert entity[0] == entity[2] != entity[1]
    # The record without an ID joins one of them, never both.
    assert entity[3] in (entity[0], entity[1])


def test_every_id_missing_is_reported_and_nothing_silently_merged(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "卫健.csv",
        ["姓名", "出生日期", "性别"],
        [["王芳", "1980-01-01", "女"], ["王芳", "1981-02-03", "女"], ["王芳", "1980-01-01", "女"]],
    )
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(app, ["masterdata", "link", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "no record carries a usable resident ID" in result.output
    links = _links(out)
    assert links[("卫健", 1)] != links[("卫健", 2)]


def test_duplicate_rows_within_a_source_are_reported_and_linked(tmp_path: Path) -> None:
    row = [ZHANG, "张三丰", "男", "1985-03-02"]
    path = write_csv(tmp_path / "人社.csv", ["身份证号", "姓名", "性别", "出生日期"], [row, row])
    run = link_files([path])
    assert run.report["duplicate_rows_per_source"] == {"人社": 1}
    assert run.linkage.entity[0] == run.linkage.entity[1]


def test_one_surname_many_rows_block_stays_bounded() -> None:
    """600 people called 王伟 born the same day in one county, no IDs, no phones: the
    name + birth date block is over the bound, dropped and reported; the pairs compared stay
    under the stated bound and no two of these records are merged on name alone."""
    n, bound = 600, 50
    records = [
        SourceRecord(
            "民政",
            i + 1,
            {"name": "王伟", "birth_date": "1980-01-01", "address": f"杭州市西湖区文三路{i}号"},
        )
        for i in range(n)
    ]
    linkage = link(build_features(records), options=LinkOptions(max_block_size=bound))
    rules = {b.rule for b in linkage.oversized}
    assert "k_name_birth" in rules and all(b.size == n for b in linkage.oversized)
    assert linkage.stats["pairs_blocked_upper_bound"] <= len(RULES) * n * (bound - 1) / 2
    assert linkage.stats["pairs_scored"] == 0
    assert len(set(linkage.entity)) == n


def test_refusals_are_bilingual_errors(extracts: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "o.csv")
    kind = runner.invoke(
        app, ["masterdata", "link", "--kind", "vehicle", str(extracts[0]), "--out", out]
    )
    assert kind.exit_code == 1 and "暂不支持" in kind.output and "not supported" in kind.output
    odd = write_csv(tmp_path / "x.csv", ["a", "b"], [["1", "2"]])
    cols = runner.invoke(app, ["masterdata", "link", str(odd), "--out", out])
    assert cols.exit_code == 1 and "no name or resident ID column" in cols.output
    twin = tmp_path / "sub"
    twin.mkdir()
    same = write_csv(twin / "公安.csv", ["姓名"], [["张三"]])
    dup = runner.invoke(app, ["masterdata", "link", str(extracts[0]), str(same), "--out", out])
    assert dup.exit_code == 1 and "share a name" in dup.output
    assert not (tmp_path / "o.csv").exists()


def test_outputs_are_all_or_nothing(extracts: list[Path], tmp_path: Path) -> None:
    run = link_files(extracts)
    with pytest.raises(Exception, match="does not exist"):
        write_outputs(run, tmp_path / "missing" / "o.csv")
    assert not list(tmp_path.glob("**/o*.csv*"))


def test_legal_entities_link_by_uscc_and_name_but_branches_stay_apart(tmp_path: Path) -> None:
    from shuzhi.standards.identifiers import uscc_from_parts

    parent = uscc_from_parts("9", "1", "330106", "MA2H3K4L")
    branch = uscc_from_parts("9", "1", "330106", "MA2H3K5P")
    market = write_csv(
        tmp_path / "市场监管.csv",
        ["统一社会信用代码", "企业名称", "法定代表人", "住所"],
        [
            [parent, "杭州恒达科技有限责任公司", "张三丰", "浙江省杭州市西湖区文三路1号"],
            [branch, "杭州恒达科技有限责任公司西湖分公司", "李四", "杭州市西湖区文三路9号"],
        ],
    )
    tax = write_csv(
        tmp_path / "税务.csv",
        ["名称", "tyshxydm", "fddbr", "dizhi"],
        [
            ["杭州恒達科技有限公司", parent.lower(), "张三丰", "杭州市西湖区文三路1号"],
            ["恒达科技有限公司", "", "张三丰", "浙江省杭州市西湖区文三路1号"],
        ],
    )
    out = tmp_path / "e.csv"
    result = CliRunner().invoke(
        app,
        ["masterdata", "link", "--kind", "legal_entity", str(market), str(tax), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    links = _links(out)
    assert links[("市场监管", 1)] == links[("税务", 1)] == links[("税务", 2)]
    assert links[("市场监管", 2)] != links[("市场监管", 1)]
    assert links[("市场监管", 1)].startswith("E")
    with (tmp_path / "e.golden.csv").open(encoding="utf-8") as f:
        golden = {g["entity_id"]: g for g in csv.DictReader(f)}
    firm = golden[links[("市场监管", 1)]]
    assert (firm["uscc"], firm["records"]) == (parent, "3")
    assert firm["org_code"] == parent[8:17]


def test_xlsx_extracts_are_read_with_their_headers(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号", "出生日期"])
    sheet.append(["张三丰", ZHANG, "1985-03-02"])
    sheet.append(["張三豐", ZHANG.lower(), "1985-03-02"])
    path = tmp_path / "教育.xlsx"
    book.save(path)
    run = link_files([path])
    assert run.linkage.features.column("row").to_pylist() == [1, 2]
    assert run.linkage.entity[0] == run.linkage.entity[1]


def test_same_place_links_records_without_id_or_birth_date_but_same_county_does_not() -> None:
    """Two records of 赵丽华 with neither ID nor birth date at the same road and number of
    the same county (one written with its province, one without) are one person; a third
    in the same county at another address stays apart (left for review)."""
    records = [
        SourceRecord(
            "民政", 1, {"name": "赵丽华", "sex": "女", "address": "浙江省杭州市西湖区文三路18号"}
        ),
        SourceRecord(
            "卫健", 1, {"name": "赵丽华", "sex": "女", "address": "杭州市西湖区文三路18号"}
        ),
        SourceRecord(
            "教育", 1, {"name": "赵丽华", "sex": "女", "address": "杭州市西湖区天目山路2号"}
        ),
    ]
    linkage = link(build_features(records))
    entity = linkage.entity
    assert entity[0] == entity[1] != entity[2]
    pairs = linkage.pairs.to_pylist()
    first = next(p for p in pairs if {p["unique_id_l"], p["unique_id_r"]} == {0, 1})
    assert first["decision"] == "merged"
    assert "address=same place" in first["explanation"]
