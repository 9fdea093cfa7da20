"""Time the column classifier on 1,000-value samples of each kind of column.

    python -m benchmarks.classify_bench [--repeat 20]

Prints CPU milliseconds per column (process time, so other load on the machine does not
count) and the category found.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from tests.security import synthetic

from shuzhi.security.classifier import SAMPLE_LIMIT, classify_column

R = random.Random
COLUMNS: dict[str, Callable[[R], str]] = {
    "resident IDs": synthetic.resident_id,
    "mobile phones": synthetic.mobile,
    "bank cards": synthetic.bank_card,
    "names": synthetic.person_name,
    "addresses": synthetic.address,
    "birth dates": lambda r: synthetic.fmt_date(r, synthetic._birth(r), "mixed"),
    "e-mails": synthetic.email,
    "plates": synthetic.plate,
    "amounts": synthetic._amount,
    "free text": lambda r: r.choice(synthetic.PETITION_TEXTS),
    "bad-check 18-digit numbers": synthetic.bad_check_id,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(1)
    print(f"{'column (1,000 values)':30} {'ms/column':>10}  category")
    total = 0.0
    for label, make in COLUMNS.items():
        values: list[str | None] = [make(rng) for _ in range(SAMPLE_LIMIT)]
        start = time.process_time()
        for _ in range(args.repeat):
            result = classify_column("c", values)
        ms = (time.process_time() - start) / args.repeat * 1000
        total += ms
        print(f"{label:30} {ms:10.1f}  {result.category.value}")
    print(f"{'mean':30} {total / len(COLUMNS):10.1f}")


if __name__ == "__main__":
    main()
