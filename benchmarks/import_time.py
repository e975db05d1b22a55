"""Start-up time of the command line: `logitlab --help` must answer in under 1 s warm.

Measures, side by side in one run, the median wall time of N warm runs of:
a bare `python -c pass` (the interpreter's own floor), `import logitlab`, `logitlab --help`, and
`import torch` (what the CLI would cost if it imported torch eagerly).

Run: python -m benchmarks.import_time [--repeats 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 1.0


def _time(cmd: list[str], repeats: int) -> list[float]:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the page cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    cli = shutil.which("logitlab") or str(Path(sys.executable).with_name("logitlab"))
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import logitlab": [sys.executable, "-c", "import logitlab"],
        "logitlab --help": [cli, "--help"],
        "import torch (reference)": [sys.executable, "-c", "import torch"],
    }
    results = {name: _time(cmd, args.repeats) for name, cmd in cases.items()}
    print(f"| command | median s | min s | max s |  (repeats={args.repeats})")
    print("|---|---|---|---|")
    for name, times in results.items():
        print(f"| `{name}` | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |")
    help_median = statistics.median(results["logitlab --help"])
    verdict = "PASS" if help_median < TARGET_S else "FAIL"
    print(f"\n`logitlab --help` median {help_median:.3f} s, target < {TARGET_S:.1f} s: {verdict}")
    return results


if __name__ == "__main__":
    main()
