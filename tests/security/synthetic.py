"""Synthetic, checksum-valid identifiers and real-shaped government tables.

Used to build the labelled classification corpus (and demo data). Every identifier is
generated from a seeded random source: none belongs to a real person or organisation
except by coincidence. Values are deliberately messy the way exports are (full-width
digits, spaces, lower-case x, Excel text apostrophes, +86 prefixes, mixed date formats,
blanks), and tables include hard negatives: business numbers that imitate phones, IDs or
permits, 18-digit numbers with bad check digits, amounts, codes and free text.
"""

from __future__ import annotations

import csv
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from shuzhi.security.categories import Category
from shuzhi.standards.attributes import ETHNIC_GROUPS
from shuzhi.standards.identifiers import (
    USCC_ALPHABET,
    USCC_AUTHORITIES,
    luhn_ok,
    org_code_check_char,
    ric_check_char,
    uscc_from_parts,
)
from shuzhi.standards.phones import CURRENT_MOBILE_PREFIXES
from shuzhi.standards.regions import CITY_NAMES, PROVINCES
from shuzhi.standards.text import words

R = random.Random
C = Category

# County-level codes, including some abolished since (IDs keep them).
COUNTY_CODES = words(
    """110101 110105 110108 110103 120101 130102 140105 150102 210102 220102 230102 310101
    310104 310115 320102 320505 330102 330103 330106 330108 330110 330203 330302 330602
    340104 350102 350203 360102 370102 370202 410105 420106 430104 440105 440106 440305
    440306 450103 460105 500103 500112 510104 510107 520102 530102 610113 620102 630102
    640104 650102"""
)
AREA_CODES = words("010 021 022 023 020 024 025 027 028 029 0571 0574 0577 0755 0769 0512 0531")
CARD_BINS = words("622202 621700 622848 623058 622588 621226 622700 436742 625965 622908")
SURNAME_POOL = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史"
    "陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤常温康施文牛"
)
COMPOUND = words("欧阳 司马 上官 诸葛 东方 皇甫 慕容 司徒")
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英霞平刚桂华建国志文博雨桐子涵欣怡浩然思远立"
    "新红梅晓东海燕丹鹏婷琳宇轩梓萱一诺俊杰佳怡嘉豪子轩欣妍雅琪"
)
DOTTED_NAMES = words("买买提·艾力 阿依古丽·吐尔逊 古丽娜尔·艾买提 热依拉·买买提 艾尔肯·吐逊")
ROADS = words("文一西路 解放路 人民路 中山北路 建国路 延安东路 天目山路 学院路 长江路 和平大道")
ROADS += words("湖滨路 新华街 青年路 滨江大道 古墩路 环城北路 钱江路 莫干山路 体育场路 凤起路")
TOWNS = words("城西街道 文新街道 北山街道 翠苑街道 蒋村街道 留下镇 三墩镇 转塘街道 良渚街道")
TOWNS += words("五常街道 南门街道 杏园街道 柳湖街道 双流街道 青山镇 临平街道")
DISTRICTS = words("西湖区 上城区 拱墅区 滨江区 余杭区 萧山区 朝阳区 海淀区 浦东新区 徐汇区")
DISTRICTS += words("天河区 南山区 锦江区 武昌区 玄武区 历下区 雁塔区 渝中区 青川区")
COMMUNITIES = words("阳光小区 翠苑一区 杏园社区 金都花园 东方公寓 钱江新村 和家园 锦绣花园")
DIAGNOSES = words(
    """原发性高血压 2型糖尿病 冠状动脉粥样硬化性心脏病 急性上呼吸道感染 社区获得性肺炎 慢性胃炎
    腰椎间盘突出症 支气管哮喘 脑梗死 高脂血症 慢性阻塞性肺疾病 甲状腺功能亢进症 痛风 骨质疏松
    带状疱疹 过敏性鼻炎 肺结核 乙型病毒性肝炎 抑郁症 焦虑障碍 慢性肾脏病 类风湿关节炎 白内障
    手足口病 胆囊结石 急性阑尾炎 桡骨远端骨折 缺铁性贫血 偏头痛 荨麻疹"""
)
ICD_CODES = words(
    """I10.x00x002 E11.900 I25.103 J06.900 J18.900 K29.500 M51.202 J45.900 I63.900 E78.500
    J44.100 E05.900 M10.900 M81.000 B02.900 J30.400 A16.201 B18.100 F32.900 F41.100 N18.900
    M06.900 H26.900 B08.401 K80.200 K35.800 S52.500 D50.900 G43.900 L50.900 I10 E11 J18.9"""
)
ALLERGIES = words("青霉素过敏 头孢类过敏 磺胺类过敏 海鲜过敏 花粉过敏 无 无 无 无 无")
STATUS_WORDS = words("已办结 办理中 已受理 待审核 已退回 已归档 已转办 不予受理")
DEPARTMENTS = words("区民政局 区卫生健康委员会 区人力资源和社会保障局 区市场监督管理局 区公安分局")
DEPARTMENTS += words("区住房和城乡建设局 区城市管理局 城西街道办事处 区教育局")
COMPANY_WORDS = words("青川 华源 宏达 鑫盛 恒通 新锐 博远 智联 天合 卓越 东方 金桥")
COMPANY_TRADES = words("科技 贸易 建筑工程 餐饮管理 物业服务 网络科技 医疗器械 文化传媒")
DEPTS_HOSPITAL = words("心内科 内分泌科 呼吸内科 骨科 神经内科 消化内科 儿科 急诊科 全科")
PETITION_TEXTS = words(
    """反映小区门口道路积水严重，影响居民出行，要求尽快修复。
    投诉楼下餐馆油烟扰民，多次协商未果，希望有关部门处理。
    反映本人工资被拖欠三个月，要求用人单位支付。
    举报某工地夜间施工噪音，影响休息。
    咨询独生子女父母奖励政策如何申请，家属有高血压需照顾。
    反映村里路灯损坏已久，晚上出行不便。
    要求解决孩子入学问题，户籍在本区但未分配学位。
    反映物业服务不到位，电梯经常故障。"""
)
SCOPES = words(
    """软件开发；信息技术咨询服务；数据处理和存储支持服务。
    餐饮服务；食品销售（仅销售预包装食品）。
    建设工程施工；住宅室内装饰装修。
    医疗器械经营；第二类医疗器械销售。
    物业管理；停车场服务；家政服务。"""
)
USER_AGENTS = words(
    """Mozilla/5.0(Windows_NT_10.0;Win64;x64) Mozilla/5.0(iPhone;CPU_iPhone_OS_17_0)
    Mozilla/5.0(Linux;Android_13) okhttp/4.9.3 python-requests/2.31"""
)
EMAIL_DOMAINS = words("qq.com 163.com 126.com sina.com gmail.com foxmail.com outlook.com")
EMAIL_DOMAINS += words("qingchuan.gov.cn example.org")
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"
ETHNIC_WEIGHTED = ["汉族"] * 30 + [g + "族" for g in ETHNIC_GROUPS[:20]]
RELIGIONS = ["佛教", "道教", "伊斯兰教", "基督教", "天主教"]

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def _digits(rng: R, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _birth(rng: R, lo: int = 1935, hi: int = 2018) -> date:
    return date(lo, 1, 1) + timedelta(days=rng.randrange((date(hi, 12, 31) - date(lo, 1, 1)).days))


def resident_id(rng: R, born: date | None = None) -> str:
    first17 = rng.choice(COUNTY_CODES) + (born or _birth(rng)).strftime("%Y%m%d") + _digits(rng, 3)
    return first17 + ric_check_char(first17)


def legacy_id(rng: R) -> str:
    born = _birth(rng, 1930, 1985)
    return rng.choice(COUNTY_CODES) + born.strftime("%y%m%d") + _digits(rng, 3)


def bad_check_id(rng: R) -> str:
    """ID-shaped number whose check digit is wrong (an archive number, a typo)."""
    good = resident_id(rng)
    wrong = rng.choice([c for c in "0123456789X" if c != good[-1]])
    return good[:17] + wrong


def mobile(rng: R) -> str:
    prefix = rng.choice(sorted(p for p in CURRENT_MOBILE_PREFIXES.prefixes if len(p) == 3))
    return prefix + _digits(rng, 8)


def landline(rng: R) -> tuple[str, str]:
    area = rng.choice(AREA_CODES)
    local = str(rng.randint(2, 8)) + _digits(rng, 7 if len(area) == 3 or rng.random() < 0.7 else 6)
    return area, local


def bank_card(rng: R, legacy_rate: float = 0.08, mastercard_2_rate: float = 0.0) -> str:
    if rng.random() < mastercard_2_rate:
        return mastercard_2_series(rng)
    body = rng.choice(CARD_BINS) + _digits(rng, rng.choice([9, 12, 12, 12]))
    for d in string.digits:
        if luhn_ok(body + d):
            good = body + d
            break
    if rng.random() < legacy_rate:
        return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)
    return good


