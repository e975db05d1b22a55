"""Start-up time of the command line, per command, against a bare ``python -c "import torch"``.

Targets: ``logitlab predict`` of 100 rows with a saved table run takes at most 2x ``import torch``;
``logitlab --help`` answers in under 0.2 s. Each command runs in a fresh interpreter (warm file cache), the
commands interleaved round by round so that a change in the machine's load hits them all alike; the median of
the rounds is reported. ``evaluate`` (of the run's held-out test split) and ``doctor`` of the same table are
shown too: neither imports torchvision, ``torch._dynamo``, matplotlib or torchmetrics, both import
scikit-learn (to split), so each costs about ``import torch`` plus scikit-learn (``import sklearn.model_selection``
is timed alongside).

Run: python -m benchmarks.import_time [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREDICT_RATIO = 2.0
HELP_S = 0.2


def _saved_table_run(tmp: Path, env: dict[str, str]) -> tuple[Path, Path, Path]:
    """A run trained by the CLI on breast_cancer (2 epochs), its 569-row table and 100 rows to predict."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    table, rows = tmp / "table.csv", tmp / "rows100.csv"
    frame.to_csv(table, index=False)
    frame.drop(columns="target").head(100).to_csv(rows, index=False)
    cmd = [sys.executable, "-m", "logitlab", "train", str(table), "--target", "target", "--epochs", "2"]
    subprocess.run([*cmd, "--quiet", "--out", str(tmp / "run")], capture_output=True, check=True, env=env)
    return tmp / "run", table, rows


def _once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True, env=env)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cli = [sys.executable, "-m", "logitlab"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        run, table, rows = _saved_table_run(tmp, env)
        out = tmp / "scores.csv"
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "logitlab --help": [*cli, "--help"],
            'python -c "import torch"': [sys.executable, "-c", "import torch"],
            'python -c "import torch, sklearn.model_selection"': [
                sys.executable,
                "-c",
                "import torch, sklearn.model_selection",
            ],
            "logitlab predict (100 rows, table run)": [
                *cli,
                "predict",
                str(run),
                str(rows),
                "--out",
                str(out),
            ],
            "logitlab evaluate (table run, test split)": [*cli, "evaluate", str(run), str(table)],
            "logitlab doctor (table)": [*cli, "doctor", str(table), "--target", "target"],
        }
        results: dict[str, list[float]] = {name: [] for name in cases}
        for cmd in cases.values():  # warm the page cache once
            subprocess.run(cmd, capture_output=True, env=env)
            out.unlink(missing_ok=True)
        for _ in range(args.repeats):
            for name, cmd in cases.items():
                results[name].append(_once(cmd, env))
                out.unlink(missing_ok=True)
    print(f"| command | median s | min s | max s |  (repeats={args.repeats}, interleaved)")
    print("|---|---|---|---|")
    for name, times in results.items():
        print(f"| `{name}` | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |")
    torch_s = statistics.median(results['python -c "import torch"'])
    predict_s = statistics.median(results["logitlab predict (100 rows, table run)"])
    help_s = statistics.median(results["logitlab --help"])
    ratio = predict_s / torch_s
    print(f"\npredict / import torch = {ratio:.2f} (target <= {PREDICT_RATIO}): "
          f"{'PASS' if ratio <= PREDICT_RATIO else 'FAIL'}")  # fmt: skip
    evaluate_s = statistics.median(results["logitlab evaluate (table run, test split)"])
    print(f"evaluate / import torch = {evaluate_s / torch_s:.2f} (no target; shown for reference)")
    print(
        f"`logitlab --help` median {help_s:.3f} s (target < {HELP_S} s): {'PASS' if help_s < HELP_S else 'FAIL'}"
    )
    return results


if __name__ == "__main__":
    main()
