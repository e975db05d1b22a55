"""``logitlab doctor`` checks a shuffled training batch, as the trainer draws them, not the file's first rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from logitlab import cli


def test_a_file_sorted_by_its_label_still_gives_a_batch_with_both_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = np.where(np.arange(n) < 450, "no", "yes")  # sorted: the first 450 rows are all "no"
    frame.to_csv(tmp_path / "sorted.csv", index=False)
    code = cli.main(["doctor", str(tmp_path / "sorted.csv"), "--target", "y", "--json"])
    reports = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    (batch_name,) = [k for k in reports if "shuffled batch of 256" in k]
    codes = [f["code"] for f in reports[batch_name]["findings"]]
    # in file order the first 256 training rows hold no "yes": the old check reported the label absent
    assert "label-absent-in-batch" not in codes
