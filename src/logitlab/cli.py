"""The ``logitlab`` command line: a thin layer that parses, calls the public API and renders the result.

Module-level imports are standard library only, so ``logitlab --help`` answers without importing
torch; each command imports what it needs. Every :class:`~logitlab.errors.LogitlabError` becomes a
one-paragraph message on stderr and exit code 2 (``--debug`` shows the traceback).

Examples:
    >>> parser = build_parser()
    >>> args = parser.parse_args(["train", "builtin:breast_cancer", "--epochs", "3"])
    >>> args.command, args.data, args.epochs, args.task
    ('train', 'builtin:breast_cancer', 3, 'auto')
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_TASKS = ("auto", "binary", "multilabel", "multiclass")
_IMBALANCE = ("balanced", "sqrt", "smoothed", "effective", "none")
_PRECISIONS = ("32", "bf16", "16")

_EPILOG = """examples:
  logitlab demo --out demo-runs
  logitlab train data.csv --target churn --out runs/churn
  logitlab train tags.csv --target tags --label-sep '|' --loss focal --option gamma=2 --out runs/tags
  logitlab evaluate runs/churn data.csv
  logitlab predict runs/churn new.csv --out predictions.csv
  logitlab doctor data.csv --target churn
  logitlab plot-loss --loss focal --option gamma=2 --out focal.png
  torchrun --nproc_per_node 2 -m logitlab train data.csv --target churn --out runs/ddp
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="logitlab",
        description="Train binary, multi-label and multi-class PyTorch classifiers the right way: the task "
        "decides the loss, weights come from the training split, thresholds are tuned on validation data.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"logitlab {_version()}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks instead of short messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="train on the built-in binary, multi-label and multi-class sets")
    demo.add_argument(
        "--out", default="demo-runs", help="folder for the three run directories (default: demo-runs)"
    )
    demo.add_argument("--epochs", type=int, default=None, help="override each demo's number of epochs")
    _add_device(demo)

    train = sub.add_parser("train", help="train a classifier and write a run directory")
    _add_data(train)
    train.add_argument("--task", choices=_TASKS, default="auto", help="default: inferred from the labels")
    train.add_argument(
        "--loss", default="auto", help="auto (BCE / cross entropy by task), focal, dice, asl, ..."
    )
    train.add_argument("--option", dest="loss_options", action="append", default=[], metavar="KEY=VALUE",
                       help="a loss option, e.g. gamma=2 (repeatable)")  # fmt: skip
    train.add_argument(
        "--imbalance", choices=_IMBALANCE, default="balanced", help="weight strategy (default: balanced)"
    )
    train.add_argument("--model", default="mlp", help="mlp, cnn, resnet18, ... (default: mlp)")
    train.add_argument("--model-option", dest="model_options", action="append", default=[], metavar="KEY=VALUE",
                       help="a model option, e.g. dropout=0.2 (repeatable)")  # fmt: skip
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--weight-decay", type=float, default=1e-4)
    train.add_argument("--precision", choices=_PRECISIONS, default="32")
    train.add_argument("--val-size", type=float, default=0.15)
    train.add_argument("--test-size", type=float, default=0.15)
    train.add_argument(
        "--threshold-objective",
        default="f1",
        metavar="OBJ",
        help="what tuned thresholds maximise on validation: f1 (default), fbeta=2, precision_at_recall=0.9, "
        "recall_at_precision=0.9, or none (0.5 / argmax)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default=None, help="run directory (default: runs/<data name>)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    _add_device(train)

    evaluate = sub.add_parser("evaluate", help="metrics of a trained run on a data set")
    evaluate.add_argument("run", help="run directory written by `logitlab train`")
    evaluate.add_argument("data", help="CSV/Parquet file, image folder or builtin:NAME")
    evaluate.add_argument("--split", choices=("test", "all"), default="test",
                          help="test: the run's held-out test split of DATA (same seed); all: every row")  # fmt: skip
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")

    predict = sub.add_parser("predict", help="write probabilities and decisions for every row of DATA")
    predict.add_argument("run", help="run directory written by `logitlab train`")
    predict.add_argument("data", help="CSV/Parquet file, image folder or builtin:NAME")
    predict.add_argument("--out", required=True, help="CSV to write (atomically)")

    doctor = sub.add_parser("doctor", help="check a data set and an untrained model's first batch")
    _add_data(doctor)
    doctor.add_argument("--task", choices=_TASKS, default="auto")
    doctor.add_argument("--loss", default="auto")
    doctor.add_argument("--imbalance", choices=_IMBALANCE, default="balanced")
    doctor.add_argument("--model", default="mlp")
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")

    plot = sub.add_parser(
        "plot-loss", help="plot a loss against the logit for a positive and a negative target"
    )
    plot.add_argument("--loss", default="bce", help="loss name (default: bce)")
    plot.add_argument("--gamma", type=float, default=None, help="focal gamma (shortcut for --option gamma=G)")
    plot.add_argument("--option", dest="loss_options", action="append", default=[], metavar="KEY=VALUE")
    plot.add_argument("--compare", default="bce", help="a second loss drawn for reference ('' for none)")
    plot.add_argument("--range", type=float, default=6.0, help="logits from -R to R (default: 6)")
    plot.add_argument("--out", required=True, help="PNG file to write")
    return parser


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV/Parquet file, image folder, CSV of image paths, or builtin:NAME")
    p.add_argument("--target", action="append", default=None, metavar="COL",
                   help="target column; repeat for several 0/1 columns (multi-label)")  # fmt: skip
    p.add_argument("--label-sep", default="|", help="separator of label lists in one column (default: '|')")


def _add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")


def _version() -> str:
    from . import __version__

    return __version__


def parse_options(items: Sequence[str], what: str = "--option") -> dict[str, Any]:
    """Parse ``KEY=VALUE`` strings; values are read as JSON when they parse (numbers, lists), else strings.

    Examples:
        >>> parse_options(["gamma=2", "alpha=0.25", "reduction=mean", "hidden=[64,32]"])
        {'gamma': 2, 'alpha': 0.25, 'reduction': 'mean', 'hidden': [64, 32]}
    """
    import json

    from .errors import ConfigError

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"Expected {what} as KEY=VALUE; got {item!r}.",
                fix=f"write e.g. {what} gamma=2.",
                code="bad-option",
            )
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip().replace("-", "_")] = value
    return out


