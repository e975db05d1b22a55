"""logitlab's doctor and losses inside the loops people already use.

* :mod:`logitlab.integrations.lightning`: ``HealthMonitorCallback``, a ``lightning.pytorch.Callback``
  (extra ``logitlab[lightning]``);
* :mod:`logitlab.integrations.transformers`: ``make_compute_loss`` for ``Trainer(compute_loss_func=...)``,
  ``HealthMonitorCallback`` (a ``TrainerCallback``) and ``tune_from_predictions`` (extra ``logitlab[hf]``).

Importing this package imports neither framework; each submodule imports its own, and says which extra to
install when it is missing.
"""

from __future__ import annotations

__all__: list[str] = []
