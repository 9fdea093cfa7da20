"""Health information: diagnosis vocabulary and ICD-10 code shapes (incl. national extensions)."""

from __future__ import annotations

import re

from shuzhi.standards.text import normalize, words

DIAGNOSIS_TERMS: tuple[str, ...] = words(
    """高血压 糖尿病 冠心病 心肌梗死 心绞痛 心力衰竭 心律失常 房颤 脑梗死 脑出血 脑卒中 中风 偏瘫
    肺炎 支气管炎 哮喘 慢阻肺 慢性阻塞性肺疾病 肺结核 结核 肝炎 乙肝 丙肝 肝硬化 脂肪肝 胃炎 胃溃疡
    阑尾炎 胆结石 肾结石 肾病 尿毒症 肾衰竭 痛风 甲亢 甲减 贫血 白血病 淋巴瘤 肿瘤 癌 恶性
    艾滋病 HIV 梅毒 淋病 抑郁 焦虑 精神分裂 双相 自闭症 孤独症 癫痫 帕金森 阿尔茨海默 痴呆
    骨折 骨质疏松 关节炎 腰椎间盘突出 颈椎病 白内障 青光眼 近视 弱视 听力 残疾 瘫痪
    过敏 青霉素过敏 湿疹 银屑病 新冠 COVID 流感 感冒 发热 手足口病 水痘 麻疹 狂犬
    妊娠 孕 流产 剖宫产 不孕 先天性 遗传 唐氏 地中海贫血 血友病 透析 化疗 放疗 术后"""
)
_SUFFIXES = ("病", "症", "炎", "癌", "瘤", "综合征", "感染", "损伤", "骨折", "畸形", "功能障碍")

_TERMS = re.compile("|".join(sorted(DIAGNOSIS_TERMS, key=len, reverse=True)), re.IGNORECASE)
# ICD-10 category (letter + 2 digits), optional subcategory and the national clinical
# extension (e.g. I10.x00x002, E11.900, J18.901), optional dagger/asterisk pair.
_ICD10 = re.compile(
    r"^[A-Z]\d{2}(?:\.[0-9Xx]{1,3}(?:[0-9Xx]\d{0,3})?)?(?:[+*†][A-Z]\d{2}(?:\.\d+)?)?$"
)


def is_icd10_code(value: str) -> bool:
    return _ICD10.match(normalize(value).upper().replace(" ", "")) is not None


def health_strength(value: str) -> int:
    """2: an ICD-10 code or a known diagnosis term; 1: a disease-like suffix; 0: neither."""
    text = normalize(value)
    if is_icd10_code(text) or (len(text) <= 60 and _TERMS.search(text)):
        return 2
    return 1 if len(text) <= 30 and text.endswith(_SUFFIXES) else 0