def uscc(rng: R) -> str:
    authority = rng.choice(["9"] * 12 + sorted(USCC_AUTHORITIES))
    category = rng.choice(USCC_AUTHORITIES[authority])
    body = "".join(rng.choice(USCC_ALPHABET) for _ in range(8))
    return uscc_from_parts(authority, category, rng.choice(COUNTY_CODES), body)


def org_code(rng: R) -> str:
    body = "".join(rng.choice(string.digits + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    return body + org_code_check_char(body)


def passport(rng: R) -> str:
    kind = rng.random()
    if kind < 0.6:
        return "E" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + _digits(rng, 7)
    return ("E" if kind < 0.85 else "G") + _digits(rng, 8)


def travel_permit(rng: R) -> str:
    kind = rng.random()
    if kind < 0.6:
        return "C" + _digits(rng, 8)
    return rng.choice("HM") + _digits(rng, rng.choice([8, 10]))


def taiwan_permit(rng: R) -> str:
    """台胞证 (8 digits; the booklet adds its issue letter) or 往来台湾通行证 (L/T + 8 digits)."""
    kind = rng.random()
    if kind < 0.45:
        return rng.choice("LLT") + _digits(rng, 8)
    if kind < 0.6:
        return _digits(rng, 8) + f"({rng.choice('ABCDE')})"
    return _digits(rng, 8)


def sar_passport(rng: R) -> str:
    """HKSAR (K + 8 digits, K + letter + 7 digits) or Macao SAR (MA + 7 digits) passport."""
    kind = rng.random()
    if kind < 0.4:
        return "K" + _digits(rng, 8)
    if kind < 0.7:
        return "K" + rng.choice("ABCDEFGHJKLMN") + _digits(rng, 7)
    return "MA" + _digits(rng, 7)


MISSION_CODES = words("014 023 104 131 224 201 317 222")


def diplomatic_plate(rng: R) -> str:
    """Embassy plates (使 + mission code + serial, either way round) and consulate plates."""
    kind = rng.random()
    serial = f"{rng.randint(1, 999):03d}"
    if kind < 0.4:
        return "使" + rng.choice(MISSION_CODES) + serial
    if kind < 0.7:
        return rng.choice(MISSION_CODES) + serial + "使"
    province = rng.choice("沪粤川辽鄂云桂黑")
    return province + rng.choice("AB") + _digits(rng, 4) + "领"


def mastercard_2_series(rng: R) -> str:
    """A Luhn-valid 16-digit Mastercard number of the 2221–2720 series."""
    body = str(rng.randint(2221, 2720)) + _digits(rng, 11)
    return next(body + d for d in string.digits if luhn_ok(body + d))


def plate(rng: R) -> str:
    province = rng.choice([p.plate for p in PROVINCES if p.plate])
    letter = rng.choice(PLATE_LETTERS[:12])
    kind = rng.random()
    tail_chars = string.digits * 3 + PLATE_LETTERS
    if kind < 0.75:
        return province + letter + "".join(rng.choice(tail_chars) for _ in range(5))
    if kind < 0.93:
        return province + letter + rng.choice("DF") + rng.choice(tail_chars) + _digits(rng, 4)
    return province + letter + _digits(rng, 5) + rng.choice("DF")


def person_name(rng: R) -> str:
    roll = rng.random()
    if roll < 0.01:
        return rng.choice(DOTTED_NAMES)
    surname = rng.choice(COMPOUND) if roll < 0.04 else rng.choice(SURNAME_POOL)
    return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice([1, 2, 2])))


def address(rng: R, detail: bool = True) -> str:
    province = rng.choice(PROVINCES[:31])
    city = rng.choice(CITY_NAMES) + "市"
    parts = [province.name if rng.random() < 0.6 else "", city, rng.choice(DISTRICTS)]
    if rng.random() < 0.7:
        parts.append(rng.choice(TOWNS))
    if rng.random() < 0.3:
        parts.append(rng.choice(COMMUNITIES) + f"{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元")
    else:
        parts.append(f"{rng.choice(ROADS)}{rng.randint(1, 999)}号")
    if detail and rng.random() < 0.5:
        parts.append(f"{rng.randint(1, 28)}{rng.randint(1, 4):02d}室")
    return "".join(parts)


