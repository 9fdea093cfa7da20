"""Synthetic department extracts about the same people, with ground truth, for evaluation.

Five departments (公安, 人社, 民政, 卫健, 教育) each export some of the people, with their
own headers (Chinese or pinyin), formats and the defects real extracts carry: missing and
mistyped resident IDs (about 70 % of records carry a usable one), IDs written with
full-width digits, a lower-case x, spaces, or in the old 15-digit form; homophone,
traditional-character and truncated names; missing and mistyped birth dates; changed and
missing phones; moved addresses, short and full address forms; duplicate rows within an
extract. Deterministic for a seed. The truth file names the person behind every row.

By default people and enterprises live in counties across the country. Given a
``Locality`` (one county's streets and communities, as a demo district has), they all live
and are registered there, their addresses written down to the street and community and
their moves kept inside it.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from shuzhi.standards.identifiers import ric_check_char

DEPARTMENTS = ("公安", "人社", "民政", "卫健", "教育")
# Header of each field per department (None: the department does not hold the field).
_HEADERS: dict[str, dict[str, str]] = {
    "公安": {
        "resident_id": "公民身份号码",
        "name": "姓名",
        "sex": "性别",
        "birth_date": "出生日期",
        "address": "户籍地址",
        "phone": "联系电话",
        "updated": "更新时间",
    },
    "人社": {
        "resident_id": "身份证号",
        "name": "姓名",
        "sex": "性别",
        "birth_date": "出生日期",
        "phone": "手机号码",
        "address": "居住地址",
        "updated": "更新日期",
    },
    "民政": {
        "name": "xingming",
        "resident_id": "shenfenzhenghao",
        "sex": "xingbie",
        "birth_date": "chushengriqi",
        "phone": "lianxidianhua",
        "address": "zhuzhi",
        "updated": "gengxinriqi",
    },
    "卫健": {
        "name": "姓名",
        "resident_id": "证件号码",
        "sex": "性别",
        "birth_date": "出生日期",
        "phone": "联系电话",
        "address": "住址",
        "updated": "登记日期",
    },
    "教育": {
        "name": "姓名",
        "resident_id": "身份证号码",
        "sex": "性别",
        "birth_date": "出生日期",
        "phone": "联系电话",
        "address": "家庭住址",
        "updated": "更新时间",
    },
}
_SURNAMES = (
    "王" * 14
    + "李" * 14
    + "张" * 13
    + "刘" * 10
    + "陈" * 9
    + "杨" * 6
    + "黄" * 5
    + "赵" * 5
    + "吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤单仇解查"
)
_COMPOUND = ("欧阳", "司马", "诸葛", "上官")
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏飞云峰海燕波宁浩"
    "宇晨欣怡佳琪子轩梓涵一诺雨彤俊杰志刚秀英桂芳春梅丹丹晓东晓明小红丽华婷婷雪梅海涛"
    "振华德明永刚立新凤英淑珍金凤玉梅"
)
# Characters a clerk hears the same (toneless pinyin): a name written by ear.
_HOMOPHONES = {
    "伟": "玮炜",
    "芳": "方坊",
    "娜": "纳",
    "敏": "民",
    "静": "婧靖",
    "丽": "莉俐",
    "强": "墙",
    "磊": "垒",
    "军": "君钧",
    "洋": "阳杨",
    "勇": "永咏",
    "艳": "燕彦",
    "杰": "洁捷",
    "娟": "鹃",
    "涛": "韬",
    "明": "鸣铭",
    "超": "朝",
    "秀": "绣",
    "霞": "侠",
    "平": "萍苹",
    "刚": "钢",
    "英": "瑛莹",
    "华": "桦骅",
    "玉": "钰",
    "兰": "岚澜",
    "红": "虹鸿",
    "文": "雯",
    "辉": "晖",
    "鹏": "朋",
    "飞": "菲",
    "峰": "锋枫",
    "海": "亥",
    "燕": "艳",
    "波": "博",
    "宁": "凝",
    "浩": "皓昊",
    "宇": "雨羽",
    "晨": "辰",
    "欣": "昕鑫",
    "怡": "宜",
    "佳": "嘉家",
    "琪": "琦祺",
    "涵": "晗",
    "彤": "桐",
    "婷": "亭",
    "梅": "玫",
    "东": "冬",
    "新": "欣",
    "珍": "真",
}
# (province, prefecture or "" for a municipality, county, county code)
_COUNTIES = (
    ("北京市", "", "朝阳区", "110105"),
    ("北京市", "", "海淀区", "110108"),
    ("上海市", "", "徐汇区", "310104"),
    ("上海市", "", "浦东新区", "310115"),
    ("浙江省", "杭州市", "西湖区", "330106"),
    ("浙江省", "杭州市", "上城区", "330102"),
    ("浙江省", "宁波市", "鄞州区", "330212"),
    ("江苏省", "南京市", "玄武区", "320102"),
    ("江苏省", "南京市", "鼓楼区", "320106"),
    ("广东省", "深圳市", "南山区", "440305"),
    ("广东省", "广州市", "天河区", "440106"),
    ("四川省", "成都市", "武侯区", "510107"),
    ("湖北省", "武汉市", "武昌区", "420106"),
    ("山东省", "青岛市", "市南区", "370202"),
    ("陕西省", "西安市", "雁塔区", "610113"),
    ("福建省", "厦门市", "思明区", "350203"),
)
_ROADS = "人民解放建设中山和平新华文化胜利长江黄河东风光明幸福团结"
County = tuple[str, str, str, str]


@dataclass(frozen=True)
class Locality:
    """One county's streets (乡镇街道) and their communities, where everyone generated lives
    and every enterprise is registered. ``county`` may be "" (addresses that leave it out);
    ``code`` is the division code resident IDs and credit codes carry."""

    province: str
    city: str
    county: str
    code: str
    streets: Sequence[tuple[str, Sequence[str]]]  # street → its communities
    roads: Sequence[str]

    @property
    def region(self) -> County:
        return (self.province, self.city, self.county, self.code)

    def home(self, rng: random.Random) -> str:
        """A place below the county: street, community, road and number."""
        street, communities = rng.choice(self.streets)
        return (
            f"{street}{rng.choice(communities)}{rng.choice(self.roads)}"
            f"{rng.randrange(1, 300)}号{rng.randrange(1, 30)}幢{rng.randrange(101, 2603)}室"
        )


_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@dataclass
class Person:
    pid: int
    name: str
    resident_id: str
    born: date
    sex: str
    phone: str
    county: County
    street: str


def _resident_id(rng: random.Random, county: str, born: date, sex: str, used: set[str]) -> str:
    """A valid ID no one else in the population holds (a real ID is unique)."""
    parity = (1, 3, 5, 7, 9) if sex == "男" else (0, 2, 4, 6, 8)
    while True:
        seq = rng.randrange(0, 100) * 10 + rng.choice(parity)
        first17 = f"{county}{born:%Y%m%d}{seq:03d}"
        if first17 not in used:
            used.add(first17)
            return first17 + ric_check_char(first17)


def _person(
    rng: random.Random, pid: int, used: set[str], locality: Locality | None = None
) -> Person:
    surname = rng.choice(_COMPOUND) if rng.random() < 0.01 else rng.choice(_SURNAMES)
    given = "".join(rng.choice(_GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 27_000))
    sex = rng.choice(("男", "女"))
    county = locality.region if locality else rng.choice(_COUNTIES)
    phone = f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}"
    street = locality.home(rng) if locality else _road(rng)
    rid = _resident_id(rng, county[3], born, sex, used)
    return Person(pid, surname + given, rid, born, sex, phone, county, street)


def _road(rng: random.Random) -> str:
    return f"{rng.choice(_ROADS)}{rng.choice(_ROADS)}路{rng.randrange(1, 400)}号"


def _moved(rng: random.Random, locality: Locality | None) -> tuple[County, str]:
    """Somewhere else: another county, or another place of the locality."""
    if locality is not None:
        return locality.region, locality.home(rng)
    return rng.choice(_COUNTIES), _road(rng)


def _typo_digit(rng: random.Random, text: str, start: int = 0) -> str:
    i = rng.randrange(start, len(text) - 1)
    digit = str((int(text[i]) + rng.randrange(1, 10)) % 10) if text[i].isdigit() else "0"
    return text[:i] + digit + text[i + 1 :]


def _id_as_written(rng: random.Random, p: Person) -> str:
    r = rng.random()
    if r < 0.25:
        return rng.choice(("", "", "无", "不详"))
    if r < 0.30:  # a mistyped digit: the check character no longer holds
        return _typo_digit(rng, p.resident_id)
    if r < 0.32:
        return p.resident_id.translate(_FULL_WIDTH)
    if r < 0.33:
        return p.resident_id[:-1] + p.resident_id[-1].lower()
    if r < 0.34:
        return f"{p.resident_id[:6]} {p.resident_id[6:14]} {p.resident_id[14:]}"
    if r < 0.36 and p.born.year < 2000:  # the old 15-digit form
        return p.resident_id[:6] + p.resident_id[8:17]
    return p.resident_id


def _name_as_written(rng: random.Random, p: Person, s2t: object) -> str:
    r = rng.random()
    name = p.name
    if r < 0.03:  # written by ear
        spots = [i for i, ch in enumerate(name) if i > 0 and ch in _HOMOPHONES]
        if spots:
            i = rng.choice(spots)
            name = name[:i] + rng.choice(_HOMOPHONES[name[i]]) + name[i + 1 :]
    elif r < 0.05:
        name = s2t.convert(name)  # type: ignore[attr-defined]
    elif r < 0.06 and len(name) >= 3:  # truncated by a short field
        name = name[:-1]
    elif r < 0.07:
        name = f"{name[0]} {name[1:]}"
    return name


def _birth_as_written(rng: random.Random, p: Person) -> str:
    r = rng.random()
    if r < 0.05:
        return ""
    born = p.born
    if r < 0.07:
        born = born + timedelta(days=rng.choice((-1, 1, 10, -10, 31)))
    return rng.choice(
        (born.isoformat(), f"{born:%Y%m%d}", f"{born.year}年{born.month}月{born.day}日")
    )


def _address_as_written(rng: random.Random, p: Person, locality: Locality | None = None) -> str:
    (province, city, county, _code), street = p.county, p.street
    if rng.random() < 0.05:  # moved
        (province, city, county, _code), street = _moved(rng, locality)
    r = rng.random()
    if r < 0.10:
        return ""
    if r < 0.40:
        return f"{city or province}{county}{street}"
    return f"{province}{city}{county}{street}"


def _record(
    rng: random.Random, p: Person, dept: str, s2t: object, locality: Locality | None = None
) -> dict[str, str]:
    phone = p.phone
    r = rng.random()
    if r < 0.30:
        phone = ""
    elif r < 0.40:
        phone = f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}"
    sex = p.sex if dept != "卫健" else ("1" if p.sex == "男" else "2")
    updated = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 2000))
    return {
        "resident_id": _id_as_written(rng, p),
        "name": _name_as_written(rng, p, s2t),
        "sex": sex if rng.random() > 0.02 else "",
        "birth_date": _birth_as_written(rng, p),
        "phone": phone,
        "address": _address_as_written(rng, p, locality),
        "updated": updated.isoformat(),
    }


def generate(
    records: int,
    out_dir: Path,
    seed: int = 7,
    *,
    departments: Sequence[str] = DEPARTMENTS,
    locality: Locality | None = None,
) -> dict[str, Path]:
    """About ``records`` rows over the departments' extracts written to ``out_dir`` (one
    CSV each, 民政 in GB18030 as older systems write it) and ``truth.csv``
    (source,row,person). Each person appears in one to four extracts, ~1 % of rows twice
    in the same extract. Returns department → file."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[tuple[int, dict[str, str]]]] = {d: [] for d in departments}
    total, pid = 0, 0
    used: set[str] = set()
    while total < records:
        pid += 1
        person = _person(rng, pid, used, locality)
        for dept in rng.sample(departments, min(len(departments), rng.choice((1, 2, 2, 3, 3, 4)))):
            copies = 2 if rng.random() < 0.01 else 1
            for _ in range(copies):
                rows[dept].append((pid, _record(rng, person, dept, s2t, locality)))
                total += 1
    files: dict[str, Path] = {}
    with (out_dir / "truth.csv").open("w", newline="", encoding="utf-8") as truth_file:
        truth = csv.writer(truth_file)
        truth.writerow(("source", "row", "entity_id"))
        for dept, dept_rows in rows.items():
            rng.shuffle(dept_rows)
            headers = _HEADERS[dept]
            path = out_dir / f"{dept}.csv"
            encoding = "gb18030" if dept == "民政" else "utf-8"
            with path.open("w", newline="", encoding=encoding) as f:
                writer = csv.writer(f)
                writer.writerow(headers.values())
                for row, (person_id, record) in enumerate(dept_rows, start=1):
                    writer.writerow(record[field] for field in headers)
                    truth.writerow((dept, row, f"person-{person_id}"))
            files[dept] = path
    return files


