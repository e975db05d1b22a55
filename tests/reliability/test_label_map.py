"""``label_map`` / ``--label-map``: spellings of one label mapped to one value before encoding (issue 24).

``train`` and ``doctor`` warn of labels that look like one value spelled differently and print a map that
merges them; these tests paste that map back and compare the classes and their counts with pandas'
``value_counts`` of the column mapped by hand.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from logitlab.data import LabelEncoder, encode_labels
from logitlab.errors import ConfigError, LogitlabWarning

# labels as a table would hold them, and how many values they spell
SPELLINGS: dict[str, tuple[list[str], list[int], int]] = {
    "0-0.0-False": (["0", "0.0", "False", "1", "1.0", "True"], [50, 3, 2, 40, 4, 1], 2),
    "Yes-yes-YES": (["no", "No", "yes", "Yes", "YES"], [30, 5, 28, 6, 1], 2),
    "full-width": (["yes", "\uff39\uff45\uff53", "no", "maybe"], [20, 3, 25, 10], 3),
}


def _suggested(labels: list[Any]) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LabelEncoder.fit(labels)
    messages = [str(w.message) for w in caught if "spelled differently" in str(w.message)]
    assert len(messages) == 1, messages
    found = re.search(r"label_map=('[^']*')", messages[0])
    assert found, messages[0]
    return str(found.group(1)[1:-1])


@pytest.mark.parametrize("case", list(SPELLINGS))
def test_the_warnings_map_gives_one_class_per_value_with_the_counts_summed(case: str) -> None:
    uniq, counts, n_values = SPELLINGS[case]
    labels = [u for u, c in zip(uniq, counts) for _ in range(c)]
    text = _suggested(labels)
    pairs = dict(part.split("=", 1) for part in text.split(","))  # the --label-map syntax, read by hand
    expected = pd.Series(labels).map(lambda v: pairs.get(v, v)).value_counts()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LogitlabWarning)  # mapped: no spelling warning is left
        warnings.filterwarnings("ignore", "the positive class", LogitlabWarning)
        y, enc = encode_labels(labels, label_map=text)
    assert len(enc.classes) == n_values == len(expected)
    if enc.task.value == "binary":
        got = {enc.classes[1]: int(y.sum()), enc.classes[0]: int(len(y) - y.sum())}
    else:
        got = {c: int((y == i).sum()) for i, c in enumerate(enc.classes)}
    assert got == {str(k): int(v) for k, v in expected.items()}


def test_each_label_of_a_label_list_is_mapped() -> None:
    mapping = {"Cat": "cat", "CAT": "cat"}
    for labels in (
        ["Cat|dog", "cat", "dog|CAT", "bird"],
        [["Cat", "dog"], ["cat"], ["dog", "CAT"], ["bird"]],
    ):
        y, enc = encode_labels(labels, label_map=mapping)
        assert enc.task.value == "multilabel" and enc.classes == ["bird", "cat", "dog"]
        assert y.tolist() == [[0, 1, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0]]
        back = LabelEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
        assert back.transform(["CAT|bird"]).tolist() == [[1, 1, 0]]  # the saved map applies at transform


def test_classifier_label_map_is_saved_and_predict_writes_the_mapped_names(tmp_path: Path) -> None:
    from logitlab import Classifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    y = np.where(x[:, 0] > 0, "yes", "no").astype(object)
    y[:10] = np.where(x[:10, 0] > 0, "Yes", "NO")
    clf = Classifier(label_map={"Yes": "yes", "NO": "no"}, epochs=2, cv=1, device="cpu", verbose=False)
    clf.fit(x, y)
    assert list(clf.classes_) == ["no", "yes"]
    clf.save(tmp_path / "m")
    loaded = Classifier.load(tmp_path / "m")
    assert set(loaded.predict(x)) <= {"no", "yes"}
    mapped = np.where(np.isin(y, ["Yes", "yes"]), "yes", "no")
    assert loaded.score(x, y) == pytest.approx(float(np.mean(loaded.predict(x) == mapped)))


@pytest.mark.parametrize("bad", [{}, {"": "x"}, {"a": None}, {"a": [1]}, {"a": float("inf")}, 5, "a"])
def test_a_bad_map_is_a_config_error_naming_label_map(bad: Any) -> None:
    from logitlab import Classifier

    with pytest.raises(ConfigError) as info:
        Classifier(label_map=bad, epochs=1).fit(np.zeros((6, 1)), ["a", "b"] * 3)
    assert info.value.param == "label_map"


def _mixed_csv(path: Path) -> Path:
    rng = np.random.default_rng(1)
    x = rng.normal(size=90)
    labels = np.where(x > 0, "yes", "no").astype(object)
    labels[::7] = np.where(x[::7] > 0, "Yes", "NO")
    pd.DataFrame({"a": x, "b": rng.normal(size=90), "target": labels}).to_csv(path, index=False)
    return path


def test_cli_train_with_the_map_trains_a_binary_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from logitlab.cli import main

    data = _mixed_csv(tmp_path / "d.csv")
    assert main(["doctor", str(data)]) == 0
    text = re.search(r"--label-map '([^']*)'", capsys.readouterr().err)
    assert text and set(text.group(1).split(",")) == {"NO=no", "Yes=yes"}
    argv = ["train", str(data), "--label-map", text.group(1), "--epochs", "1", "--cv", "1"]
    assert main([*argv, "--device", "cpu", "--out", str(tmp_path / "run")]) == 0
    meta = json.loads((tmp_path / "run" / "model.json").read_text())
    assert meta["task"] == "binary" and sorted(meta["classes"]) == ["no", "yes"]
    assert "spelled differently" not in capsys.readouterr().err


BAD_CLI = ["", "a", "=x", "{", '{"a": [1]}', '{"a": null}', "zz=1", "[1]"]


@pytest.mark.parametrize("bad", BAD_CLI)
def test_cli_bad_maps_exit_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    from logitlab.cli import main

    data = _mixed_csv(tmp_path / "d.csv")
    for command in (["train", str(data), "--out", str(tmp_path / "run")], ["doctor", str(data)]):
        capsys.readouterr()
        assert main([*command, "--label-map", bad]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and "--label-map" in err and "ConfigError" in err, err
        assert err.count(f"logitlab {command[0]}: ") == 1, err


def test_a_streamed_table_is_mapped_too(tmp_path: Path) -> None:
    import torch

    from logitlab.data import load_dataset

    data = _mixed_csv(tmp_path / "d.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogitlabWarning)
        bundle = load_dataset(data, streaming=True, label_map="Yes=yes,NO=no")
    assert bundle.task.value == "binary" and bundle.label_encoder.classes == ["no", "yes"]
    y = torch.cat([part.y for part in (bundle.train, bundle.val, bundle.test) if len(part)])
    expected = pd.read_csv(data)["target"].map({"Yes": "yes", "NO": "no"}).fillna(pd.read_csv(data)["target"])
    assert (len(y), int(y.sum())) == (len(expected), int(expected.value_counts()["yes"]))


def _digit_parity() -> dict[str, str]:
    return {str(d): ("even" if d % 2 == 0 else "odd") for d in range(10)}


@pytest.mark.parametrize(
    ("name", "label_map", "raw_labels"),
    [
        ("breast_cancer", "malignant=bad,benign=good", lambda d: d.target_names[d.target]),
        ("digits", _digit_parity(), lambda d: d.target.astype(str)),
    ],
    ids=["breast_cancer-renamed", "digits-merged"],
)
def test_builtin_data_sets_are_mapped_too(name: str, label_map: Any, raw_labels: Any) -> None:
    """``builtin:`` data sets apply the map (it was silently ignored): classes and counts as mapped by hand."""
    import sklearn.datasets
    import torch

    from logitlab.data import load_dataset

    raw = getattr(sklearn.datasets, f"load_{name}")()
    pairs = label_map if isinstance(label_map, dict) else dict(p.split("=") for p in label_map.split(","))
    expected = pd.Series(raw_labels(raw)).map(pairs).value_counts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogitlabWarning)
        bundle = load_dataset(f"builtin:{name}", label_map=label_map)
    enc = bundle.label_encoder
    assert enc.task.value == "binary" and sorted(enc.classes) == sorted(expected.index)
    assert enc.label_map == {str(k): v for k, v in pairs.items()}  # saved with the model
    y = torch.cat([part.y for part in (bundle.train, bundle.val, bundle.test)]).reshape(-1)
    assert int(y.sum()) == int(expected[enc.classes[1]]) and len(y) == int(expected.sum())


def test_a_map_of_no_builtin_label_is_refused_naming_label_map() -> None:
    from logitlab.data import load_dataset

    for name in ("breast_cancer", "digits-attributes"):  # the attributes' labels are their 0/1 cells
        with pytest.raises(ConfigError, match="none of its keys") as info:
            load_dataset(f"builtin:{name}", label_map="even=x")
        assert info.value.param == "label_map"


@pytest.mark.slow
def test_cli_builtin_label_map_is_trained_predicted_and_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.datasets import load_breast_cancer

    from logitlab.cli import main

    run, preds = tmp_path / "run", tmp_path / "p.csv"
    argv = ["train", "builtin:breast_cancer", "--label-map", "malignant=bad,benign=good", "--epochs", "1"]
    assert main([*argv, "--cv", "1", "--device", "cpu", "--out", str(run)]) == 0
    assert sorted(json.loads((run / "model.json").read_text())["classes"]) == ["bad", "good"]
    assert main(["predict", str(run), "builtin:breast_cancer", "--out", str(preds)]) == 0
    predicted = pd.read_csv(preds)
    assert len(predicted) == 569 and set(predicted["prediction"]) <= {"bad", "good"}
    capsys.readouterr()
    assert main(["evaluate", str(run), "builtin:breast_cancer", "--split", "all"]) == 0
    # the 569 labels were read through the saved map: none is unknown to the model
    truth = np.where(load_breast_cancer().target == 0, "bad", "good")  # sklearn: 0 = malignant
    out = capsys.readouterr()
    assert "569" in out.out + out.err and "unknown" not in (out.out + out.err).lower()
    accuracy = float(np.mean(predicted["prediction"].to_numpy() == truth))
    assert accuracy > 0.8