def email(rng: R) -> str:
    if rng.random() < 0.3:
        return _digits(rng, rng.randint(6, 10)).lstrip("0") + "1@qq.com"
    local = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 8)))
    sep = rng.choice(["", ".", "_", ""])
    return f"{local}{sep}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}"


def ip_address(rng: R) -> str:
    if rng.random() < 0.1:
        return "2408:" + ":".join(f"{rng.randrange(65536):x}" for _ in range(7))
    first = rng.choice([10, 36, 58, 101, 112, 114, 117, 120, 172, 180, 183, 192, 202, 223])
    return ".".join(
        str(x) for x in (first, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
    )


def fmt_date(rng: R, d: date, styles: str = "iso") -> str:
    options = {
        "iso": ["%Y-%m-%d"],
        "mixed": [
            "%Y-%m-%d",
            "%Y/%m/%d",
            "%Y%m%d",
            "%Y年%m月%d日",
            "%Y.%m.%d",
            "%Y-%m-%d 00:00:00",
        ],
    }[styles]
    text = d.strftime(rng.choice(options))
    if "/" in text and rng.random() < 0.5:
        text = f"{d.year}/{d.month}/{d.day}"
    return text


def messy(rng: R, value: str, rate: float) -> str:
    """Export noise: surrounding spaces, full-width characters, Excel apostrophes."""
    if rng.random() >= rate:
        return value
    kind = rng.randrange(4)
    if kind == 0:
        return f" {value} "
    if kind == 1:
        return value.translate(FULL_WIDTH)
    if kind == 2 and value[:1].isdigit():
        return "'" + value
    return value + "\t" if kind == 3 else value


def with_mobile_format(rng: R, number: str) -> str:
    style = rng.randrange(10)
    if style == 0:
        return "+86 " + number[:3] + " " + number[3:7] + " " + number[7:]
    if style == 1:
        return "+86" + number
    if style == 2:
        return number[:3] + "-" + number[3:7] + "-" + number[7:]
    if style == 3:
        return "86-" + number
    return number


def with_landline_format(rng: R, area: str, local: str) -> str:
    style = rng.randrange(6)
    if style == 0:
        return f"({area}){local}"
    if style == 1:
        return area + local
    if style == 2:
        return f"{area}-{local}-{rng.randint(100, 899)}"
    if style == 3:
        return f"{area} {local[:4]} {local[4:]}"
    return f"{area}-{local}"


def spaced_card(rng: R, number: str) -> str:
    if rng.random() < 0.3:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


# ---- Table specifications -------------------------------------------------------------

Maker = Callable[[R, int], str | None]  # (random source, row index) -> value


@dataclass(frozen=True)
class ColumnSpec:
    zh: str
    pinyin: str
    en: str
    category: Category
    make: Maker
    blank_rate: float = 0.05


@dataclass(frozen=True)
class TableSpec:
    file: str
    rows: int
    columns: tuple[ColumnSpec, ...]
    style: str | None = None  # header style fixed by the case (else rotated per seed)


def _m(f: Callable[[R], str]) -> Maker:
    return lambda rng, _i: f(rng)


def _choice(options: Sequence[str]) -> Maker:
    return lambda rng, _i: rng.choice(options)


def _rid(legacy_rate: float = 0.0, lower_x: float = 0.3) -> Maker:
    def make(rng: R, _i: int) -> str:
        if rng.random() < legacy_rate:
            return legacy_id(rng)
        value = resident_id(rng)
        if value.endswith("X") and rng.random() < lower_x:
            value = value[:-1] + "x"
        if rng.random() < 0.05:
            value = value[:6] + " " + value[6:14] + " " + value[14:]
        return value

    return make


def _mobile_col(landline_rate: float = 0.0) -> Maker:
    def make(rng: R, _i: int) -> str:
        if rng.random() < landline_rate:
            return with_landline_format(rng, *landline(rng))
        return with_mobile_format(rng, mobile(rng))

    return make


def _landline_col(mobile_rate: float = 0.0) -> Maker:
    def make(rng: R, _i: int) -> str:
        if rng.random() < mobile_rate:
            return mobile(rng)
        return with_landline_format(rng, *landline(rng))

    return make


def _birth_col(styles: str = "mixed", lo: int = 1935, hi: int = 2018) -> Maker:
    return lambda rng, _i: fmt_date(rng, _birth(rng, lo, hi), styles)


def _recent_date(styles: str = "iso", with_time: bool = False) -> Maker:
    def make(rng: R, _i: int) -> str:
        moment = datetime(2018, 1, 1) + timedelta(minutes=rng.randrange(60 * 24 * 365 * 6))
        if with_time:
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        return fmt_date(rng, moment.date(), styles)

    return make


def _sequence(prefix: str, start: int, width: int, step: int = 1) -> Maker:
    return lambda _rng, i: f"{prefix}{start + i * step:0{width}d}"


def _amount(rng: R) -> str:
    value = rng.choice([rng.randint(1, 500), round(rng.uniform(10, 99999), 2)])
    style = rng.randrange(4)
    if style == 0:
        return f"¥{value:,}"
    return str(value)


def _company(rng: R) -> str:
    return f"青川{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_TRADES)}有限公司"


def _health_history(rng: R) -> str:
    return "无" if rng.random() < 0.55 else "、".join(rng.sample(DIAGNOSES, rng.randint(1, 2)))


def _diagnosis(rng: R) -> str:
    return rng.choice(DIAGNOSES)


def _hex(rng: R, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _b64(rng: R, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(n))


def _coordinates(rng: R) -> str:
    lat, lng = rng.uniform(22.0, 41.0), rng.uniform(102.0, 122.0)
    return f"{lat:.6f},{lng:.6f}" if rng.random() < 0.7 else f"{lng:.6f},{lat:.6f}"


def _postal(rng: R) -> str:
    return rng.choice(words("100 200 310 311 510 518 610 430 210 250 710 300")) + _digits(rng, 3)


def _vin(rng: R) -> str:
    chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    return "L" + "".join(rng.choice(chars) for _ in range(16))


PHONE_SHAPED_PREFIXES = tuple(f"1{d}{e}" for d in "3456789" for e in string.digits)


def _phone_like_order(rng: R) -> str:
    """An 11-digit business number of the mobile shape (1, then 3–9, then nine digits).

    About three in four fall in an allocated mobile segment by chance, never all: a column in
    which every value is a valid mobile number is a phone column whatever it is called.
    """
    return rng.choice(PHONE_SHAPED_PREFIXES) + _digits(rng, 8)


def _product_code(rng: R) -> str:
    style = rng.randrange(3)
    if style == 0:
        return f"SP-{rng.randint(2019, 2024)}-{rng.randint(1, 99999):05d}"
    if style == 1:
        return f"HW{rng.choice('ABCDEFG')}{rng.randint(1000, 9999)}"
    return f"P{rng.randint(0, 99999):05d}"


def _invoice_code(rng: R) -> str:
    return "0" + rng.choice(words("33 44 11 31 32")) + _digits(rng, 9)


def _serial_19(rng: R) -> str:
    return "2" + _digits(rng, 18)


def _express_no(rng: R) -> str:
    return rng.choice(["SF", "YT", "JD", "ZTO"]) + _digits(rng, 12)


def _free_text(options: Sequence[str]) -> Maker:
    return lambda rng, _i: rng.choice(options).strip()


S = ColumnSpec
BLANK = 0.0

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "population.csv",
        200,
        (
            S("姓名", "XM", "name", C.PERSON_NAME, _m(person_name), BLANK),
            S("性别", "XB", "gender", C.GENDER, _choice(["男", "女"])),
            S("民族", "MZ", "ethnicity", C.ETHNICITY, _choice(ETHNIC_WEIGHTED)),
            S("公民身份号码", "GMSFHM", "id_number", C.RESIDENT_ID, _rid(0.03)),
            S("出生日期", "CSRQ", "birth_date", C.BIRTH_DATE, _birth_col()),
            S("户籍地址", "HJDZ", "registered_address", C.ADDRESS, _m(address)),
            S("现住址", "XZZ", "current_address", C.ADDRESS, _m(address), 0.15),
            S("联系电话", "LXDH", "phone", C.MOBILE_PHONE, _mobile_col(0.05), 0.1),
            S("邮政编码", "YZBM", "postcode", C.POSTAL_CODE, _m(_postal), 0.2),
            S("宗教信仰", "ZJXY", "religion", C.RELIGION, _choice(RELIGIONS + ["无"] * 8), 0.3),
            S("人员编号", "RYBH", "person_no", C.NONE, _sequence("RY", 3301060000, 10)),
            S("登记日期", "DJRQ", "registered_on", C.NONE, _recent_date("mixed")),
            S("所属街道", "SSJD", "street", C.NONE, _choice(TOWNS)),
            S("户号", "HH", "household_no", C.NONE, _sequence("", 310450001, 9, 3)),
            S(
                "与户主关系",
                "YHZGX",
                "relation",
                C.NONE,
                _choice(words("户主 配偶 子 女 母亲 父亲")),
            ),
        ),
    ),
    TableSpec(
        "enterprises.csv",
        150,
        (
            S("统一社会信用代码", "TYSHXYDM", "credit_code", C.USCC, _m(uscc), BLANK),
            S("企业名称", "QYMC", "company_name", C.NONE, _m(_company)),
            S("法定代表人", "FDDBR", "legal_representative", C.PERSON_NAME, _m(person_name)),
            S("法定代表人身份证号", "FRSFZHM", "legal_rep_id_card", C.RESIDENT_ID, _rid()),
            S("注册地址", "ZCDZ", "registered_address", C.ADDRESS, _m(address)),
            S("联系电话", "LXDH", "tel", C.LANDLINE_PHONE, _landline_col(0.12), 0.1),
            S("电子邮箱", "DZYX", "email", C.EMAIL, _m(email), 0.2),
            S("注册资本(万元)", "ZCZB", "capital", C.NONE, _m(_amount)),
            S("成立日期", "CLRQ", "founded_on", C.NONE, _recent_date("mixed")),
            S("经营范围", "JYFW", "business_scope", C.NONE, _free_text(SCOPES)),
            S("组织机构代码", "ZZJGDM", "org_code", C.ORG_CODE, _m(org_code), 0.3),
            S("行政区划代码", "XZQHDM", "division_code", C.NONE, _choice(COUNTY_CODES)),
            S("发票代码", "FPDM", "invoice_code", C.NONE, _m(_invoice_code)),
        ),
    ),
    TableSpec(
        "social_security.csv",
        200,
        (
            S("参保人姓名", "CBRXM", "insured_name", C.PERSON_NAME, _m(person_name)),
            S("身份证号", "SFZH", "id_card", C.RESIDENT_ID, _rid(0.1)),
            S(
                "社保卡银行账号",
                "YHZH",
                "bank_account",
                C.BANK_CARD,
                _m(lambda r: spaced_card(r, bank_card(r))),
            ),
            S("手机号码", "SJHM", "mobile", C.MOBILE_PHONE, _mobile_col()),
            S("参保日期", "CBRQ", "insured_since", C.NONE, _recent_date("mixed")),
            S("缴费金额", "JFJE", "amount", C.NONE, _m(_amount)),
            S("交易流水号", "JYLSH", "transaction_serial", C.NONE, _m(_serial_19)),
            S("单位信用代码", "DWXYDM", "employer_credit_code", C.USCC, _m(uscc)),
            S("性别", "XB", "sex", C.GENDER, _choice(["1", "2"])),
            S("个人编号", "GRBH", "member_no", C.NONE, _sequence("", 10023000, 8, 7)),
        ),
    ),
    TableSpec(
        "health.csv",
        180,
        (
            S("患者姓名", "HZXM", "patient_name", C.PERSON_NAME, _m(person_name)),
            S("身份证号码", "SFZHM", "patient_id_no", C.RESIDENT_ID, _rid(0.05)),
            S("出生日期", "CSRQ", "date_of_birth", C.BIRTH_DATE, _birth_col("mixed", 1930, 2023)),
            S("诊断名称", "ZDMC", "diagnosis", C.HEALTH, _m(_diagnosis)),
            S("诊断编码(ICD-10)", "ZDBM", "icd_code", C.HEALTH, _choice(ICD_CODES)),
            S("既往病史", "JWS", "medical_history", C.HEALTH, _m(_health_history)),
            S("过敏史", "GMS", "allergies", C.HEALTH, _choice(ALLERGIES)),
            S("就诊日期", "JZRQ", "visit_date", C.NONE, _recent_date("mixed")),
            S("科室", "KS", "department", C.NONE, _choice(DEPTS_HOSPITAL)),
            S("处方编号", "CFBH", "prescription_no", C.NONE, _sequence("CF", 2023000100, 10)),
            S("年龄", "NL", "age", C.NONE, lambda r, _i: str(r.randint(1, 95))),
            S("医疗费用", "YLFY", "cost", C.NONE, _m(_amount)),
        ),
    ),
    TableSpec(
        "vehicles.csv",
        160,
        (
            S("号牌号码", "HPHM", "plate_no", C.LICENSE_PLATE, _m(plate), BLANK),
            S(
                "号牌种类",
                "HPZL",
                "plate_type",
                C.NONE,
                _choice(words("小型汽车 大型汽车 新能源小型车 02 01")),
            ),
            S("机动车所有人", "SYR", "owner_name", C.PERSON_NAME, _m(person_name)),
            S("身份证明号码", "SFZMHM", "owner_id_no", C.RESIDENT_ID, _rid()),
            S("车辆识别代号", "CLSBDH", "vin", C.NONE, _m(_vin)),
            S(
                "发动机号",
                "FDJH",
                "engine_no",
                C.NONE,
                lambda r, _i: _digits(r, 3) + r.choice("ABCDE") + _digits(r, 6),
            ),
            S("联系电话", "LXDH", "owner_phone", C.MOBILE_PHONE, _mobile_col()),
            S("住所详细地址", "ZSXXDZ", "owner_address", C.ADDRESS, _m(address)),
            S("初次登记日期", "CCDJRQ", "first_registered", C.NONE, _recent_date()),
            S("邮政编码", "YZBM", "zip", C.POSTAL_CODE, _m(_postal)),
        ),
    ),
    TableSpec(
        "hotel_guests.csv",
        160,
        (
            S("旅客姓名", "LKXM", "guest_name", C.PERSON_NAME, _m(person_name)),
            S("证件类型", "ZJLX", "document_type", C.NONE, _choice(["居民身份证"] * 9 + ["护照"])),
            S("证件号码", "ZJHM", "document_no", C.RESIDENT_ID, _rid(0.0, 0.6)),
            S("入住时间", "RZSJ", "check_in", C.NONE, _recent_date(with_time=True)),
            S(
                "房间号",
                "FJH",
                "room",
                C.NONE,
                lambda r, _i: f"{r.randint(2, 18)}{r.randint(1, 40):02d}",
            ),
            S("手机号", "SJH", "mobile_no", C.MOBILE_PHONE, _mobile_col()),
            S(
                "旅馆名称",
                "LGMC",
                "hotel_name",
                C.NONE,
                _choice(words("青川宾馆 锦江之星青川店 如家酒店城西店")),
            ),
        ),
    ),
    TableSpec(
        "border_guests.csv",
        120,
        (
            S("姓名", "XM", "full_name", C.PERSON_NAME, _m(person_name)),
            S("护照号码", "HZHM", "passport_no", C.PASSPORT, _m(passport), BLANK),
            S("港澳通行证号码", "TXZHM", "permit_no", C.TRAVEL_PERMIT, _m(travel_permit), BLANK),
            S("入住日期", "RZRQ", "arrival", C.NONE, _recent_date("mixed")),
            S(
                "国籍",
                "GJ",
                "nationality",
                C.NONE,
                _choice(["中国"] * 5 + ["中国香港", "中国澳门"]),
            ),
        ),
    ),
    TableSpec(
        "visitor_register.csv",
        140,
        (
            S("姓名", "XM", "full_name", C.PERSON_NAME, _m(person_name)),
            S("台胞证号码", "TBZHM", "mtp_no", C.TAIWAN_PERMIT, _m(taiwan_permit), BLANK),
            S(
                "往来台湾通行证号码",
                "WLTWTXZHM",
                "taiwan_permit",
                C.TAIWAN_PERMIT,
                _m(lambda r: r.choice("LLT") + _digits(r, 8)),
                BLANK,
            ),
            S("特区护照号码", "TQHZHM", "sar_passport_no", C.SAR_PASSPORT, _m(sar_passport), BLANK),
            S(
                "使领馆车辆号牌",
                "SLGHPHM",
                "diplomatic_plate",
                C.DIPLOMATIC_PLATE,
                _m(diplomatic_plate),
                BLANK,
            ),
            S("信用卡号", "XYKH", "card_number", C.BANK_CARD, _m(mastercard_2_series)),
            # Hard negatives: eight-digit case numbers, ticket and batch numbers with a letter,
            # sixteen-digit serial numbers in the Mastercard 2-series range.
            S("受理编号", "SLBH", "case_no", C.NONE, lambda r, _i: _digits(r, 8)),
            S("票号", "PH", "ticket_no", C.NONE, _sequence("T2024", 1, 4)),
            S("批次号", "PCH", "batch_no", C.NONE, _sequence("K", 10030001, 8)),
            S(
                "交易流水号",
                "JYLSH",
                "serial_no",
                C.NONE,
                lambda r, _i: str(r.randint(2221, 2720)) + _digits(r, 12),
            ),
            S("入境日期", "RJRQ", "arrival", C.NONE, _recent_date("mixed")),
        ),
    ),
    TableSpec(
        "petitions.csv",
        150,
        (
            S("信访人", "XFR", "petitioner", C.PERSON_NAME, _m(person_name)),
            S("联系方式", "LXFS", "contact", C.MOBILE_PHONE, _mobile_col(0.08)),
            S("证件号码", "ZJHM", "id_no", C.RESIDENT_ID, _rid(0.02), 0.2),
            S("反映内容", "FYNR", "content", C.NONE, _free_text(PETITION_TEXTS)),
            S("事发地址", "SFDZ", "incident_address", C.ADDRESS, _m(address)),
            S("信访件编号", "XFJBH", "case_no", C.NONE, _sequence("XF2024", 1, 6)),
            S("登记日期", "DJRQ", "received_on", C.NONE, _recent_date("mixed")),
            S("办理状态", "BLZT", "status", C.NONE, _choice(STATUS_WORDS)),
            S("承办单位", "CBDW", "handling_unit", C.NONE, _choice(DEPARTMENTS)),
        ),
    ),
    TableSpec(
        "access_log.csv",
        180,
        (
            S("访问IP", "FWIP", "client_ip", C.IP_ADDRESS, _m(ip_address), BLANK),
            S("用户邮箱", "YHYX", "user_email", C.EMAIL, _m(email), 0.1),
            S("客户端标识", "KHDBS", "user_agent", C.NONE, _choice(USER_AGENTS)),
            S(
                "请求路径",
                "QQLJ",
                "request_path",
                C.NONE,
                lambda r, _i: f"/api/v1/items/{r.randint(1, 9999)}",
            ),
            S("订单号", "DDH", "order_no", C.NONE, _sequence("", 13800000000 + 7321, 11)),
            S("定位坐标", "DWZB", "location", C.PRECISE_LOCATION, _m(_coordinates), 0.2),
            S("访问时间", "FWSJ", "created_at", C.NONE, _recent_date(with_time=True)),
            S("会话标识", "HHBS", "session_id", C.NONE, lambda r, _i: _hex(r, 32)),
            S("记录哈希", "JLHX", "record_hash", C.NONE, lambda r, _i: _hex(r, 64)),
        ),
    ),
    TableSpec(
        "orders.csv",
        160,
        (
            S("订单编号", "DDBH", "order_id", C.NONE, _m(_phone_like_order)),
            S("商品编码", "SPBM", "sku", C.NONE, _m(_product_code)),
            S(
                "商品名称",
                "SPMC",
                "product_name",
                C.NONE,
                _choice(words("笔记本电脑 打印纸 签字笔 文件柜 办公椅 路由器")),
            ),
            S("金额", "JE", "amount", C.NONE, _m(_amount)),
            S("数量", "SL", "quantity", C.NONE, lambda r, _i: str(r.randint(1, 50))),
            S("收货人", "SHR", "consignee", C.PERSON_NAME, _m(person_name)),
            S("收货地址", "SHDZ", "delivery_address", C.ADDRESS, _m(address)),
            S("档案编号", "DABH", "archive_no", C.NONE, _m(bad_check_id)),
            S("交易参考号", "JYCKH", "reference", C.NONE, _m(_serial_19)),
            S("备用字段1", "BYZD1", "ext1", C.NONE, _sequence("W", 20240001, 8)),
            S("员工工号", "YGGH", "employee_no", C.NONE, _sequence("E", 20180001, 8, 3)),
            S("快递单号", "KDDH", "tracking_no", C.NONE, _m(_express_no)),
            S(
                "版本号",
                "BBH",
                "version",
                C.NONE,
                lambda r, _i: f"{r.randint(1, 3)}.{r.randint(0, 12)}.{r.randint(0, 30)}",
            ),
        ),
    ),
    TableSpec(
        "special_categories.csv",
        120,
        (
            S("姓名", "XM", "name", C.PERSON_NAME, _m(person_name)),
            S("指纹特征", "ZWTZ", "fingerprint", C.BIOMETRIC, lambda r, _i: _b64(r, 128)),
            S(
                "人脸照片",
                "RLZP",
                "face_image",
                C.BIOMETRIC,
                lambda r, _i: f"photos/{_hex(r, 12)}.jpg",
            ),
            S(
                "民族代码",
                "MZDM",
                "ethnic_code",
                C.ETHNICITY,
                lambda r, _i: f"{r.choice([1] * 10 + list(range(2, 57))):02d}",
            ),
            S("性别代码", "XBDM", "gender_code", C.GENDER, _choice(["1", "2", "1", "2", "9"])),
            S(
                "残疾类别",
                "CJLB",
                "disability",
                C.HEALTH,
                _choice(words("视力残疾 听力残疾 肢体残疾 智力残疾 精神残疾")),
            ),
            S(
                "经度",
                "JD",
                "longitude",
                C.PRECISE_LOCATION,
                lambda r, _i: f"{r.uniform(102, 122):.6f}",
            ),
            S(
                "纬度",
                "WD",
                "latitude",
                C.PRECISE_LOCATION,
                lambda r, _i: f"{r.uniform(22, 41):.6f}",
            ),
            S("学历", "XL", "education", C.NONE, _choice(words("小学 初中 高中 大专 本科 研究生"))),
            S("婚姻状况", "HYZK", "marital_status", C.NONE, _choice(words("未婚 已婚 离婚 丧偶"))),
        ),
    ),
    TableSpec(
        "unlabelled_export.csv",
        150,
        (
            S("列1", "L1", "col1", C.RESIDENT_ID, _rid(0.05)),
            S("列2", "L2", "col2", C.PERSON_NAME, _m(person_name)),
            S("列3", "L3", "col3", C.MOBILE_PHONE, _mobile_col()),
            S("列4", "L4", "col4", C.ADDRESS, _m(address)),
            S("列5", "L5", "col5", C.EMAIL, _m(email)),
            S("列6", "L6", "col6", C.LICENSE_PLATE, _m(plate)),
            S("列7", "L7", "col7", C.BIRTH_DATE, _birth_col("mixed", 1940, 2010)),
            S("列8", "L8", "col8", C.NONE, _sequence("", 15900000000 + 1234, 11)),
            S("列9", "L9", "col9", C.NONE, _m(_amount)),
            S("列10", "L10", "col10", C.NONE, _choice(STATUS_WORDS)),
            S("列11", "L11", "col11", C.BANK_CARD, _m(bank_card)),
            S("列12", "L12", "col12", C.NONE, _recent_date("mixed")),
            S("列13", "L13", "col13", C.USCC, _m(uscc)),
            S("列14", "L14", "col14", C.NONE, _m(bad_check_id)),
        ),
    ),
)