# ---------------------------------------------------------------------------- commands
def cmd_train(args: argparse.Namespace) -> int:
    """``logitlab train``: load, fit, evaluate on the test split, write the run directory, print decisions."""
    from .run import train_run

    params = {
        "model": args.model,
        "task": args.task,
        "loss": args.loss,
        "loss_options": parse_options(args.loss_options) or None,
        "imbalance": args.imbalance,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "model_options": parse_options(args.model_options, "--model-option") or None,
        "precision": args.precision,
        "threshold_objective": args.threshold_objective,
        "seed": args.seed,
        "device": args.device,
        "verbose": not args.quiet,
    }
    load = {
        "target": args.target,
        "label_sep": args.label_sep,
        "val_size": args.val_size,
        "test_size": args.test_size,
    }
    out = args.out or os.path.join("runs", _run_name(args.data))
    result = train_run(args.data, out, params=params, load=load, echo=_echo)
    if result is not None:
        _echo(f"run directory: {result['run_dir']}  (report: {result['report']})")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """``logitlab demo``: the three built-in tasks, a summary table and the report paths."""
    from .run import DEMOS, train_run

    rows = []
    for name, spec, params in DEMOS:
        params = dict(params, device=args.device, verbose=False)
        if args.epochs is not None:
            params["epochs"] = args.epochs
        _echo(f"\n== {name}: {spec} ==")
        result = train_run(spec, os.path.join(args.out, name), params=params, load={}, echo=_echo)
        if result is not None:
            rows.append(result)
    if rows:
        _summary_table(rows)
        for row in rows:
            _echo(f"report: {row['report']}")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``logitlab evaluate RUN DATA``: metrics of a saved run on DATA (its test split, or all rows)."""
    import json

    from .run import evaluate_run

    metrics = evaluate_run(args.run, args.data, split=args.split)
    if args.json:
        print(json.dumps(metrics, indent=2, default=float))
    else:
        _metrics_table(metrics, title=f"{args.run} on {args.data} ({args.split})")
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    """``logitlab predict RUN DATA --out CSV``: probabilities and decisions per row, written atomically."""
    from .run import predict_run

    n, path = predict_run(args.run, args.data, args.out)
    _echo(f"wrote {n} rows to {path}")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """``logitlab doctor DATA``: dataset checks and an untrained model's first-batch check; exit 1 on errors."""
    import json

    reports = doctor_run(
        args.data,
        load={"target": args.target, "label_sep": args.label_sep},
        task=args.task,
        loss=args.loss,
        imbalance=args.imbalance,
        model=args.model,
    )
    if args.json:
        print(json.dumps({name: r.to_dict() for name, r in reports.items()}, indent=2, default=str))
    else:
        for name, report in reports.items():
            _echo(f"\n== {name} ==")
            print(report)
    return EXIT_OK if all(r.ok for r in reports.values()) else EXIT_FINDINGS


def cmd_plot_loss(args: argparse.Namespace) -> int:
    """``logitlab plot-loss``: the loss against the logit, for target 1 and target 0."""
    options = parse_options(args.loss_options)
    if args.gamma is not None:
        options["gamma"] = args.gamma
    path = plot_loss(args.loss, options, args.out, compare=args.compare or None, logit_range=args.range)
    _echo(f"wrote {path}")
    return EXIT_OK


