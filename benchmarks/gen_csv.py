"""Deterministic, realistic-looking CSV for the ingest benchmark (generated inside DuckDB)."""

from __future__ import annotations

from pathlib import Path

import duckdb

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍"
    "红建国志文辉鹏宇浩然子涵欣怡梓轩雨桐佳琪思远晨阳博文嘉怡"
)
STREETS = [
    "青川路",
    "望江街道",
    "锦绣大道",
    "人民南路",
    "建设北路",
    "滨河路",
    "桂花巷",
    "文化路",
    "新华街",
    "东风路",
]
COMMUNITIES = ["幸福社区", "和平社区", "长青社区", "光明社区", "阳光社区", "春晖社区"]
REGIONS = ["510105", "510106", "510107", "510108", "510112", "510113", "510114", "510115"]
STATUS = ["正常", "注销", "迁出", "暂停"]
DEPTS = ["区民政局", "区人力资源和社会保障局", "区公安分局", "区卫生健康委员会", "区市场监督管理局"]


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v + "'" for v in values) + "]"


def generate(path: Path, rows: int) -> Path:
    """Write ``rows`` rows of population-register-like data to ``path`` (UTF-8 CSV with header)."""
    surnames = _list(list(SURNAMES))
    given = _list(list(GIVEN))
    sql = f"""
    COPY (
      WITH base AS (
        SELECT i,
               CAST(hash(i) % 1000000007 AS BIGINT) AS h1,
               CAST(hash(i + 7919) % 1000000009 AS BIGINT) AS h2,
               CAST(hash(i * 31 + 17) % 998244353 AS BIGINT) AS h3,
               DATE '1940-01-01' + CAST(hash(i + 3) % 25000 AS INTEGER) AS birth,
               DATE '2015-01-01' + CAST(hash(i + 5) % 3650 AS INTEGER) AS registered
        FROM range({rows}) t(i)
      ), ids AS (
        SELECT *,
               {_list(REGIONS)}[1 + h1 % {len(REGIONS)}] || strftime(birth, '%Y%m%d')
                 || lpad(CAST(h2 % 1000 AS VARCHAR), 3, '0') AS id17
        FROM base
      )
      SELECT
        i + 1 AS 序号,
        {surnames}[1 + h1 % {len(SURNAMES)}] || {given}[1 + h2 % {len(GIVEN)}]
          || CASE WHEN h3 % 3 = 0 THEN '' ELSE {given}[1 + h3 % {len(GIVEN)}] END AS 姓名,
        id17 || substr('10X98765432', 1 + CAST(list_sum(list_transform(range(17),
          lambda k: CAST(substr(id17, k + 1, 1) AS INTEGER)
             * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][k + 1])) % 11 AS INTEGER), 1)
          AS 身份证号,
        CASE WHEN h2 % 2 = 0 THEN '男' ELSE '女' END AS 性别,
        strftime(birth, '%Y-%m-%d') AS 出生日期,
        ['13', '15', '18', '17', '19'][1 + h3 % 5] || lpad(CAST(h1 % 1000000000 AS VARCHAR), 9, '0')
          AS 联系电话,
        '四川省成都市青川区' || {_list(STREETS)}[1 + h2 % {len(STREETS)}]
          || CAST(1 + h3 % 300 AS VARCHAR) || '号'
          || {_list(COMMUNITIES)}[1 + h1 % {len(COMMUNITIES)}]
          AS 居住地址,
        strftime(registered, '%Y/%m/%d') AS 登记日期,
        printf('%.2f', (h3 % 10000000) / 100.0) AS 补贴金额,
        {_list(DEPTS)}[1 + h1 % {len(DEPTS)}] AS 来源部门,
        {_list(STATUS)}[1 + (h2 >> 8) % {len(STATUS)}] AS 状态
      FROM ids
    ) TO '{path}' (HEADER, DELIMITER ',')
    """
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute(sql)
    finally:
        con.close()
    return path
