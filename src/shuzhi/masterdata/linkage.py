"""Probabilistic linkage of person records: Splink (Fellegi–Sunter) on DuckDB.

The steps, each in its own function:

1. **Blocking keys** (``block_keys``): seven keys per record (resident ID; phone; name key +
   birth date; name key + birth year + area; surname key + birth date + county; name key +
   county; county + place below it). A block (records sharing a key) larger than
   ``max_block_size`` is *dropped for that key* and reported (``OversizedBlock``), so a
   skewed block (a common name with a common birth date, a placeholder ID, a switchboard
   phone) never explodes: the pairs compared are at most
   ``len(RULES) × N × (max_block_size − 1) / 2``.
2. **Model** (``settings``): six comparisons (resident ID, name, birth date, sex, phone,
   address, the same place below the county its best level) with starting m and u
   probabilities; u is estimated by random sampling and m by expectation maximisation when
   there are enough records (``LinkOptions.min_train_records``), otherwise the starting
   values stand. Per-pair match weights are kept for explanation.
3. **Clustering** (``cluster``): pairs at or above ``threshold`` are merged strongest first,
   except across two different *verified* resident IDs (a cannot-link constraint: a
   single mistyped digit always breaks the check character, so two valid IDs that differ
   are two people). Refused merges are counted and listed.
4. **Entity IDs** (``entity_ids``): each cluster is named after its anchor record, the one
   of the most authoritative source (``source_rank``), then the smallest source name and
   row: a hash of that ``(source, row)``. The same data gives the same IDs; adding a source
   ranked below the others keeps every existing ID.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

# Splink logs its progress at INFO; the command reports its own figures.
logging.getLogger("splink").setLevel(logging.ERROR)

# Blocking key → SQL over the feature table (NULL when a part is missing).
RULES: dict[str, str] = {
    "k_id": "ident",
    "k_phone": "phone",
    "k_name_birth": "name_pinyin || '|' || birth_date",
    "k_name_year_city": "name_pinyin || '|' || birth_year || '|' || coalesce(city, adcode)",
    "k_surname_birth_county": "surname_pinyin || '|' || birth_date || '|' || adcode",
    "k_name_county": "name_pinyin || '|' || adcode",
    "k_place": "adcode || '|' || place",
}

# For legal entities: USCC; organisation code; registration number; name core + branch +
# prefecture; name core + branch; legal representative + prefecture.
ENTITY_RULES: dict[str, str] = {
    "k_id": "ident",
    "k_org": "org_code",
    "k_regno": "regno",
    "k_core_city": "name_core || '|' || coalesce(branch, '') || '|' || city",
    "k_core": "name_core || '|' || coalesce(branch, '')",
    "k_rep_city": "rep_pinyin || '|' || city",
}

# The largest prior match probability (see ``prior``).
PRIOR_CAP = 1e-3


@dataclass(frozen=True)
class LinkOptions:
    threshold: float = 0.99  # match probability at which two records are merged
    review_threshold: float = 0.5  # pairs kept (for explanation and review) from here
    max_block_size: int = 200
    min_train_records: int = 2_000  # fewer: keep the starting m probabilities
    memory_limit: str = "1500MB"  # DuckDB's; it spills to a temporary directory beyond
    threads: int = 2
    seed: int = 42


@dataclass(frozen=True)
class OversizedBlock:
    rule: str
    key: str
    size: int


@dataclass
class Linkage:
    """What a run produced. ``entity`` is indexed by ``unique_id``."""

    features: pa.Table
    entity: list[str]
    pairs: pa.Table  # scored pairs at or above the review threshold, with explanations
    oversized: list[OversizedBlock]
    refused: int  # merges refused across two different verified resident IDs
    trained: bool
    stats: dict[str, Any] = field(default_factory=dict)


def _level(sql: str, label: str, m: float, u: float, **extra: Any) -> dict[str, Any]:
    return {
        "sql_condition": sql,
        "label_for_charts": label,
        "m_probability": m,
        "u_probability": u,
        **extra,
    }


def _null(column: str) -> dict[str, Any]:
    return {
        "sql_condition": f'"{column}_l" IS NULL OR "{column}_r" IS NULL',
        "label_for_charts": "missing",
        "is_null_level": True,
    }


def _else(m: float, u: float) -> dict[str, Any]:
    return _level("ELSE", "different", m, u)


def comparisons(normalise: bool = True, kind: str = "person") -> list[dict[str, Any]]:
    """The six comparisons of ``kind`` with their levels and starting m/u probabilities."""
    if kind == "legal_entity":
        return entity_comparisons(normalise)
    return person_comparisons(normalise)


def entity_comparisons(normalise: bool = True) -> list[dict[str, Any]]:
    """USCC, name (a branch is a registration of its own: the core agreeing with another
    branch earns nothing), organisation code, registration number, legal representative,
    address."""
    uscc = {
        "output_column_name": "uscc",
        "comparison_levels": [
            _null("ident"),
            _level('"ident_l" = "ident_r"', "exact", 0.93, 1e-6),
            _level('damerau_levenshtein("ident_l", "ident_r") <= 1', "one edit", 0.05, 1e-5),
            _else(0.02, 0.99998),
        ],
    }
    same_branch = "coalesce(\"branch_l\", '') = coalesce(\"branch_r\", '')"
    name_levels = [
        _null("name"),
        _level(
            '"name_l" = "name_r"',
            "exact",
            0.7,
            1e-4,
            tf_adjustment_column="name",
            tf_adjustment_weight=1.0,
        ),
    ]
    if normalise:
        name_levels.append(
            _level(f'"name_core_l" = "name_core_r" AND {same_branch}', "same core", 0.2, 3e-4)
        )
    name_levels += [
        _level(
            f'jaro_winkler_similarity("name_core_l", "name_core_r") >= 0.92 AND {same_branch}',
            "similar",
            0.05,
            2e-3,
        ),
        _else(0.05, 0.997),
    ]
    org = {
        "output_column_name": "org_code",
        "comparison_levels": [
            _null("org_code"),
            _level('"org_code_l" = "org_code_r"', "exact", 0.95, 1e-6),
            _else(0.05, 0.999999),
        ],
    }
    regno = {
        "output_column_name": "registration_number",
        "comparison_levels": [
            _null("regno"),
            _level('"regno_l" = "regno_r"', "exact", 0.95, 1e-6),
            _else(0.05, 0.999999),
        ],
    }
    rep = {
        "output_column_name": "legal_representative",
        "comparison_levels": [
            _null("rep_pinyin"),
            _level('"rep_pinyin_l" = "rep_pinyin_r"', "same pinyin", 0.85, 1e-3),
            _else(0.15, 0.999),
        ],
    }
    address_levels = [
        _null("adcode"),
        _level('"adcode_l" = "adcode_r"', "same county" if normalise else "exact", 0.85, 0.07),
    ]
    if normalise:
        address_levels.append(_level('"city_l" = "city_r"', "same city", 0.08, 0.05))
    address_levels.append(_else(0.07, 0.88))
    return [
        uscc,
        {"output_column_name": "name", "comparison_levels": name_levels},
        org,
        regno,
        rep,
        {"output_column_name": "address", "comparison_levels": address_levels},
    ]


def person_comparisons(normalise: bool = True) -> list[dict[str, Any]]:
    """The six comparisons of a person with their levels and starting m/u probabilities."""
    rid = {
        "output_column_name": "resident_id",
        "comparison_levels": [
            _null("ident"),
            _level('"ident_l" = "ident_r"', "exact", 0.93, 1e-6),
            _level('damerau_levenshtein("ident_l", "ident_r") <= 1', "one edit", 0.05, 1e-5),
            _else(0.02, 0.99998),
        ],
    }
    name_levels = [
        _null("name"),
        _level(
            '"name_l" = "name_r"',
            "exact",
            0.85,
            5e-4,
            tf_adjustment_column="name",
            tf_adjustment_weight=1.0,
        ),
    ]
    if normalise:
        name_levels.append(_level('"name_pinyin_l" = "name_pinyin_r"', "same pinyin", 0.06, 1e-4))
    name_levels += [
        _level(
            'length("name_l") >= 2 AND length("name_r") >= 2 AND'
            ' (starts_with("name_l", "name_r") OR starts_with("name_r", "name_l"))',
            "truncated",
            0.02,
            2e-4,
        ),
        _level(
            'jaro_winkler_similarity("name_pinyin_l", "name_pinyin_r") >= 0.9',
            "similar",
            0.04,
            3e-3,
        ),
        _else(0.03, 0.996),
    ]
    birth = {
        "output_column_name": "birth_date",
        "comparison_levels": [
            _null("birth_date"),
            _level('"birth_date_l" = "birth_date_r"', "exact", 0.93, 4e-5),
            _level(
                'damerau_levenshtein("birth_date_l", "birth_date_r") <= 1', "one edit", 0.04, 6e-4
            ),
            _else(0.03, 0.9993),
        ],
    }
    sex = {
        "output_column_name": "sex",
        "comparison_levels": [
            _null("sex"),
            _level('"sex_l" = "sex_r"', "exact", 0.98, 0.5),
            _else(0.02, 0.5),
        ],
    }
    phone = {
        "output_column_name": "phone",
        "comparison_levels": [
            _null("phone"),
            _level('"phone_l" = "phone_r"', "exact", 0.8, 1e-6),
            _else(0.2, 0.999999),
        ],
    }
    address_levels = [_null("adcode")]
    if normalise:
        address_levels.append(
            _level('"adcode_l" = "adcode_r" AND "place_l" = "place_r"', "same place", 0.75, 1e-5)
        )
    address_levels.append(
        _level('"adcode_l" = "adcode_r"', "same county" if normalise else "exact", 0.15, 0.07)
    )
    if normalise:
        address_levels.append(_level('"city_l" = "city_r"', "same city", 0.03, 0.05))
    address_levels.append(_else(0.07, 0.88))
    return [
        rid,
        {"output_column_name": "name", "comparison_levels": name_levels},
        birth,
        sex,
        phone,
        {"output_column_name": "address", "comparison_levels": address_levels},
    ]


def rules(kind: str = "person") -> dict[str, str]:
    return ENTITY_RULES if kind == "legal_entity" else RULES


def settings(n_records: int, normalise: bool = True, kind: str = "person") -> dict[str, Any]:
    """Splink settings: dedupe over all sources together (links within and across)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": min(2.0 / max(n_records, 2), PRIOR_CAP),
        "comparisons": comparisons(normalise, kind),
        "blocking_rules_to_generate_predictions": [f'l."{k}" = r."{k}"' for k in rules(kind)],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
    }