# ---- Hard cases -------------------------------------------------------------------------
#
# Columns as real exports have them, labelled by what a person reading header and values would
# say: the label is the category most non-blank values belong to; a column where only some
# values are personal data (a remarks column with the odd phone number) is ``none``.

NULL_SPELLINGS = ("空", "NULL", "-", "/", "无", "暂无", "", "null", "N/A", "(空)")
EXTENSION_STYLES = ("{n}", "{n}", "分机{n}", "转{n}", "内线 {n}", "ext.{n}")
PLACE_NAMES = words(
    """王家村 李家桥 张店 周庄 高桥 石桥 马坊 何家湾 陈家坝 刘集 赵庄 孙家堡 杨柳村 黄泥岗
    吴山 郑家塘 林场 罗店镇 梁家河 谢家湾 宋庄 唐家墩 许村 韩家营 冯家屯 邓家寨 曹庄 彭家岭
    曾家沟 田庄 董家埠 袁家圩 潘家巷 蒋村 蔡家坡 余杭 杜家铺 叶家洲 程家港 苏家口"""
)
REMARKS = words(
    """已电话回访，群众满意。 材料齐全，当场办结。 需补交户口簿复印件。 申请人委托家属代办。
    系统故障，次日补录。 已转街道处理。 无 夜间来电，已登记。 已现场核实。 待复核。"""
)
PHONE_MODELS = words("iPhone15Pro 华为Mate60 小米14 OPPO-Reno11 vivoX100 荣耀Magic6 iPhone13")
WORKPLACES = DEPARTMENTS + words(
    "青川第一中学 青川人民医院 青川华源科技有限公司 城西社区卫生服务中心"
)


