"""Run every benchmark in turn (`make bench`); each prints its own table for benchmarks/RESULTS.md.

Run: python -m benchmarks.run [NAME ...]   (names: losses, trainer, monitor, import_time, tabular, calibration, quality)
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("losses", "trainer", "monitor", "import_time", "tabular", "calibration", "quality")


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; expected some of {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"\n===== benchmarks.{name} =====", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
