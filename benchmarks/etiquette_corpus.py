"""Agreement of the etiquette checks with the labelled corpus: the per-clause table.

    python benchmarks/etiquette_corpus.py [CORPUS_DIR ...] [--disagreements]

Prints precision and recall per clause (docs/etiquette.md shows the table) and, with
``--disagreements``, every case where the checks and the reviewer differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tierrules
from tierrules.agreement import load_corpus, score

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="*", type=Path, default=[ROOT / "tests" / "corpus" / "etiquette"])
    parser.add_argument("--disagreements", action="store_true")
    args = parser.parse_args(argv)
    engine = tierrules.Engine()
    try:
        cases = [case for where in args.corpus for case in load_corpus(where)]
        report = score(cases, engine)
    except tierrules.TierrulesError as exc:  # a malformed case: where, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{report.cases} cases")
    print(report.table())
    if args.disagreements:
        for clause in sorted(report.clauses):
            for line in report.clauses[clause].disagreements:
                print(f"{clause} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
