"""The bad-input corpus: every malformed input ends in a logitlab error that names the problem and the fix."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from logitlab.errors import LogitlabError

from ._corpus import CASES, Case


def test_corpus_is_large_and_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_ends_in_logitlab_error(case: Case, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # repairs and notes may warn before the error
        with pytest.raises(LogitlabError) as info:
            case.call(tmp_path)
    err = info.value
    assert isinstance(err, case.error), f"{type(err).__name__}: {err}"
    assert err.fix, f"no fix in: {err}"
    assert err.message.strip()
    if case.match:
        import re

        assert re.search(case.match, err.message, flags=re.IGNORECASE), err.message
    assert "Traceback" not in str(err)
