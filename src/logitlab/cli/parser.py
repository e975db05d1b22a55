"""The ``logitlab`` argument parser: one sub-command per job, its choices and defaults the library's own.

Standard library and :mod:`logitlab.options` only, so ``logitlab --help`` answers without importing torch.
The argparse definitions of every command and flag are here, in one place.

Examples:
    >>> args = build_parser().parse_args(["train", "builtin:breast_cancer", "--epochs", "3"])
    >>> args.command, args.data, args.epochs, args.task, args.imbalance
    ('train', 'builtin:breast_cancer', 3, 'auto', 'auto')
"""

from __future__ import annotations

import argparse

from ..options import CLASSIFIER_DEFAULTS as DEFAULTS
from ..options import LOAD_DEFAULTS, OBJECTIVE_SPELLINGS, OPTIONS
from .text import cv_arg, epochs_arg, image_size, lr_arg, weight_decay_arg

__all__ = ["build_parser"]

_EPILOG = """examples:
  logitlab demo --out demo-runs
  logitlab train data.csv --target churn --out runs/churn
  logitlab train tags.csv --target tags --label-sep '|' --loss focal --option gamma=2 --out runs/tags
  logitlab evaluate runs/churn data.csv
  logitlab predict runs/churn new.csv --out predictions.csv
  logitlab export runs/churn --format onnx --out serving/churn
  logitlab doctor data.csv --target churn
  logitlab plot-loss --loss focal --option gamma=2 --out focal.png
  torchrun --nproc_per_node 2 -m logitlab train data.csv --target churn --out runs/ddp
"""


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the epilog's layout and shows each option's default, once.

    Nothing is added where the help text already says its default, or where there is none to show
    (``None``, an off switch, an empty list).
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        nothing = any(action.default is v for v in (None, False, argparse.SUPPRESS)) or action.default == []
        if "default" in text or nothing or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


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

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, formatter_class=_Formatter)

    demo = command("demo", "train on the built-in binary, multi-label and multi-class sets")
    demo.add_argument("--out", default="demo-runs", help="folder for the three run directories")
    demo.add_argument("--epochs", type=int, default=None, help="override each demo's number of epochs")
    _add_device(demo)

    train = command("train", "train a classifier and write a run directory")
    _add_data(train)
    _add_training(train)
    train.add_argument("--val-size", type=float, default=LOAD_DEFAULTS["val_size"], help="validation share")
    train.add_argument("--test-size", type=float, default=LOAD_DEFAULTS["test_size"], help="test share")
    train.add_argument("--streaming", action="store_true",
                       help="stream a table larger than memory: DATA may be a quoted glob or a folder of Parquet/CSV files")  # fmt: skip
    train.add_argument("--out", default=None, help="run directory (default: runs/<data name>)")
    train.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    train.add_argument("--resume", action="store_true",
                       help="continue the interrupted run in --out from its last checkpoint (same flags)")  # fmt: skip
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    _add_device(train)

    evaluate = command("evaluate", "metrics of a trained run on a data set")
    evaluate.add_argument("run", help="run directory written by `logitlab train`")
    evaluate.add_argument("data", help="CSV/Parquet file, image folder or builtin:NAME")
    evaluate.add_argument("--split", choices=("test", "all"), default="test",
                          help="test: the run's held-out test split of DATA (same seed); all: every row")  # fmt: skip
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    _add_dialect(evaluate)

    predict = command(
        "predict", "write probabilities and decisions for every row of DATA (labels not needed)"
    )
    predict.add_argument("run", help="run directory written by `logitlab train`")
    predict.add_argument("data", help="CSV/Parquet file, image folder or builtin:NAME")
    predict.add_argument("--out", required=True, help="CSV file to write (atomically)")
    _add_overwrite(predict)
    _add_dialect(predict)

    _add_export(
        command("export", "write a trained run's model as one ONNX graph and its JSON input contract")
    )

    doctor = command("doctor", "check a data set and an untrained model's first batch")
    _add_data(doctor)
    doctor.add_argument("--task", **OPTIONS["task"].cli(),
                        help="the task to check the data for; auto: inferred from the labels")  # fmt: skip
    doctor.add_argument("--loss", default=DEFAULTS["loss"],
                        help="the loss whose first batch is checked: auto (BCE / cross entropy by task), focal, ...")  # fmt: skip
    doctor.add_argument("--imbalance", **OPTIONS["imbalance"].cli(),
                        help="the weight strategy the loss is checked with, as `train --imbalance`")  # fmt: skip
    doctor.add_argument("--model", default=DEFAULTS["model"], help="auto: cnn for images, mlp for tables")
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")

    plot = command("plot-loss", "plot a loss and its gradient against the logit, for target 1 and target 0")
    plot.add_argument("--loss", default="bce", help="loss name")
    plot.add_argument("--gamma", type=float, default=None, help="focal gamma (shortcut for --option gamma=G)")
    plot.add_argument("--option", dest="loss_options", action="append", default=[], metavar="KEY=VALUE",
                      help="a loss option, e.g. gamma=2 (repeatable)")  # fmt: skip
    plot.add_argument(
        "--compare", default="bce", help="a second loss drawn dashed for reference ('' for none)"
    )
    plot.add_argument(
        "--range", type=float, default=None, help="logits from -R to R (default: the plot's, 8)"
    )
    plot.add_argument("--out", required=True, help="PNG file to write")
    _add_overwrite(plot)
    return parser


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV/Parquet file, image folder, CSV of image paths, or builtin:NAME")
    p.add_argument("--target", action="append", default=None, metavar="COL",
                   help="target column; repeat for several 0/1 columns (multi-label)")  # fmt: skip
    p.add_argument(
        "--label-sep", default=LOAD_DEFAULTS["label_sep"], help="separator of label lists in one column"
    )
    p.add_argument("--label-map", default=None, metavar="MAP",
                   help="label spellings mapped to one value before encoding: 'yes=1,Yes=1,no=0' or a JSON "
                   "object such as '{\"Yes\": \"yes\"}' (each label of a label list on its own)")  # fmt: skip
    p.add_argument("--positive", default=None, metavar="CLASS",
                   help="the positive class of a binary target (default: 1/True/yes-like, else the later "
                   "class in sorted order)")  # fmt: skip
    p.add_argument("--drop", action="append", default=None, metavar="COL",
                   help="a column that is not a feature (repeatable)")  # fmt: skip
    p.add_argument("--id-column", default=None, metavar="COL",
                   help="a column of row ids: not a feature; predictions carry it")  # fmt: skip
    p.add_argument("--missing-target", **OPTIONS["missing_target"].cli(),
                   help="rows without a label: leave them out (counted) or stop with an error")  # fmt: skip
    p.add_argument("--numeric-scaling", **OPTIONS["numeric_scaling"].cli(),
                   help="numeric table columns after imputation: robust (median/IQR, smooth clip), "
                   "standard (mean/std) or quantile (to a normal)")  # fmt: skip
    p.add_argument("--text", action="append", default=None, metavar="COL",
                   help="a column of free text (TF-IDF of word and character n-grams; repeatable); "
                   "'none' reads no column as text (default: detected, each noted)")  # fmt: skip
    p.add_argument("--image-size", type=image_size, default=None, metavar="N or HxW",
                   help="resize images (default: their size if all agree, else 128)")  # fmt: skip
    _add_dialect(p)


