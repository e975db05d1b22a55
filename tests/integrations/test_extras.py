"""A missing extra is a logitlab error that names it; the integrations import their framework only when used."""

from __future__ import annotations

import importlib
import sys

import pytest

from logitlab.errors import ConfigError, MissingExtraError
from logitlab.extras import EXTRAS, require_extra


@pytest.mark.parametrize(
    ("module", "package", "extra"),
    [("lightning", "lightning", "lightning"), ("transformers", "transformers", "hf")],
)
def test_integration_without_its_package_names_the_extra(monkeypatch, module, package, extra):
    monkeypatch.setitem(sys.modules, package, None)  # what an environment without the package looks like
    monkeypatch.delitem(sys.modules, f"logitlab.integrations.{module}", raising=False)
    with pytest.raises(MissingExtraError) as info:
        importlib.import_module(f"logitlab.integrations.{module}")
    assert isinstance(info.value, ImportError) and info.value.code == "missing-extra"
    assert info.value.fix == f'pip install "logitlab[{extra}]"'
    assert repr(package) in info.value.message


def test_every_extra_is_declared_in_pyproject():
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    declared = project["optional-dependencies"]
    assert set(EXTRAS) <= set(declared)
    # CI (make setup installs .[dev,bench]) installs every extra the integration and export tests import
    assert "logitlab[lightning,hf,onnx]" in declared["dev"]


def test_unknown_extra_is_a_config_error():
    with pytest.raises(ConfigError, match="one of hf, lightning") as info:
        require_extra("onnxx")
    assert info.value.code == "unknown-extra"