def _nulls(make: Maker, rate: float) -> Maker:
    """Blanks spelled every way exports spell them (空, NULL, -, /, 无 …)."""

    def wrapped(rng: R, i: int) -> str | None:
        return rng.choice(NULL_SPELLINGS) if rng.random() < rate else make(rng, i)

    return wrapped


def _full_width(make: Maker) -> Maker:
    def wrapped(rng: R, i: int) -> str | None:
        value = make(rng, i)
        return None if value is None else value.translate(FULL_WIDTH)

    return wrapped


def _rid_typos(rate: float) -> Maker:
    """Resident IDs of which ``rate`` carry a wrong check digit (typed in by hand)."""
    return lambda rng, _i: bad_check_id(rng) if rng.random() < rate else resident_id(rng)


def _uscc_every_authority(rng: R, i: int) -> str:
    """Credit codes cycling through all 12 registering authorities (not mostly enterprises)."""
    authority = sorted(USCC_AUTHORITIES)[i % len(USCC_AUTHORITIES)]
    category = rng.choice(USCC_AUTHORITIES[authority])
    body = "".join(rng.choice(USCC_ALPHABET) for _ in range(8))
    return uscc_from_parts(authority, category, rng.choice(COUNTY_CODES), body)


def _birth_five_formats(rng: R, _i: int) -> str:
    return _five_formats(rng, _birth(rng, 1935, 2015))