# Legal entities: five departments' registers of the same enterprises.
ENTITY_DEPARTMENTS = ("市场监管", "税务", "人社", "统计", "住建")
_ENTITY_HEADERS: dict[str, dict[str, str]] = {
    "市场监管": {
        "uscc": "统一社会信用代码",
        "name": "企业名称",
        "registration_number": "注册号",
        "legal_representative": "法定代表人",
        "address": "住所",
        "updated": "更新时间",
    },
    "税务": {
        "uscc": "统一社会信用代码",
        "name": "名称",
        "legal_representative": "法定代表人",
        "address": "注册地址",
        "updated": "更新日期",
    },
    "人社": {
        "name": "单位名称",
        "uscc": "tongyishehuixinyongdaima",
        "org_code": "组织机构代码",
        "legal_representative": "负责人",
        "address": "地址",
        "updated": "更新时间",
    },
    "统计": {
        "name": "mingcheng",
        "uscc": "tyshxydm",
        "org_code": "zzjgdm",
        "legal_representative": "fddbr",
        "address": "dizhi",
        "updated": "gengxinriqi",
    },
    "住建": {
        "name": "企业名称",
        "uscc": "统一社会信用代码",
        "legal_representative": "法定代表人",
        "address": "经营地址",
        "updated": "登记日期",
    },
}
_WORDS = "华信恒达鼎盛新宇宏远金源瑞丰天成博创海纳正泰嘉禾中科永安福星盛世明德东方长城银河"
_TRADES = ("科技", "贸易", "建设", "餐饮", "物流", "医药", "电子", "置业", "文化传媒", "机械")
_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_BRANCHES = ("第一分公司", "西湖分公司", "上海分公司", "人民路店")
_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class Enterprise:
    eid: int
    region: County
    name: str  # full name with region prefix and legal form
    uscc: str
    rep: str
    street: str


