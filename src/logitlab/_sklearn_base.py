"""scikit-learn's estimator protocol without importing scikit-learn.

``import sklearn`` costs about as much as ``import torch`` (``sklearn.base`` pulls in ``scipy.stats``), and a
command that only loads a saved run to predict never needs it. :class:`EstimatorBase` implements what
``BaseEstimator`` + ``ClassifierMixin`` give a classifier: ``get_params`` / ``set_params`` (nested
``a__b`` keys included, so ``sklearn.base.clone``, ``GridSearchCV`` and ``Pipeline`` work), a repr of the
changed parameters, and ``__sklearn_tags__`` (scikit-learn is imported there, only by scikit-learn's own
callers). :func:`check_fitted` raises scikit-learn's ``NotFittedError``, importing it only to raise it;
:func:`clone` is ``sklearn.base.clone`` for these estimators (``model="auto"`` clones its candidates).
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

__all__ = ["EstimatorBase", "check_fitted", "clone"]


def clone(estimator: EstimatorBase) -> Any:
    """An unfitted copy with the same parameters, as ``sklearn.base.clone`` makes it (without importing it).

    Parameters are copied as scikit-learn copies them: dicts, lists, tuples and sets element by element,
    nested estimators cloned, anything else deep-copied.
    """
    params = estimator.get_params(deep=False)
    return type(estimator)(**{key: _clone_param(value) for key, value in params.items()})


def _clone_param(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clone_param(v) for k, v in value.items()}
    if type(value) in (list, tuple, set, frozenset):
        return type(value)(_clone_param(v) for v in value)
    if isinstance(value, EstimatorBase):
        return clone(value)
    if hasattr(value, "get_params") and not isinstance(value, type):  # another library's estimator
        from sklearn.base import clone as sklearn_clone

        return sklearn_clone(value)
    return copy.deepcopy(value)


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise ``sklearn.exceptions.NotFittedError`` (a ``ValueError`` and ``AttributeError``) if unfitted."""
    if not hasattr(estimator, attribute):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate "
            "arguments before using this estimator."
        )


class EstimatorBase:
    """``get_params``, ``set_params``, ``__repr__`` and classifier tags, as scikit-learn defines them."""

    _estimator_type = "classifier"

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            raise RuntimeError(f"{cls.__name__}.__init__ must not take *args (scikit-learn's convention).")
        return sorted(p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters (with ``deep``, nested estimators' as ``name__param`` too)."""
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> EstimatorBase:
        """Set parameters (``name`` or ``name__param`` for a nested estimator); returns ``self``."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self}. Valid parameters are: "
                    f"{self._get_param_names()!r}."
                )
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self"
        }
        changed = []
        for key in self._get_param_names():
            value = getattr(self, key, None)
            default = defaults.get(key, inspect.Parameter.empty)
            if value is not default and repr(value) != repr(default):
                changed.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags for a classifier (what ``BaseEstimator`` + ``ClassifierMixin`` return)."""
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            transformer_tags=None,
            regressor_tags=None,
            classifier_tags=ClassifierTags(),
        )
