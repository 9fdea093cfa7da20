"""What a column's name says about its content: Chinese headers, pinyin initials, English.

Government systems name fields by the pinyin initials of the Chinese term (SFZHM 身份证号码,
XM 姓名, LXDH 联系电话 …). In a Chinese compound the head noun comes last, so the cue that
ends last in the name wins (联系人电话 is a phone, 身份证有效期 is a date); among cues ending
at the same place the longest wins (出生日期 beats 日期). Generic words such as 代码/code/no
are not cues at all, and words naming things that are not personal data (订单, 金额, product …) are
negative cues that stop weak value evidence from deciding.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shuzhi.security.categories import Category

C = Category
_ID_DOCS = (C.RESIDENT_ID, C.PASSPORT, C.TRAVEL_PERMIT, C.TAIWAN_PERMIT, C.SAR_PASSPORT)
_PHONES = (C.MOBILE_PHONE, C.LANDLINE_PHONE)

# Chinese keywords → categories; an empty tuple marks a negative cue.
_ZH: dict[tuple[Category, ...], str] = {
    (C.RESIDENT_ID,): "身份证 身份证号 身份证号码 公民身份号码 身份号码 身份证明号码 社会保障号码"
    " 身份证件号码",
    _ID_DOCS: "证件号码 证件号 证照号码",
    (C.USCC,): "统一社会信用代码 社会信用代码 信用代码 统一代码",
    (C.ORG_CODE,): "组织机构代码 机构代码",
    (C.MOBILE_PHONE,): "手机 手机号 手机号码 移动电话",
    _PHONES: "电话 联系电话 电话号码 联系方式 联系号码",
    (C.LANDLINE_PHONE,): "固定电话 固话 座机 办公电话 单位电话 传真",
    (C.BANK_CARD,): "银行卡 银行卡号 银行账号 银行账户 开户账号 卡号 账号 社保卡银行账号",
    (C.PASSPORT,): "护照 护照号 护照号码",
    (C.TRAVEL_PERMIT,): "通行证 通行证号码 港澳通行证 回乡证 来往内地通行证",
    (C.TAIWAN_PERMIT,): "台胞证 台胞证号 台胞证号码 台湾通行证 往来台湾通行证 赴台通行证"
    " 台湾居民来往大陆通行证 大陆居民往来台湾通行证",
    (C.SAR_PASSPORT,): "特区护照 特区护照号码 香港护照 澳门护照 香港特区护照 澳门特区护照",
    (C.LICENSE_PLATE,): "车牌 车牌号 车牌号码 号牌 号牌号码 车辆号牌",
    (C.DIPLOMATIC_PLATE,): "使馆车牌 领馆车牌 使领馆车牌 外交车牌 使馆号牌 领馆号牌 使领馆号牌"
    " 使领馆车辆号牌",
    (C.EMAIL,): "邮箱 电子邮箱 电子邮件 邮件地址 email e-mail",
    (C.IP_ADDRESS,): "ip地址 ip",
    (C.ADDRESS,): "地址 住址 住所 居住地 户籍地 户籍所在地 现住址 家庭住址 通讯地址 联系地址"
    " 经营场所 注册地 出生地 地点 居住地址 户籍地址",
    (C.PERSON_NAME,): "姓名 名字 联系人 法定代表人 法人代表 负责人 户主 申请人 患者 病人 信访人"
    " 投诉人 当事人 所有人 车主 驾驶人 入住人 旅客 参保人 经办人 监护人 法人",
    (C.BIRTH_DATE,): "出生日期 出生年月 生日 出生时间 出生",
    (C.HEALTH,): "诊断 诊断名称 疾病 疾病名称 病史 既往史 既往病史 病种 病情 过敏史 主诉 症状"
    " 疾病编码 诊断编码 icd编码 icd 病名 慢性病 慢病 残疾类别",
    (C.POSTAL_CODE,): "邮编 邮政编码",
    (C.GENDER,): "性别",
    (C.ETHNICITY,): "民族",
    (C.RELIGION,): "宗教 宗教信仰 信仰",
    (C.BIOMETRIC,): "指纹 人脸 面部特征 虹膜 声纹 掌纹 基因 生物特征 人像",
    (C.PRECISE_LOCATION,): "经纬度 经度 纬度 坐标 定位 gps",
    (): "编号 单号 订单 流水 序号 批次 批号 金额 数量 价格 单价 日期 时间 时长 状态 类型 类别 种类"
    " 备注 说明 内容 描述 名称 标题 有效期 签发 发证 机关 登记 发票 条码 型号 版本 次数 面积"
    " 年龄 标志 是否 等级 级别 比例 工号 房间 车架 发动机 识别代号 总数 合计 人数 户数 户号"
    " 案号 案件 产品 商品 物品 项目 行政区划 区划 科室 资本 费用 得分 关系 职业 学历",
}

# ASCII names: pinyin initials and English, as token phrases ("id card" = id_card / idCard).
_ASCII: dict[tuple[Category, ...], str] = {
    (C.RESIDENT_ID,): "sfzhm sfzh sfz gmsfhm sfzmhm idcard id_card id_number id_no idno id_num"
    " identity citizen_id national_id identity_no shenfenzheng id_card_no id_card_number",
    _ID_DOCS: "zjhm zjh certificate_no cert_no document_no",
    (C.USCC,): "tyshxydm shxydm xydm tyxydm uscc credit_code social_credit_code",
    (C.ORG_CODE,): "zzjgdm jgdm org_code organization_code organisation_code",
    (C.MOBILE_PHONE,): "sjhm sjh yddh mobile cellphone cell mobile_phone cell_phone msisdn",
    _PHONES: "lxdh lxfs dh dhhm lxrdh phone tel telephone phone_number contact_number"
    " contact_phone",
    (C.LANDLINE_PHONE,): "gddh bgdh dwdh czhm landline office_phone work_phone fax fixed_phone",
    (C.BANK_CARD,): "yhkh yhzh khzh yhkzh kh bank_card bankcard card_no card_number bank_account"
    " account_no account_number iban",
    (C.PASSPORT,): "hzhm hzh passport passport_no",
    (C.TRAVEL_PERMIT,): "txzhm gatxz hxzhm txz permit travel_permit home_return_permit",
    (C.TAIWAN_PERMIT,): "tbz tbzh tbzhm twtxz wltwtxz taiwan_permit mtp mtp_no",
    (C.SAR_PASSPORT,): "tqhz tqhzhm hk_passport hksar_passport macao_passport macau_passport"
    " sar_passport",
    (C.DIPLOMATIC_PLATE,): "slghp slghphm diplomatic_plate embassy_plate consulate_plate",
    (C.LICENSE_PLATE,): "cphm cph hphm plate license_plate licence_plate plate_no plate_number"
    " vehicle_plate car_no",
    (C.EMAIL,): "dzyx yx yxdz dzyj email mail e_mail",
    (C.IP_ADDRESS,): "ip ipdz ip_address client_ip ipv4 ipv6 remote_addr",
    (C.ADDRESS,): "jzdz hjdz dz zz xzz jtzz txdz lxdz zcdz jydz zsdz jycs hjszd csd sfdd fsdd"
    " xxdz zsxxdz zs address addr home_address residence street_address",
    (C.PERSON_NAME,): "xm lxr fddbr frdb fr fzr hzxm syr czr sqr xfr jsr jbr hz lkxm name"
    " full_name person_name surname first_name last_name given_name xingming",
    (C.BIRTH_DATE,): "csrq csny sr birthday birth_date date_of_birth dob birthdate birth",
    (C.HEALTH,): "zd zdmc zdbm jbmc jbbm jbzd jws gms icd icd10 icd_code diagnosis disease"
    " medical_history illness allergy allergies chief_complaint",
    (C.POSTAL_CODE,): "yzbm yb yzbh postcode postal_code zip zipcode zip_code",
    (C.GENDER,): "xb gender sex",
    (C.ETHNICITY,): "mz ethnicity ethnic nation",
    (C.RELIGION,): "zjxy religion faith",
    (C.BIOMETRIC,): "zw rltz zwtz rlzp rxzp fingerprint face_feature face iris voiceprint biometric"
    " face_image",
    (C.PRECISE_LOCATION,): "jwd jd wd zb latitude longitude lat lng lon gps coordinate"
    " coordinates geo_location location",
    (): "bh ddh ddbh lsh xh pch je sl zt lx lb bz sm nr ms mc bt yxq qfjg fzjg djjg fpdm fphm"
    " txm bb cs mj nl gh fjh clsbdh fdjh rq sj order serial amount qty quantity price sku"
    " product item status type remark note notes content title version invoice count total"
    " seq batch date time created updated timestamp user username user_name agent url path"
    " method age room employee staff ticket case record vin engine model desc description"
    " category level flag rate ratio score size weight height capital revenue tax fee cost"
    " company_name product_name dept_name org_name file_name item_name nationality"
    " balance xzqhdm xzqh qhdm hpzl",
}
# Pinyin codes that may end a longer token (FRSFZHM, HJDZ, HZXM, DJRQ …).
_SUFFIX_CODES = frozenset(
    {"sfzhm", "sfzh", "gmsfhm", "sfzmhm", "zjhm", "tyshxydm", "shxydm", "zzjgdm", "sjhm"}
    | {"lxdh", "gddh", "yhkh", "yhzh", "hzhm", "txzhm", "cphm", "hphm", "dzyx", "csrq"}
    | {"tbzhm", "tqhzhm", "slghphm"}
    | {"yzbm", "xm", "dz", "rq", "sj", "mc", "bh", "lsh", "ddh", "zdmc", "jbmc", "zjxy"}
)
_CODE_TAILS = ("dm", "bm", "mc")
_CODE_TABLES = frozenset({C.GENDER, C.ETHNICITY, C.RELIGION})
_PREFIXES = frozenset({"t", "tb", "tbl", "f", "fld", "c", "col", "v", "s", "x"})


@dataclass(frozen=True)
class HeaderCue:
    categories: tuple[Category, ...]  # empty when there is no positive cue
    negative: bool  # the name says the column is not personal data
    matched: str | None

    @property
    def positive(self) -> bool:
        return bool(self.categories)


NO_CUE = HeaderCue((), False, None)


def _table(spec: dict[tuple[Category, ...], str]) -> dict[str, tuple[Category, ...]]:
    out: dict[str, tuple[Category, ...]] = {}
    for cats, words in spec.items():
        for word in words.split():
            out[word] = cats
    return out


_ZH_CUES = _table(_ZH)
_ASCII_CUES = {tuple(k.split("_")): v for k, v in _table(_ASCII).items()}
_ASCII_MAX_WORDS = max(len(k) for k in _ASCII_CUES)
_CAMEL = re.compile(r"([a-z])([A-Z])")
_TOKEN = re.compile(r"[a-z]+\d*")
_HANZI = re.compile(r"[\u4e00-\u9fff]")


def _best(matches: list[tuple[int, int, str]]) -> str | None:
    return max(matches)[2] if matches else None


def _chinese(name: str) -> str | None:
    matches = []
    for word in _ZH_CUES:
        start = name.rfind(word)
        if start >= 0:
            matches.append((start + len(word), len(word), word))
    return _best(matches)


def tokens(name: str) -> list[str]:
    """Lower-case tokens of an ASCII column name, table prefixes such as ``t_`` dropped."""
    words = _TOKEN.findall(_CAMEL.sub(r"\1_\2", name).lower())
    words = [w if w in ("ipv4", "ipv6", "icd10") else w.rstrip("0123456789") for w in words]
    words = [w for w in words if w]
    while len(words) > 1 and words[0] in _PREFIXES:
        words = words[1:]
    return words


def _ascii(name: str) -> str | None:
    words = tokens(name)
    matches: list[tuple[int, int, str]] = []
    for i, word in enumerate(words):
        for size in range(1, _ASCII_MAX_WORDS + 1):
            phrase = tuple(words[i : i + size])
            if len(phrase) == size and phrase in _ASCII_CUES:
                matches.append((i + size, len("".join(phrase)), "_".join(phrase)))
        if (word,) not in _ASCII_CUES:
            for tail in _CODE_TAILS:  # MZDM 民族代码, XBMC 性别名称: a code-table attribute
                stem = (word[: -len(tail)],)
                if word.endswith(tail) and set(_ASCII_CUES.get(stem, ())) & _CODE_TABLES:
                    matches.append((i + 1, len(word), stem[0]))
            for code in _SUFFIX_CODES:
                if len(word) > len(code) and word.endswith(code):
                    matches.append((i + 1, len(code), code))
    return _best(matches)


def header_cue(name: str) -> HeaderCue:
    """The categories a column name points to, or a negative cue, or nothing."""
    text = unicodedata.normalize("NFKC", name).strip()
    if _HANZI.search(text):
        word = _chinese(text.lower().replace(" ", ""))
        if word is not None:
            cats = _ZH_CUES[word]
            return HeaderCue(cats, not cats, word)
    word = _ascii(text)
    if word is None:
        return NO_CUE
    cats = _ASCII_CUES[tuple(word.split("_"))]
    return HeaderCue(cats, not cats, word)
