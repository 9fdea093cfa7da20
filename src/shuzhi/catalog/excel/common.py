"""The compile template: layout shared by reading and writing."""

from __future__ import annotations

from dataclasses import dataclass

ENTRY_SHEET = "信息资源目录"


ITEM_SHEET = "信息项"


ENTRY_SHEET_NAMES = ("信息资源目录", "资源目录", "目录", "数据资源目录", "政务数据资源目录")


ITEM_SHEET_NAMES = ("信息项", "信息项信息", "数据项", "字段")


HEADER_SCAN_ROWS = 20


MAX_PROBLEMS = 1000


MAX_WARNINGS = 200


MAX_ROWS = 200_000  # per sheet; beyond this the file is refused without reading further


MAX_COLUMNS = 200


@dataclass(frozen=True)
class Column:
    """One template column: ``key`` names the field, ``header`` is the national metadata name."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    export: bool = True


ENTRY_COLUMNS: tuple[Column, ...] = (
    Column("resource_code", "信息资源代码", ("资源代码", "目录代码", "资源编码")),
    Column("name", "信息资源名称", ("资源名称", "目录名称", "数据资源名称")),
    Column("unit_name", "信息资源提供方", ("提供方", "资源提供方", "提供单位", "提供方名称")),
    Column("unit_code", "信息资源提供方代码", ("提供方代码", "提供单位代码")),
    Column("abstract", "信息资源摘要", ("资源摘要", "摘要")),
    Column("class_code", "类", ("一级分类", "分类类", "资源分类类")),
    Column("subclass_code", "项", ("二级分类", "分类项", "资源分类项")),
    Column("group_code", "目", ("三级分类", "分类目", "资源分类目")),
    Column("detail_code", "细目", ("四级分类", "分类细目", "资源分类细目")),
    Column("format_code", "信息资源格式", ("资源格式", "格式分类", "格式")),
    Column("format_subtype", "信息资源格式类型", ("格式类型", "资源格式类型")),
    Column("share_type", "共享类型", ("共享属性", "资源共享类型")),
    Column("share_conditions", "共享条件", ()),
    Column("share_method", "共享方式", ("共享方式分类",)),
    Column("share_method_type", "共享方式类型", ()),
    # The basis (依据) of conditional sharing and of not sharing.
    Column("not_shared_basis", "不予共享依据", ("不共享依据", "不予共享理由", "共享依据")),
    Column("open_type", "开放类型", ("开放属性",)),
    Column("open_conditions", "开放条件", ()),
    Column("not_open_reason", "不予开放理由", ("不予开放原因", "不开放理由")),
    Column("not_open_note", "不予开放说明", ("不开放说明",)),
    Column("update_cycle", "更新周期", ("更新频率", "更新频度")),
    Column("publish_date", "发布日期", ("发布时间",)),
    Column("related_codes", "关联资源代码", ("关联资源", "关联代码")),
    Column("is_classified", "涉密属性", ("是否涉密",)),
    Column("extension", "扩展元数据", ("扩展信息",)),
    Column("status", "状态", ("目录状态",)),
)


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("resource_code", "信息资源代码", ("资源代码", "目录代码")),
    Column("resource_name", "信息资源名称", ("资源名称", "目录名称")),
    Column("name", "信息项名称", ("数据项名称", "字段名称", "字段中文名称")),
    Column("data_type", "数据类型", ("字段类型", "信息项数据类型")),
    Column("length", "数据长度", ("字段长度", "长度")),
    Column("share_type", "共享类型", ("信息项共享类型",)),
    Column("element_code", "数据元代码", ("数据元编码", "数据元标识符")),
    Column("element_name", "数据元名称", ("数据元", "关联数据元")),
    Column("is_source", "是否权威来源", ("权威来源", "是否权威数据源", "是否数源")),
    Column("description", "信息项描述", ("描述", "说明", "备注")),
)


# Columns written on export for people to read but never imported, and never a fault on
# import (the provider is read from its code; the publish date and status are lifecycle facts).
READ_ONLY_KEYS = frozenset({"status", "publish_date", "unit_name"})


REQUIRED_ENTRY_KEYS = ("name",)


REQUIRED_ITEM_KEYS = ("name",)
