"""Chinese personal names: common surnames (single and compound) and the name shape.

A name here is 2–4 Han characters starting with a known surname. Minority names written
with a middle dot (e.g. transliterated Uyghur names) are recognised as name-like too.
"""

from __future__ import annotations

import re

from shuzhi.standards.text import is_hanzi, normalize, words

# About 400 single-character surnames covering the great majority of the population.
SINGLE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关"
    "兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿"
    "桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠"
    "惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉"
    "禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修"
    "邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴"
    "昝智幸奉植衡富尧闭由"
)

COMPOUND_SURNAMES = frozenset(
    words(
        """欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 西门
    南宫 独孤 呼延 万俟 闻人 赫连 澹台 公冶 宗政 濮阳 太叔 申屠 钟离 百里 东郭 第五 左丘"""
    )
)

# Characters that end organisation and place names, never a given name in practice; the
# second line: generic parts of village and hamlet names (周庄, 何家湾, 陈家坝, 孙家堡).
_NON_NAME_ENDINGS = frozenset(
    "局区市县省司厂店院校所站队部会室组村镇乡路街委办处科馆社园场库行"
    "庄桥湾坝集堡屯寨沟埠圩墩铺巷坊塘坡营"
)

_DOTTED = re.compile(r"^[\u4e00-\u9fff]{1,8}(?:·[\u4e00-\u9fff]{1,8}){1,3}$")


def split_name(value: str) -> tuple[str, str] | None:
    """(surname, given name) if ``value`` is a 2–4 character Han name with a known surname."""
    text = normalize(value).replace(" ", "")
    if not 2 <= len(text) <= 4 or not all(is_hanzi(c) for c in text):
        return None
    if text[-1] in _NON_NAME_ENDINGS:
        return None
    if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES:
        return text[:2], text[2:]
    if text[0] in SINGLE_SURNAMES:
        return text[0], text[1:]
    return None


def is_person_name(value: str) -> bool:
    return split_name(value) is not None


def is_dotted_name(value: str) -> bool:
    """A transliterated name written with a middle dot (e.g. 买买提·艾力)."""
    text = normalize(value).replace(" ", "").replace("•", "·").replace("・", "·")
    return _DOTTED.match(text) is not None
