"""`python -m bench [NAME ...]`: run benchmarks and print one JSON document of figures."""

from __future__ import annotations

import json
import sys

from bench import collect, hearth_sync, localforce_org

BENCHMARKS = {
    "localforce_org": localforce_org.run,
    "hearth_sync": hearth_sync.run,
    "collect": collect.run,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}",
              file=sys.stderr)  # fmt: skip
        return 2
    results = {name: BENCHMARKS[name]() for name in names}
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
