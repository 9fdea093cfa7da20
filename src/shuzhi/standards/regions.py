"""Provincial-level divisions (GB/T 2260 first two digits), plate abbreviations, city names.

Only the province is checked in identifiers: a resident ID keeps the county code that was
current when it was issued, so county-level history is deliberately not validated.
"""

from __future__ import annotations

from dataclasses import dataclass

from shuzhi.standards.text import words


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    short: str
    plate: str  # vehicle plate abbreviation; empty where mainland plates are not issued


PROVINCES: tuple[Province, ...] = (
    Province("11", "北京市", "北京", "京"),
    Province("12", "天津市", "天津", "津"),
    Province("13", "河北省", "河北", "冀"),
    Province("14", "山西省", "山西", "晋"),
    Province("15", "内蒙古自治区", "内蒙古", "蒙"),
    Province("21", "辽宁省", "辽宁", "辽"),
    Province("22", "吉林省", "吉林", "吉"),
    Province("23", "黑龙江省", "黑龙江", "黑"),
    Province("31", "上海市", "上海", "沪"),
    Province("32", "江苏省", "江苏", "苏"),
    Province("33", "浙江省", "浙江", "浙"),
    Province("34", "安徽省", "安徽", "皖"),
    Province("35", "福建省", "福建", "闽"),
    Province("36", "江西省", "江西", "赣"),
    Province("37", "山东省", "山东", "鲁"),
    Province("41", "河南省", "河南", "豫"),
    Province("42", "湖北省", "湖北", "鄂"),
    Province("43", "湖南省", "湖南", "湘"),
    Province("44", "广东省", "广东", "粤"),
    Province("45", "广西壮族自治区", "广西", "桂"),
    Province("46", "海南省", "海南", "琼"),
    Province("50", "重庆市", "重庆", "渝"),
    Province("51", "四川省", "四川", "川"),
    Province("52", "贵州省", "贵州", "贵"),
    Province("53", "云南省", "云南", "云"),
    Province("54", "西藏自治区", "西藏", "藏"),
    Province("61", "陕西省", "陕西", "陕"),
    Province("62", "甘肃省", "甘肃", "甘"),
    Province("63", "青海省", "青海", "青"),
    Province("64", "宁夏回族自治区", "宁夏", "宁"),
    Province("65", "新疆维吾尔自治区", "新疆", "新"),
    Province("71", "台湾省", "台湾", ""),
    Province("81", "香港特别行政区", "香港", ""),
    Province("82", "澳门特别行政区", "澳门", ""),
)

# Address codes valid as the first two digits of a GB 11643 number. 83 is used by the
# residence permits of Taiwan residents (港澳台居民居住证), which follow GB 11643.
ID_PROVINCE_CODES = frozenset(p.code for p in PROVINCES) | {"83"}

PLATE_PROVINCES = frozenset(p.plate for p in PROVINCES if p.plate)

PROVINCE_NAMES = tuple(p.name for p in PROVINCES) + tuple(p.short for p in PROVINCES)

# Prefecture-level and other well-known city names (without 市), used as address cues.
CITY_NAMES: tuple[str, ...] = words(
    """石家庄 唐山 秦皇岛 邯郸 保定 张家口 承德 沧州 廊坊 衡水 太原 大同 长治 晋中 运城 临汾
    呼和浩特 包头 鄂尔多斯 沈阳 大连 鞍山 抚顺 丹东 锦州 长春 吉林 哈尔滨 齐齐哈尔 大庆 牡丹江
    南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 杭州 宁波 温州 嘉兴
    湖州 绍兴 金华 衢州 舟山 台州 丽水 合肥 芜湖 蚌埠 淮南 马鞍山 安庆 黄山 阜阳 福州 厦门
    莆田 泉州 漳州 南平 龙岩 宁德 南昌 景德镇 萍乡 九江 赣州 吉安 上饶 济南 青岛 淄博 枣庄
    东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽 郑州 开封 洛阳 平顶山 安阳
    新乡 焦作 许昌 南阳 商丘 信阳 武汉 黄石 十堰 宜昌 襄阳 荆州 孝感 黄冈 长沙 株洲 湘潭
    衡阳 岳阳 常德 张家界 郴州 广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州
    东莞 中山 潮州 揭阳 南宁 柳州 桂林 梧州 北海 海口 三亚 成都 自贡 攀枝花 泸州 德阳 绵阳
    乐山 南充 宜宾 贵阳 遵义 安顺 昆明 曲靖 玉溪 大理 丽江 拉萨 西安 宝鸡 咸阳 渭南 延安
    汉中 兰州 天水 西宁 银川 乌鲁木齐 克拉玛依 喀什"""
)
