"""Initial contents of the code tables, segment lengths and data elements.

Written to the database on first use (``service.ensure_seeded``); afterwards the tables are
data the CDO executive edits. Values follow the 2017 catalogue compilation guide as restated
by provincial copies; local extensions (half-yearly, irregular updates) are marked unlocked.
"""

from __future__ import annotations

from dataclasses import dataclass

from shuzhi.catalog.models import CodeTable


@dataclass(frozen=True)
class SeedCode:
    table: CodeTable
    code: str
    zh: str
    en: str
    parent: str | None = None
    national: str = ""
    locked: bool = False


def _rows(
    table: CodeTable, rows: list[tuple[str, str, str]], *, locked: bool = False
) -> list[SeedCode]:
    return [SeedCode(table, code, zh, en, locked=locked) for code, zh, en in rows]


_SUBCLASSES = {
    "1": [
        ("国家人口基础信息资源", "Population base resources"),
        ("法人单位基础信息资源", "Legal entity base resources"),
        ("自然资源和空间地理基础信息资源", "Natural resources and spatial base resources"),
        ("社会信用基础信息资源", "Social credit base resources"),
        ("电子证照基础信息资源", "Electronic licence base resources"),
    ],
    "2": [
        ("公共服务", "Public services"),
        ("健康保障", "Health"),
        ("社会保障", "Social security"),
        ("食品药品安全", "Food and drug safety"),
        ("安全生产", "Work safety"),
        ("价格监管", "Price supervision"),
        ("能源安全", "Energy security"),
        ("信用体系", "Credit system"),
        ("城乡建设", "Urban and rural construction"),
        ("社区治理", "Community governance"),
        ("生态环保", "Ecology and environment"),
        ("应急维稳", "Emergency and stability"),
    ],
    "3": [
        ("党中央", "Party Central Committee"),
        ("全国人大常委会", "NPC Standing Committee"),
        ("国务院", "State Council"),
        ("全国政协", "CPPCC National Committee"),
        ("最高人民法院", "Supreme People's Court"),
        ("最高人民检察院", "Supreme People's Procuratorate"),
        ("省(自治区、直辖市)及其下各级政务部门", "Provincial and lower government bodies"),
        ("计划单列市及其下各级政务部门", "Sub-provincial cities and lower bodies"),
    ],
}

FORMATS = [
    ("1", "电子文件", "Electronic document"),
    ("2", "电子表格", "Spreadsheet"),
    ("3", "数据库", "Database"),
    ("4", "图形图像", "Graphics and images"),
    ("5", "流媒体", "Streaming media"),
    ("6", "自描述格式", "Self-describing format"),
    ("7", "服务接口", "Service interface"),
]
FORMAT_SUBTYPES = {
    "1": ["OFD", "wps", "xml", "txt", "doc", "docx", "html", "pdf", "ppt"],
    "2": ["et", "xls", "xlsx"],
    "3": ["达梦", "KingbaseES", "Oracle", "SQL Server", "DB2", "MySQL", "PostgreSQL", "access"],
    "4": ["jpg", "gif", "bmp", "png", "tif"],
    "5": ["swf", "rm", "mpg", "mp4"],
}
# Formats whose data items must be listed with type and length (structured data).
STRUCTURED_FORMATS = frozenset({"2", "3"})
# Data types whose storage size is fixed by the type (date 8, date-time 8, logical 1, memo and
# general 4, double 8, integer 4, currency 8): their 数据长度 may be left blank. Every other
# type (character, numeric, float, and any type added to the code table) declares its width.
FIXED_WIDTH_TYPES = frozenset({"D", "T", "L", "M", "G", "B", "I", "Y"})

DATA_TYPES = [
    ("C", "字符型", "Character"),
    ("N", "数值型", "Numeric"),
    ("Y", "货币型", "Currency"),
    ("D", "日期型", "Date"),
    ("T", "日期时间型", "Date-time"),
    ("L", "逻辑型", "Logical"),
    ("M", "备注型", "Memo"),
    ("G", "通用型", "General"),
    ("B", "双精度型", "Double"),
    ("I", "整型", "Integer"),
    ("F", "浮点型", "Float"),
]

