"""Regenerate the labelled classification corpus shipped in src/shuzhi/security/corpus/.

Deterministic: the same seed always writes the same files. All identifiers are synthetic.

    python -m scripts.generate_security_corpus [--seed 2024] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.security.synthetic import generate_corpus

from shuzhi.security.evaluation import CORPUS_DIR

SHIPPED_SEED = 2024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=SHIPPED_SEED)
    parser.add_argument("--out", type=Path, default=CORPUS_DIR)
    args = parser.parse_args()
    labels = generate_corpus(args.out, args.seed)
    print(f"wrote {len(labels)} labelled columns to {args.out}")


if __name__ == "__main__":
    main()
