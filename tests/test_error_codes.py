"""The registry of error codes (logitlab.error_codes) against the codes the source raises (read by AST)."""

import pathlib
import pickle
import re
import warnings

import pytest

from logitlab.doctor.findings import CODES as FINDINGS
from logitlab.error_codes import ERROR_CODE_GROUPS, ERROR_CODES, FINDING_CODES, is_registered
from logitlab.errors import ConfigError, DataError, LogitlabError, UnregisteredCodeWarning
from logitlab.train import TrainConfig

from ._error_code_sites import collect

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "errors.md"


@pytest.fixture(scope="module")
def raised():
    found, unresolved = collect()
    assert not unresolved, f"codes built from names the AST cannot follow: {unresolved}"
    return found


def test_every_raised_code_is_registered(raised):
    missing = {code: sites[0] for code, sites in raised.items() if not is_registered(code)}
    assert not missing, f"add these to logitlab/error_codes.py: {missing}"


def test_every_registered_code_is_raised(raised):
    unused = sorted(set(ERROR_CODES) - set(raised)) + sorted(FINDING_CODES - set(raised))
    assert not unused, f"registered but raised nowhere (remove them): {unused}"


def test_registry_is_one_table_without_repeats():
    entries = [code for group in ERROR_CODE_GROUPS.values() for code in group]
    assert len(entries) == len(set(entries)) == len(ERROR_CODES)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9_]+)*", c) for c in entries), "codes are kebab-case"
    assert all(m and "\n" not in m for m in ERROR_CODES.values())
    # a code shared with the doctor is registered once, as a finding (its meaning lives in doctor.findings)
    assert FINDING_CODES <= set(FINDINGS)
    assert not set(ERROR_CODES) & set(FINDINGS)


def test_the_collector_follows_built_codes(raised):
    # bad-{name} built in a loop of train/config.py and out-* passed positionally through workflows/outputs.py
    with pytest.raises(ConfigError) as info:
        TrainConfig(epochs=0)
    assert info.value.code == "bad-epochs" and "bad-epochs" in raised
    assert {"out-is-a-folder", "out-is-input", "float-labels-for-ce", "bad-label_smoothing"} <= set(raised)


def test_an_unregistered_code_is_flagged_and_a_registered_one_is_not():
    with pytest.warns(UnregisteredCodeWarning, match="'no-such-code'"):
        err = DataError("m", code="no-such-code")
    assert err.code == "no-such-code"  # the error itself is still made as asked
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        err = ConfigError("m", fix="f", code="unknown-weight-strategy")
        assert pickle.loads(pickle.dumps(err)).code == "unknown-weight-strategy"
        assert LogitlabError("m").code == "logitlab-error"


def test_docs_list_exactly_the_registered_codes():
    text = DOC.read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z0-9_-]+)` \|", text, flags=re.M)
    assert sorted(listed) == sorted(ERROR_CODES), (
        "regenerate: python -m logitlab.error_codes > docs/errors.md"
    )
    assert all(f"`{c}`" in text for c in FINDING_CODES)
