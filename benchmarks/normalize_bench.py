"""CPU cost of the base-library normalisers (``masterdata.normalize``).

    python -m benchmarks.normalize_bench [--names 100000] [--addresses 10000]

Generates a deterministic population of names (a quarter written in traditional
characters, some with middle dots, full-width letters or stray spaces) and of addresses
(with and without province, short forms, ambiguous counties), then times in CPU seconds
(process time, one pass each, caches cleared first):

- OpenCC ``t2s`` alone on every name, uncached;
- ``normalize_name`` on every name (clean-up, t2s, pinyin key) — cold, then warm caches —
  and on the distinct names only, cold;
- ``pinyin_key`` on every distinct simplified name, cold;
- ``parse_address`` on every address;
- ``read_resident_id`` on as many IDs as names.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import opencc

from shuzhi.masterdata.normalize import addresses, names, pinyin, resident_ids, text
from shuzhi.masterdata.normalize.divisions import division_index
from shuzhi.standards.identifiers import ric_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾单仇解查朴区"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华文国建志红玉春海鹏飞云龙学友"
_SIMPLE = "张刘陈杨黄赵吴孙马郑梁谢邓许韩冯伟丽军艳杰涛兰华国红学龙飞鹏"
_TRADITIONAL = "張劉陳楊黃趙吳孫馬鄭梁謝鄧許韓馮偉麗軍艷傑濤蘭華國紅學龍飛鵬"
TRADITIONAL = str.maketrans(_SIMPLE, _TRADITIONAL)
DOTTED = ("买买提·艾力", "阿卜杜勒•热合曼", "古丽‧努尔", "艾合买提・托合提")
ROADS = ("人民路", "解放大道", "中山路", "建设路", "文三路", "幸福街")


def make_names(count: int, rng: random.Random) -> list[str]:
    found = []
    for i in range(count):
        if i % 50 == 0:
            found.append(rng.choice(DOTTED))
            continue
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        if rng.random() < 0.25:
            name = name.translate(TRADITIONAL)
        if rng.random() < 0.05:
            name = name[0] + " " + name[1:]
        found.append(name)
    return found


def make_addresses(count: int, rng: random.Random) -> list[str]:
    index = division_index()
    counties = [d for d in index.by_code.values() if d.level == 3 and d.code[:2] != "71"]
    found = []
    for _ in range(count):
        county = rng.choice(counties)
        province = index.by_code[county.code[:2] + "0000"]
        city = index.by_code.get(county.code[:4] + "00")
        head = {0: province.name, 1: (city or province).name, 2: ""}[rng.randrange(3)]
        street = rng.choice(("城关镇", "东城街道", "")) + rng.choice(("幸福村", "和平社区", ""))
        found.append(f"{head}{county.name}{street}{rng.choice(ROADS)}{rng.randint(1, 999)}号")
    return found


def make_ids(count: int, rng: random.Random) -> list[str]:
    regions = ["110105", "330106", "440305", "510104", "650102"]
    found = []
    for _ in range(count):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(30_000))
        first17 = f"{rng.choice(regions)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = first17 + ric_check_char(first17)
        found.append(number.lower() if rng.random() < 0.1 else number)
    return found


def cpu(step: Callable[[], object]) -> float:
    started = time.process_time()
    step()
    return time.process_time() - started


def _clear() -> None:
    names.normalize_name.cache_clear()
    text.to_simplified.cache_clear()
    pinyin.syllables.cache_clear()


def _timed(
    step: str, items: Sequence[str], work: Callable[[str], object]
) -> tuple[str, int, float]:
    return step, len(items), cpu(lambda: [work(item) for item in items])


def run(name_count: int, address_count: int) -> list[tuple[str, int, float]]:
    rng = random.Random(20261205)
    people, places = make_names(name_count, rng), make_addresses(address_count, rng)
    ids = make_ids(name_count, rng)
    distinct = sorted(set(people))
    converter = opencc.OpenCC("t2s")
    division_index()
    rows = [_timed("opencc t2s, uncached", people, converter.convert)]
    _clear()
    rows.append(_timed("normalize_name, cold", people, names.normalize_name))
    rows.append(_timed("normalize_name, warm", people, names.normalize_name))
    _clear()
    rows.append(_timed("normalize_name, distinct", distinct, names.normalize_name))
    simplified = sorted({text.to_simplified(n) for n in people})
    _clear()
    rows.append(_timed("pinyin_key, distinct", simplified, pinyin.pinyin_key))
    rows.append(_timed("parse_address", places, addresses.parse_address))
    rows.append(_timed("read_resident_id", ids, resident_ids.read_resident_id))
    return rows


def print_table(rows: Sequence[tuple[str, int, float]]) -> None:
    print(f"{'step':<28} {'items':>9} {'CPU s':>8} {'µs/item':>9}")
    for step, items, seconds in rows:
        print(f"{step:<28} {items:>9,} {seconds:>8.2f} {seconds / max(items, 1) * 1e6:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--addresses", type=int, default=10_000)
    args = parser.parse_args()
    print_table(run(args.names, args.addresses))


if __name__ == "__main__":
    main()
