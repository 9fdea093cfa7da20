"""A feature cache written before a feature column existed is not reused half-way."""

from __future__ import annotations

import pyarrow as pa

from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.runner.records import Loaded, digest, features_with_cache
from shuzhi.masterdata.sources import SourceRecord


def test_a_cache_without_the_place_column_is_rebuilt() -> None:
    records = [
        SourceRecord("民政", 1, {"name": "赵丽华", "address": "杭州市西湖区文三路18号"}),
        SourceRecord("卫健", 1, {"name": "赵丽华", "address": "浙江省杭州市西湖区文三路18号"}),
    ]
    loaded = Loaded(records, [1, 1], [digest(r.fields) for r in records], {})
    full = build_features(records)
    fresh_cache = full.append_column("digest", pa.array(loaded.digests))
    table, normalised = features_with_cache("person", loaded, fresh_cache)
    assert normalised == 0 and table.column("place").to_pylist() == ["||文三路18号"] * 2
    stale = fresh_cache.drop_columns(["place"])
    table, normalised = features_with_cache("person", loaded, stale)
    assert normalised == 2 and table.column("place").to_pylist() == ["||文三路18号"] * 2