def connect(options: LinkOptions, spill: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with bounded memory, spilling to ``spill`` beyond it."""
    con = duckdb.connect()
    _run(con, f"SET temp_directory = '{spill}'")
    _run(con, f"SET memory_limit = '{options.memory_limit}'")
    _run(con, f"SET threads = {int(options.threads)}")
    _run(con, "SET preserve_insertion_order = false")
    return con


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """A statement whose result is drained (DuckDB 2 refuses further work on a connection
    with an unfinished result)."""
    con.execute(sql).fetchall()


def block_keys(
    con: duckdb.DuckDBPyConnection, features: pa.Table, max_block_size: int, kind: str = "person"
) -> tuple[str, list[OversizedBlock]]:
    """Create table ``records`` (features + one column per blocking key, NULL where the
    key's block is over ``max_block_size``) and list the blocks dropped, largest first."""
    con.register("features_in", features)
    keys = ", ".join(f"{sql} AS {name}" for name, sql in rules(kind).items())
    _run(con, f"CREATE OR REPLACE TABLE keyed AS SELECT *, {keys} FROM features_in")
    con.unregister("features_in")
    oversized: list[OversizedBlock] = []
    bounded = []
    for name in rules(kind):
        rows = con.execute(
            f"SELECT {name}, count(*) AS n FROM keyed WHERE {name} IS NOT NULL"
            f" GROUP BY {name} HAVING count(*) > ? ORDER BY n DESC, {name}",
            [max_block_size],
        ).fetchall()
        oversized += [OversizedBlock(name, str(key), int(n)) for key, n in rows]
        bounded.append(
            f"CASE WHEN count(*) OVER (PARTITION BY {name}) > {int(max_block_size)}"
            f" THEN NULL ELSE {name} END AS {name}"
        )
    others = ", ".join(f'"{c}"' for c in features.column_names)
    _run(
        con, f"CREATE OR REPLACE TABLE records AS SELECT {others}, {', '.join(bounded)} FROM keyed"
    )
    _run(con, "DROP TABLE keyed")
    oversized.sort(key=lambda b: (-b.size, b.rule, b.key))
    return "records", oversized


def prior(con: duckdb.DuckDBPyConnection, table: str, n_records: int) -> float:
    """Probability that two random records match: pairs sharing a *verified* resident ID,
    scaled up for the records without one (recall of that rule taken as the share of
    records with a verified ID), over all pairs; one match per record when no record has a
    verified ID. Capped at ``PRIOR_CAP`` so that a small file does not make every merge
    easy, and never 0 (a zero prior makes every weight undefined)."""
    total = n_records * (n_records - 1) / 2
    shared, verified = con.execute(
        f"SELECT coalesce(sum(c * (c - 1) / 2), 0), coalesce(sum(c), 0) FROM"
        f" (SELECT count(*) AS c FROM {table} WHERE ident_ok GROUP BY ident)"
    ).fetchall()[0]
    if not shared or not total:
        estimate = n_records / 2 / total if total else PRIOR_CAP
    else:
        share = float(verified) / n_records
        estimate = float(shared) / max(share * share, 1e-6) / total
    return min(max(estimate, 1e-9), PRIOR_CAP)


def score(
    con: duckdb.DuckDBPyConnection,
    table: str,
    n_records: int,
    options: LinkOptions,
    normalise: bool = True,
    kind: str = "person",
) -> tuple[pa.Table, bool, dict[str, Any]]:
    """Train (when there are enough records) and score every blocked pair; the pairs at or
    above the review threshold with per-comparison match weights."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    df = db_api.register(table)
    model = settings(n_records, normalise, kind)
    model["probability_two_random_records_match"] = prior(con, table, n_records)
    linker = Linker(df, model, log_level=logging.ERROR)
    trained = False
    notes: dict[str, Any] = {}
    started = time.process_time()
    if n_records >= options.min_train_records:
        try:
            linker.training.estimate_u_using_random_sampling(
                max_pairs=min(2e6, n_records * 20.0), seed=options.seed
            )
            proportion = min(1.0, 400_000 / n_records)
            second = "k_core_city" if kind == "legal_entity" else "k_name_birth"
            for rule in ('l."k_id" = r."k_id"', f'l."{second}" = r."{second}"'):
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, record_sample_proportion=proportion
                )
            trained = True
        except Exception as exc:  # EM could not run: the starting values stand
            notes["training"] = f"starting values kept ({type(exc).__name__}: {exc})"[:300]
    notes["train_cpu_s"] = round(time.process_time() - started, 2)
    pairs = linker.inference.predict(threshold_match_probability=options.review_threshold)
    arrow: pa.Table = pairs.as_pyarrow_table()  # type: ignore[no-untyped-call]
    notes["predict_cpu_s"] = round(time.process_time() - started - notes["train_cpu_s"], 2)
    notes["model"] = linker.misc.save_model_to_json()
    return arrow, trained, notes


def _labels(normalise: bool, kind: str = "person") -> dict[str, dict[int, str]]:
    """Comparison → gamma value → level label (Splink numbers levels from the top: the
    null level is -1, the last level 0)."""
    out: dict[str, dict[int, str]] = {}
    for comparison in comparisons(normalise, kind):
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        out[comparison["output_column_name"]] = {
            len(levels) - 1 - i: lv["label_for_charts"] for i, lv in enumerate(levels)
        } | {-1: "missing"}
    return out


def explain(pairs: pa.Table, normalise: bool = True, kind: str = "person") -> list[str]:
    """One line per pair: each comparison's level and match weight (log2 of its Bayes
    factor, the term-frequency adjustment of the name included), e.g.
    ``resident_id=exact(+19.8) name=same pinyin(+9.2) birth_date=exact(+14.5) …``."""
    labels = _labels(normalise, kind)
    n = pairs.num_rows
    present = set(pairs.column_names)

    def column(name: str, default: object) -> list[Any]:
        return pairs.column(name).to_pylist() if name in present else [default] * n

    parts: list[list[str]] = [[] for _ in range(n)]
    for name, by_gamma in labels.items():
        gammas = column(f"gamma_{name}", None)
        weights = column(f"mw_{name}", 0.0)
        tf = column(f"mw_tf_adj_{name}", 0.0)
        for i in range(n):
            gamma = gammas[i]
            level = "?" if gamma is None else by_gamma.get(int(gamma), str(gamma))
            weight = (weights[i] or 0.0) + (tf[i] or 0.0)
            parts[i].append(f"{name}={level}({weight:+.1f})")
    return [" ".join(p) for p in parts]


class _Clusters:
    """Union–find that refuses to join two different verified resident IDs."""

    def __init__(self, ids: list[str | None]) -> None:
        self.parent = list(range(len(ids)))
        self.verified: list[str | None] = list(ids)

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int) -> bool | None:
        """True: joined; None: already one cluster; False: refused."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        va, vb = self.verified[ra], self.verified[rb]
        if va is not None and vb is not None and va != vb:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.verified[ra] = va or vb
        return True


def cluster(features: pa.Table, pairs: pa.Table, threshold: float) -> tuple[list[int], list[str]]:
    """Cluster root per record and the decision per scored pair (merged, same_cluster,
    refused_two_verified_ids, review, below)."""
    rid = features.column("ident").to_pylist()
    ok = features.column("ident_ok").to_pylist()
    clusters = _Clusters([r if o else None for r, o in zip(rid, ok, strict=True)])
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    prob = pairs.column("match_probability").to_pylist()
    decisions = ["review"] * len(prob)
    # Strongest first; ties broken by the record ids so a re-run decides the same way.
    order = sorted(range(len(prob)), key=lambda i: (-prob[i], left[i], right[i]))
    for i in order:
        if prob[i] < threshold:
            break
        joined = clusters.join(int(left[i]), int(right[i]))
        decisions[i] = {True: "merged", None: "same_cluster", False: "refused_two_verified_ids"}[
            joined
        ]
    return [clusters.find(i) for i in range(features.num_rows)], decisions


def entity_ids(
    features: pa.Table, roots: list[int], source_rank: dict[str, int], prefix: str = "P"
) -> list[str]:
    """Each cluster's ID from its anchor record: most authoritative source (lowest rank;
    unranked sources after the ranked ones), then smallest source name, then row."""
    sources = features.column("source").to_pylist()
    rows = features.column("row").to_pylist()
    unranked = len(source_rank)
    anchor: dict[int, tuple[int, str, int]] = {}
    for i, root in enumerate(roots):
        key = (source_rank.get(sources[i], unranked), sources[i], rows[i])
        if root not in anchor or key < anchor[root]:
            anchor[root] = key
    names = {
        root: prefix + hashlib.blake2b(f"{s}\x1f{r}".encode(), digest_size=8).hexdigest()
        for root, (_rank, s, r) in anchor.items()
    }
    return [names[root] for root in roots]


def link(
    features: pa.Table,
    source_rank: dict[str, int] | None = None,
    options: LinkOptions | None = None,
    normalise: bool = True,
    kind: str = "person",
) -> Linkage:
    """Block, score, cluster and name the entities of ``features`` (``build_features``)."""
    options = options or LinkOptions()
    n = features.num_rows
    with tempfile.TemporaryDirectory(prefix="shuzhi-link-") as spill:
        con = connect(options, spill)
        try:
            table, oversized = block_keys(con, features, options.max_block_size, kind)
            blocked = {
                name: con.execute(
                    f"SELECT coalesce(sum(c * (c - 1) / 2), 0) FROM"
                    f" (SELECT count(*) AS c FROM {table} WHERE {name} IS NOT NULL GROUP BY {name})"
                ).fetchall()[0][0]
                for name in rules(kind)
            }
            if n >= 2:
                pairs, trained, notes = score(con, table, n, options, normalise, kind)
            else:
                pairs, trained, notes = _no_pairs(), False, {}
        finally:
            con.close()
    roots, decisions = cluster(features, pairs, options.threshold)
    explanation = explain(pairs, normalise, kind)
    pairs = pairs.append_column("decision", pa.array(decisions, pa.string()))
    pairs = pairs.append_column("explanation", pa.array(explanation, pa.string()))
    prefix = "E" if kind == "legal_entity" else "P"
    entity = entity_ids(features, roots, source_rank or {}, prefix)
    refused = decisions.count("refused_two_verified_ids")
    stats: dict[str, Any] = {
        "records": n,
        "entities": len(set(entity)),
        "pairs_scored": pairs.num_rows,
        "pairs_merged": decisions.count("merged"),
        "pairs_blocked_upper_bound": int(sum(int(v) for v in blocked.values())),
        "blocked_per_rule": {k: int(v) for k, v in blocked.items()},
        **notes,
    }
    return Linkage(features, entity, pairs, oversized, refused, trained, stats)


def _no_pairs() -> pa.Table:
    return pa.table(
        {
            "unique_id_l": pa.array([], pa.int64()),
            "unique_id_r": pa.array([], pa.int64()),
            "match_probability": pa.array([], pa.float64()),
            "match_weight": pa.array([], pa.float64()),
        }
    )