def _recent_five_formats(rng: R, _i: int) -> str:
    return _five_formats(rng, date(2023, 1, 1) + timedelta(days=rng.randrange(700)))


def _five_formats(rng: R, d: date) -> str:
    style = rng.randrange(5)
    if style == 0:
        return d.isoformat()
    if style == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 2:
        return d.strftime("%Y%m%d")
    if style == 3:
        return f"{d.year}年{d.month}月{d.day}日"
    return d.strftime("%Y.%m.%d")


def _birth_month(rng: R, _i: int) -> str:
    d = _birth(rng, 1935, 2015)
    return rng.choice(
        [f"{d.year}-{d.month:02d}", f"{d.year}{d.month:02d}", f"{d.year}年{d.month}月"]
    )


def _extension(rng: R, _i: int) -> str:
    number = str(rng.randint(200, 8999))
    return rng.choice(EXTENSION_STYLES).format(n=number)


def _remark_with_phone(rng: R, _i: int) -> str:
    if rng.random() < 0.1:
        return rng.choice(["请联系", "家属电话", "回电"]) + mobile(rng)
    return rng.choice(REMARKS)


PINYIN_SURNAMES = words("ZHANG WANG LI LIU CHEN YANG HUANG ZHAO WU ZHOU XU SUN MA ZHU HU GUO HE")
PINYIN_GIVEN = words("WEI FANG NA MIN JING QIANG LEI JUN YONG YAN JIE TAO MING CHAO XIU YING")
PINYIN_GIVEN += words("HUA JIAN GUO ZHI WEN BO YU TONG ZI HAN XIN YI HAO RAN SI YUAN XIAO")


