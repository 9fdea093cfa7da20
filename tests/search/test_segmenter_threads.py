"""The dictionary is loaded once even when a fresh server's first requests arrive together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from shuzhi.search import segmenter


def test_concurrent_first_callers_share_one_tokenizer() -> None:
    segmenter._load_jieba.cache_clear()
    with ThreadPoolExecutor(8) as pool:
        tokenizers = list(pool.map(lambda _: segmenter._jieba(), range(8)))
    assert all(t is tokenizers[0] for t in tokenizers)
    assert segmenter.words("常住人口") == ["常住人口"]