def doctor_run(
    spec: str,
    *,
    load: dict[str, Any],
    task: str = "auto",
    loss: str = "auto",
    imbalance: str = "balanced",
    model: str = "mlp",
) -> dict[str, Any]:
    """Doctor reports for a data set: the labels (``diagnose_dataset``) and an untrained model's first batch."""
    import torch

    from .doctor import diagnose, diagnose_dataset
    from .estimator import Classifier
    from .losses import make_loss
    from .models import build_model
    from .run import _load

    bundle = _load(spec, load, task, 0)
    labels = torch.cat([s.y for s in (bundle.train, bundle.val, bundle.test) if len(s)])
    reports = {
        f"dataset {spec} ({len(labels)} rows)": diagnose_dataset(_named(labels, bundle), task=bundle.task)
    }
    clf = Classifier(task=bundle.task.value, loss=loss, imbalance=imbalance)
    clf._set_labels(bundle.label_encoder, tuple(bundle.input_shape), bundle.task_reason)
    weights = clf._imbalance_weights(bundle.train.y)
    options = (
        {}
        if weights is None
        else {("weight" if bundle.task.value == "multiclass" else "pos_weight"): weights}
    )
    loss_fn = make_loss(bundle.task, loss, **options)
    torch.manual_seed(0)
    net = build_model(model, input_shape=tuple(bundle.input_shape), n_outputs=bundle.n_outputs)
    x, y = bundle.train.materialize()[:256].float(), bundle.train.y[:256]
    net.train()
    logits = net(x)
    loss_fn(logits, y).backward()
    name = f"first batch of {len(y)}, untrained {model}, {type(loss_fn).__name__}"
    reports[name] = diagnose(logits, y, loss_fn, task=bundle.task, model=net, inputs=x)
    return reports


def _named(labels: Any, bundle: Any) -> Any:
    """Labels with their names, so the doctor's findings name the labels/classes rather than indices."""
    import numpy as np
    import pandas as pd

    if bundle.task.value == "multilabel":
        return pd.DataFrame(labels.numpy().astype(int), columns=[str(n) for n in bundle.label_names])
    classes = np.asarray([str(c) for c in bundle.label_encoder.classes], dtype=object)
    return classes[labels.numpy().reshape(len(labels), -1)[:, 0].round().astype(int)]


def plot_loss(
    name: str, options: dict[str, Any], out: str, *, compare: str | None = "bce", logit_range: float = 6.0
) -> str:
    """Draw a sigmoid-family loss against the logit for target 1 and target 0 (and ``compare`` dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from .losses import make_loss

    z = torch.linspace(-logit_range, logit_range, 401)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    curves = [(name, options, "-")] + ([(compare, {}, "--")] if compare and compare != name else [])
    for loss_name, opts, style in curves:
        loss_fn = make_loss("binary", loss_name, **{**opts, "reduction": "none"})
        for target, color in ((1.0, "tab:blue"), (0.0, "tab:red")):
            with torch.no_grad():
                values = loss_fn(z, torch.full_like(z, target))
            label = f"{loss_name}{' ' + str(opts) if opts else ''}, target {int(target)}"
            ax.plot(z.numpy(), values.numpy(), style, color=color, label=label)
    ax.set_xlabel("logit z")
    ax.set_ylabel("loss per element")
    ax.set_title(f"{name} loss vs logit")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = f"{out}.tmp.png"
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, out)
    return out


def _run_name(spec: str) -> str:
    import re

    base = spec.split(":", 1)[1] if spec.startswith("builtin:") else os.path.basename(os.path.normpath(spec))
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", os.path.splitext(base)[0]) or "run"


def _echo(text: str) -> None:
    print(text, flush=True)


def _summary_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="logitlab demo")
    for col in ("data", "task", "loss", "weights", "test metrics", "time", "report"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["data"], r["task"], r["loss"], r["weights"], r["headline"], f"{r['seconds']:.1f} s", r["report"]
        )
    Console(width=160).print(table)


def _metrics_table(metrics: dict[str, Any], *, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    _echo(title)
    table = Table()
    table.add_column("metric")
    table.add_column("value")
    for key, value in metrics.items():
        shown = (
            f"{value:.4f}"
            if isinstance(value, float)
            else ", ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in value)
            if isinstance(value, list)
            else str(value)
        )
        table.add_row(key, shown)
    Console(width=160).print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 doctor found errors, 2 a logitlab error)."""
    args = build_parser().parse_args(argv)
    return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    from .errors import LogitlabError

    handlers = {
        "demo": cmd_demo,
        "train": cmd_train,
        "evaluate": cmd_evaluate,
        "predict": cmd_predict,
        "doctor": cmd_doctor,
        "plot-loss": cmd_plot_loss,
    }
    try:
        return int(handlers[args.command](args))
    except LogitlabError as exc:
        if args.debug:
            raise
        kind = type(exc).__name__
        print(f"logitlab {args.command}: {kind}: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"Fix: {exc.fix}", file=sys.stderr)
        print("(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