def _latin_name(rng: R, _i: int) -> str:
    """A name as written in a passport or a foreign-language form (ZHANG XIAOMING)."""
    given = "".join(rng.choice(PINYIN_GIVEN) for _ in range(rng.choice([1, 2, 2])))
    name = f"{rng.choice(PINYIN_SURNAMES)} {given}"
    return name if rng.random() < 0.6 else name.title()


def _placeholder_phone(rng: R, _i: int) -> str:
    """A field old systems filled with a few fixed test numbers (no one's phone)."""
    return rng.choice(("13800138000", "13900000000", "18888888888", "15000000000"))


def _card_shaped_voucher(rng: R, _i: int) -> str:
    """A 19-digit voucher number that happens to start like a UnionPay card (no Luhn digit)."""
    return "62" + _digits(rng, 17)


def _mostly_landlines(rng: R, _i: int) -> str:
    """A 手机号 field that people filled with office numbers (old systems, no validation)."""
    if rng.random() < 0.2:
        return mobile(rng)
    return with_landline_format(rng, *landline(rng))


def _any_document(rng: R, _i: int) -> str:
    roll = rng.random()
    if roll < 0.75:
        return resident_id(rng)
    return passport(rng) if roll < 0.9 else travel_permit(rng)


def _masked_id(rng: R, _i: int) -> str:
    value = resident_id(rng)
    return value[:6] + "********" + value[14:]


def _id_expiry(rng: R, _i: int) -> str:
    if rng.random() < 0.15:
        return "长期"
    d = date(2025, 1, 1) + timedelta(days=rng.randrange(3650))
    return d.isoformat() if rng.random() < 0.5 else d.strftime("%Y.%m.%d")