def _enterprise(
    rng: random.Random, eid: int, parent: Enterprise | None, locality: Locality | None = None
) -> Enterprise:
    from shuzhi.standards.identifiers import uscc_from_parts

    region = parent.region if parent else locality.region if locality else rng.choice(_COUNTIES)
    body = "".join(rng.choice(_ORG_CHARS) for _ in range(8))
    uscc = uscc_from_parts("9", "1", region[3], body)
    if parent is not None:
        name = parent.name + rng.choice(_BRANCHES)
    else:
        core = rng.choice(_WORDS[::2]) + rng.choice(_WORDS[1::2])
        prefix = (region[1] or region[0]).removesuffix("市").removesuffix("省")
        name = f"{prefix}{core}{rng.choice(_TRADES)}{rng.choice(_FORMS)}"
    rep = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(2))
    street = locality.home(rng) if locality else _road(rng)
    return Enterprise(eid, region, name, uscc, rep, street)


def _entity_record(rng: random.Random, e: Enterprise, s2t: object) -> dict[str, str]:
    r = rng.random()
    uscc = e.uscc
    if r < 0.25:
        uscc = ""
    elif r < 0.30:
        uscc = _typo_digit(rng, uscc, 2)
    elif r < 0.32:
        uscc = uscc.lower()
    name = e.name
    r = rng.random()
    if r < 0.15:  # 有限责任公司 and 有限公司 written either way
        name = (
            name.replace("有限责任公司", "#")
            .replace("有限公司", "有限责任公司")
            .replace("#", "有限公司")
        )
    elif r < 0.25:  # region prefix left out
        prefix = (e.region[1] or e.region[0]).removesuffix("市").removesuffix("省")
        name = name.removeprefix(prefix)
    elif r < 0.27:
        name = s2t.convert(name)  # type: ignore[attr-defined]
    elif r < 0.30:
        name = name.replace("公司", " 公司", 1)
    rep = e.rep
    if rng.random() < 0.03:
        spots = [i for i, ch in enumerate(rep) if i > 0 and ch in _HOMOPHONES]
        if spots:
            i = rng.choice(spots)
            rep = rep[:i] + rng.choice(_HOMOPHONES[rep[i]]) + rep[i + 1 :]
    if rng.random() < 0.1:
        rep = ""
    province, city, county, _code = e.region
    address = (
        f"{province}{city}{county}{e.street}"
        if rng.random() < 0.6
        else f"{city or province}{county}{e.street}"
    )
    if rng.random() < 0.1:
        address = ""
    org = e.uscc[8:17]
    updated = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 2000))
    return {
        "uscc": uscc,
        "name": name,
        "registration_number": "",
        "org_code": f"{org[:8]}-{org[8]}" if rng.random() < 0.8 else "",
        "legal_representative": rep,
        "address": address,
        "updated": updated.isoformat(),
    }