def _add_dialect(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sep", default=None, help="CSV separator (default: detected among , ; tab |)")
    p.add_argument("--encoding", default=None,
                   help="CSV text encoding (default: byte-order mark, else UTF-8, else Windows-1252)")  # fmt: skip


def _add_training(p: argparse.ArgumentParser) -> None:
    """The Classifier's parameters, with its defaults and option sets."""
    p.add_argument("--task", **OPTIONS["task"].cli(), help="auto: inferred from the labels")
    p.add_argument(
        "--loss", default=DEFAULTS["loss"], help="auto (BCE / cross entropy by task), focal, dice, asl, ..."
    )
    p.add_argument("--option", dest="loss_options", action="append", default=[], metavar="KEY=VALUE",
                   help="a loss option, e.g. gamma=2 (repeatable)")  # fmt: skip
    p.add_argument(
        "--imbalance",
        **OPTIONS["imbalance"].cli(),
        help="weight strategy; auto: balanced, or none for the sparse text model",
    )
    p.add_argument(
        "--model",
        default=DEFAULTS["model"],
        help="auto (tables: linear or mlp by validation log-loss; images: cnn), linear, mlp, cnn, resnet18, ...",
    )
    p.add_argument("--ensemble", type=int, default=DEFAULTS["ensemble"], metavar="K",
                   help="train K networks and average their logits (about K times the fit time)")  # fmt: skip
    p.add_argument("--cv", type=cv_arg, default=DEFAULTS["cv"], metavar="K|auto",
                   help="cross-fit K fold models (calibration and thresholds on their out-of-fold logits); "
                        "1: one validation split; auto: cross-fit small tables and rare classes")  # fmt: skip
    p.add_argument("--model-option", dest="model_options", action="append", default=[], metavar="KEY=VALUE",
                   help="a model option, e.g. dropout=0.2 (repeatable)")  # fmt: skip
    p.add_argument("--epochs", type=epochs_arg, default=DEFAULTS["epochs"], metavar="N|auto",
                   help="training epochs; auto: >= 2000 optimiser steps and 30 epochs, early stopping")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="batch size")
    p.add_argument("--lr", type=lr_arg, default=DEFAULTS["lr"], metavar="LR|auto",
                   help="peak learning rate; auto: 1e-3, or 5e-5 with a 6%% warmup for hf: models")  # fmt: skip
    p.add_argument("--weight-decay", type=weight_decay_arg, default=DEFAULTS["weight_decay"], metavar="WD|auto",
                   help="AdamW weight decay; auto: 1e-4, or 0.01 for the sparse text model")  # fmt: skip
    p.add_argument("--precision", **OPTIONS["precision"].cli(), help="training precision (also 32, 16, bf16-mixed, ...)")  # fmt: skip
    p.add_argument("--threshold-objective", default=DEFAULTS["threshold_objective"], metavar="OBJ",
                   help=f"what tuned thresholds maximise on validation: {', '.join(OBJECTIVE_SPELLINGS)}")  # fmt: skip
    p.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS["random_state"],
        help="split, initialisation and batch-order seed",
    )
    p.add_argument("--calibration", **OPTIONS["calibration"].cli(),
                   help="probability calibration fitted on validation (auto: Platt / temperature by task)")  # fmt: skip


def _add_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run directory written by `logitlab train`")
    p.add_argument("--format", **OPTIONS["format"].cli(), help="export format")
    p.add_argument("--out", required=True, help="folder for model.onnx and model.onnx.json")
    p.add_argument("--opset", type=int, **OPTIONS["opset"].cli(), help="ONNX opset")
    p.add_argument(
        "--input-dtype",
        **OPTIONS["input_dtype"].cli(),
        help="dtype of the graph's float inputs; float32 is cast to float64 inside the graph",
    )
    _add_overwrite(p)


def _add_overwrite(p: argparse.ArgumentParser) -> None:
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing file of that name (never an input or a run's file)")  # fmt: skip


def _add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", **OPTIONS["device"].cli(), help="where to train")


def _version() -> str:
    from .. import __version__

    return __version__