HARD_TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "pinyin_register.csv",
        140,
        (
            S("身份证号码", "SFZHM", "sfzhm", C.RESIDENT_ID, _rid(0.0, 0.5), BLANK),
            S("姓名", "XM", "xm", C.PERSON_NAME, _m(person_name)),
            S("联系电话", "LXDH", "lxdh", C.MOBILE_PHONE, _mobile_col(0.05), 0.1),
            S("统一社会信用代码", "TYSHXYDM", "tyshxydm", C.USCC, _uscc_every_authority),
            S("居住地址", "JZDZ", "jzdz", C.ADDRESS, _m(address)),
            S("出生日期", "CSRQ", "csrq", C.BIRTH_DATE, _birth_five_formats),
            S("银行卡号", "YHKH", "yhkh", C.BANK_CARD, _m(lambda r: spaced_card(r, bank_card(r)))),
            S("车牌号码", "CPHM", "cphm", C.LICENSE_PLATE, _m(plate), 0.3),
            S("工作单位", "GZDW", "gzdw", C.NONE, _choice(WORKPLACES)),
            S("备注", "BZ", "bz", C.NONE, _remark_with_phone, 0.3),
            S("业务编号", "YWBH", "ywbh", C.NONE, _m(_phone_like_order)),
        ),
        style="pinyin",
    ),
    TableSpec(
        "misleading_headers.csv",
        150,
        (
            S("电话", "DH", "tel", C.NONE, _extension),
            S("备注", "BZ", "remark", C.NONE, _remark_with_phone, 0.2),
            S("身份证号", "SFZH", "id_card", C.RESIDENT_ID, _rid_typos(0.15)),
            S("老身份证号", "LSFZH", "old_id_card", C.RESIDENT_ID, _m(legacy_id)),
            S("登记证号", "DJZH", "registration_no", C.USCC, _uscc_every_authority),
            S("受理编号", "SLBH", "case_no", C.NONE, _m(_phone_like_order)),
            S("所在村社区", "SZCSQ", "village", C.NONE, _choice(PLACE_NAMES)),
            S("联系人", "LXR", "contact", C.PERSON_NAME, _m(person_name)),
            S("出生年月", "CSNY", "birth_month", C.BIRTH_DATE, _birth_month),
            S("办理日期", "BLRQ", "handled_on", C.NONE, _recent_five_formats),
            S("手机型号", "SJXH", "phone_model", C.NONE, _choice(PHONE_MODELS)),
            S("身份证有效期", "SFZYXQ", "id_valid_until", C.NONE, _id_expiry),
            S("紧急联系人电话", "JJLXRDH", "emergency_phone", C.MOBILE_PHONE, _mobile_col()),
            S("补贴金额", "BTJE", "subsidy", C.NONE, _full_width(_m(_amount))),
            S("联系手机", "LXSJ", "mobile", C.MOBILE_PHONE, _nulls(_mobile_col(), 0.4), BLANK),
            S("手机号", "SJH", "mobile_no", C.LANDLINE_PHONE, _mostly_landlines),
            S("经办人", "JBR", "handled_by", C.NONE, _sequence("E", 20180001, 8, 3)),
            S("证件号码", "ZJHM", "document_no", C.RESIDENT_ID, _any_document),
            S("身份证号（脱敏）", "SFZHTM", "id_masked", C.RESIDENT_ID, _masked_id),
            S("英文姓名", "YWXM", "latin_name", C.PERSON_NAME, _latin_name, 0.2),
        ),
        style="zh",
    ),
    TableSpec(
        "field_export.csv",
        140,
        (
            S("字段1", "ZD1", "field1", C.RESIDENT_ID, _m(legacy_id)),
            S("字段2", "ZD2", "field2", C.RESIDENT_ID, _rid_typos(0.12)),
            S("字段3", "ZD3", "field3", C.MOBILE_PHONE, _full_width(_mobile_col())),
            S("字段4", "ZD4", "field4", C.NONE, _choice(PLACE_NAMES)),
            S("字段5", "ZD5", "field5", C.PERSON_NAME, _nulls(_m(person_name), 0.2), BLANK),
            S("字段6", "ZD6", "field6", C.USCC, _uscc_every_authority),
            S("字段7", "ZD7", "field7", C.BIRTH_DATE, _birth_five_formats),
            S("字段8", "ZD8", "field8", C.NONE, _recent_five_formats),
            S("字段9", "ZD9", "field9", C.NONE, _extension),
            S("字段10", "ZD10", "field10", C.EMAIL, _nulls(_m(email), 0.3), BLANK),
            S("字段11", "ZD11", "field11", C.BANK_CARD, _full_width(_m(bank_card))),
        ),
        style="zh",
    ),
    # Personal data under names that look non-personal or say nothing: values decide.
    TableSpec(
        "hidden_personal.csv",
        150,
        (
            S("备注", "BZ", "remark", C.MOBILE_PHONE, _mobile_col()),
            S("说明", "SM", "note", C.BANK_CARD, _m(lambda r: spaced_card(r, bank_card(r)))),
            S("其他", "QT", "other", C.RESIDENT_ID, _rid(0.03)),
            S("col3", "col3", "col3", C.MOBILE_PHONE, _nulls(_mobile_col(0.03), 0.2), BLANK),
            S("字段1", "ZD1", "field1", C.USCC, _m(uscc)),
            S("BZ", "BZ", "bz", C.MOBILE_PHONE, _full_width(_mobile_col())),
            S("remark", "remark", "remark", C.BANK_CARD, _m(bank_card)),
            S("内容", "NR", "content", C.NONE, _remark_with_phone, 0.2),
            S("业务编号", "YWBH", "business_no", C.NONE, _m(_phone_like_order)),
            S("备用字段", "BYZD", "spare", C.NONE, _placeholder_phone),
            S("凭证号码", "PZHM", "voucher_no", C.NONE, _card_shaped_voucher),
        ),
        style="zh",
    ),
)
TABLES += HARD_TABLES

STYLES = ("zh", "pinyin", "en", "mixed")


@dataclass(frozen=True)
class Label:
    file: str
    column: str
    category: Category


def _header(spec: ColumnSpec, style: str, rng: R) -> str:
    if style == "mixed":
        style = rng.choice(STYLES[:3])
    header = {"zh": spec.zh, "pinyin": spec.pinyin, "en": spec.en}[style]
    if style == "pinyin" and rng.random() < 0.3:
        header = rng.choice(["t_", "F_", ""]) + header + rng.choice(["", "_CODE", ""])
    return header


def generate_table(spec: TableSpec, rng: R, style: str) -> tuple[list[str], list[list[str]]]:
    headers: list[str] = []
    for column in spec.columns:
        header = _header(column, style, rng)
        while header in headers:
            header += "_2"
        headers.append(header)
    rows = max(20, spec.rows + rng.randint(-spec.rows // 5, spec.rows // 5))
    noise = rng.uniform(0.02, 0.08)
    body: list[list[str]] = []
    for i in range(rows):
        row = []
        for column in spec.columns:
            if rng.random() < column.blank_rate:
                row.append(rng.choice(["", "", " ", "无", "NULL"]))
                continue
            value = column.make(rng, i)
            row.append("" if value is None else messy(rng, value, noise))
        body.append(row)
    return headers, body


def generate_corpus(directory: Path, seed: int = 2024) -> list[Label]:
    """Write the corpus CSV files and ``labels.csv`` under ``directory``; return the labels."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    labels: list[Label] = []
    for index, spec in enumerate(TABLES):
        style = spec.style or STYLES[(index + seed) % len(STYLES)]
        headers, body = generate_table(spec, rng, style)
        with (directory / spec.file).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(body)
        labels.extend(
            Label(spec.file, h, c.category) for h, c in zip(headers, spec.columns, strict=True)
        )
    with (directory / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "column", "category"])
        writer.writerows([label.file, label.column, label.category.value] for label in labels)
    return labels