SEED_CODES: list[SeedCode] = [
    SeedCode(CodeTable.RESOURCE_CLASS, "1", "基础信息资源类", "Base resources", locked=True),
    SeedCode(CodeTable.RESOURCE_CLASS, "2", "主题信息资源类", "Thematic resources", locked=True),
    SeedCode(CodeTable.RESOURCE_CLASS, "3", "部门信息资源类", "Department resources", locked=True),
    *[
        SeedCode(CodeTable.RESOURCE_SUBCLASS, f"{cls}{i:02d}", zh, en, parent=cls)
        for cls, subs in _SUBCLASSES.items()
        for i, (zh, en) in enumerate(subs, start=1)
    ],
    *_rows(CodeTable.FORMAT, FORMATS, locked=True),
    *[
        SeedCode(CodeTable.FORMAT_SUBTYPE, f"{fmt}.{sub}", sub, sub, parent=fmt)
        for fmt, subs in FORMAT_SUBTYPES.items()
        for sub in subs
    ],
    *_rows(CodeTable.DATA_TYPE, DATA_TYPES, locked=True),
    SeedCode(CodeTable.SHARE_TYPE, "unconditional", "无条件共享", "Unconditional", None, "1", True),
    SeedCode(CodeTable.SHARE_TYPE, "conditional", "有条件共享", "Conditional", None, "2", True),
    SeedCode(CodeTable.SHARE_TYPE, "not_shared", "不予共享", "Not shared", None, "3", True),
    SeedCode(
        CodeTable.SHARE_METHOD, "platform", "共享平台方式", "Sharing platform", None, "1", True
    ),
    SeedCode(CodeTable.SHARE_METHOD, "email", "邮件方式", "E-mail", None, "2"),
    SeedCode(CodeTable.SHARE_METHOD, "medium", "介质方式", "Physical medium", None, "3"),
    SeedCode(CodeTable.SHARE_METHOD_TYPE, "interface", "接口", "API", "platform", "1"),
    SeedCode(CodeTable.SHARE_METHOD_TYPE, "file", "文件", "File", "platform", "2"),
    SeedCode(CodeTable.SHARE_METHOD_TYPE, "table", "库表", "Database table", "platform", "3"),
    SeedCode(CodeTable.OPEN_TYPE, "unconditional", "无条件开放", "Unconditional", None, "1", True),
    SeedCode(CodeTable.OPEN_TYPE, "conditional", "有条件开放", "Conditional", None, "2", True),
    SeedCode(CodeTable.OPEN_TYPE, "not_open", "不予开放", "Not open", None, "3", True),
    *_rows(
        CodeTable.NOT_OPEN_REASON,
        [
            ("law", "法律法规", "Laws and regulations"),
            ("policy", "政策文件", "Policy documents"),
            ("sensitive", "涉及敏感信息", "Sensitive information"),
            ("other", "其他", "Other"),
        ],
    ),
    *[
        SeedCode(CodeTable.UPDATE_CYCLE, code, zh, en, None, code, locked=False)
        for code, zh, en in [
            ("1", "实时", "Real-time"),
            ("2", "每日", "Daily"),
            ("3", "每周", "Weekly"),
            ("4", "每月", "Monthly"),
            ("5", "每季度", "Quarterly"),
            ("6", "每年", "Yearly"),
        ]
    ],
    SeedCode(CodeTable.UPDATE_CYCLE, "7", "每半年", "Half-yearly"),
    SeedCode(CodeTable.UPDATE_CYCLE, "8", "不定期", "Irregular"),
]

# Resource-code segment lengths (provinces publish their own coding rules: keep as data).
SEGMENT_LENGTHS_KEY = "segment_lengths"
DEFAULT_SEGMENT_LENGTHS = {"class": 1, "subclass": 2, "group": 3, "detail_max": 6, "sequence": 6}


@dataclass(frozen=True)
class SeedElement:
    code: str
    name: str
    data_type: str
    length: int | None
    synonyms: tuple[str, ...]


SEED_ELEMENTS = [
    SeedElement("DE0001", "公民身份号码", "C", 18, ("身份证", "身份证号", "身份证号码")),
    SeedElement("DE0002", "统一社会信用代码", "C", 18, ("信用代码", "社会信用代码", "USCC")),
    SeedElement("DE0003", "姓名", "C", 50, ("名字", "人员姓名")),
    SeedElement("DE0004", "性别", "C", 1, ("性别代码",)),
    SeedElement("DE0005", "出生日期", "D", 8, ("生日", "出生年月日")),
    SeedElement("DE0006", "不动产单元号", "C", 28, ("不动产单元代码",)),
    SeedElement("DE0007", "手机号码", "C", 11, ("手机号", "移动电话", "联系电话")),
    SeedElement("DE0008", "住址", "C", 200, ("地址", "居住地址", "家庭住址")),
    SeedElement("DE0009", "法定代表人", "C", 50, ("法人代表", "法定代表人姓名")),
    SeedElement("DE0010", "企业名称", "C", 200, ("单位名称", "市场主体名称")),
    SeedElement("DE0011", "民族", "C", 2, ("民族代码",)),
    SeedElement("DE0012", "户籍地址", "C", 200, ("户口所在地",)),
    SeedElement("DE0013", "社会保障号码", "C", 18, ("社保号", "社保卡号")),
    SeedElement("DE0014", "注册资本", "Y", 18, ("注册资金",)),
    SeedElement("DE0015", "成立日期", "D", 8, ("注册日期",)),
    SeedElement("DE0016", "经营范围", "M", 2000, ()),
    SeedElement("DE0017", "不动产权证书号", "C", 50, ("房产证号", "不动产证号")),
    SeedElement("DE0018", "婚姻状况", "C", 2, ("婚姻状态",)),
]