def headers(department: str, kind: str = "person") -> dict[str, str]:
    """A department's extract headers: engine field → the column it writes it in."""
    return dict((_ENTITY_HEADERS if kind == "legal_entity" else _HEADERS)[department])


def generate_entities(
    records: int,
    out_dir: Path,
    seed: int = 7,
    *,
    departments: Sequence[str] = ENTITY_DEPARTMENTS,
    locality: Locality | None = None,
) -> dict[str, Path]:
    """About ``records`` rows of legal entities over the departments' registers and
    ``truth.csv``; about 5 % of enterprises have a branch, a registration (and entity) of its
    own whose name extends the parent's."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[tuple[int, dict[str, str]]]] = {d: [] for d in departments}
    total, eid = 0, 0
    while total < records:
        eid += 1
        parent = _enterprise(rng, eid, None, locality)
        group = [parent]
        if rng.random() < 0.05:
            eid += 1
            group.append(_enterprise(rng, eid, parent, locality))
        for e in group:
            times = min(len(departments), rng.choice((1, 2, 2, 3, 3, 4)))
            for dept in rng.sample(departments, times):
                rows[dept].append((e.eid, _entity_record(rng, e, s2t)))
                total += 1
    files: dict[str, Path] = {}
    with (out_dir / "truth.csv").open("w", newline="", encoding="utf-8") as truth_file:
        truth = csv.writer(truth_file)
        truth.writerow(("source", "row", "entity_id"))
        for dept, dept_rows in rows.items():
            rng.shuffle(dept_rows)
            headers = _ENTITY_HEADERS[dept]
            path = out_dir / f"{dept}.csv"
            with path.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(headers.values())
                for row, (entity_id, record) in enumerate(dept_rows, start=1):
                    writer.writerow(record[field] for field in headers)
                    truth.writerow((dept, row, f"entity-{entity_id}"))
            files[dept] = path
    return files
