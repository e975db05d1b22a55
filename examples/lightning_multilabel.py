"""Multi-label attributes with PyTorch Lightning: logitlab's loss, targets, weights, doctor and thresholds.

The data is `builtin:digits-attributes` (scikit-learn's 8x8 digits, each with four yes/no labels such as
"even" and "prime"; ships offline). The LightningModule uses:

* `ll.prepare_targets` to check the targets once, before training (float 0/1 shaped like the logits);
* `ll.pos_weight` for each label's imbalance and `ll.make_loss("multilabel", "bce", pos_weight=...)`;
* `HealthMonitorCallback`, logitlab's training doctor, which reads `loss`, `logits` and `targets` from what
  `training_step` returns;
* `ll.tune_thresholds` on the validation logits, one threshold per label, used on the test split.

Run: pip install "logitlab[lightning]"; python examples/lightning_multilabel.py   (about 20 s on 2 CPU cores)
"""

from __future__ import annotations

import logging

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import logitlab as ll
from logitlab.integrations.lightning import HealthMonitorCallback


class Attributes(L.LightningModule):
    """An MLP over the 64 pixels with one logit per attribute, trained with a logitlab loss."""

    def __init__(self, n_labels: int, pos_weight: torch.Tensor) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, n_labels))
        self.loss_fn = ll.make_loss("multilabel", "bce", pos_weight=pos_weight)  # a buffer: moves with .to()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        logits = self(x)
        loss = self.loss_fn(logits, y)
        return {"loss": loss, "logits": logits, "targets": y}  # the contract HealthMonitorCallback reads

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return torch.optim.AdamW(self.parameters(), lr=3e-3, weight_decay=1e-4)


def main() -> None:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no start-up banner
    bundle = ll.load_dataset("builtin:digits-attributes", seed=0)
    print(bundle.summary())
    names = bundle.label_names
    n_labels = len(names)
    outputs_shape = (len(bundle.train.y), n_labels)
    y_train = ll.prepare_targets(bundle.train.y, "multilabel", outputs=outputs_shape)  # raises with a fix
    weights = ll.pos_weight(y_train)
    print("pos_weight per label:", dict(zip(names, [round(w, 2) for w in weights.tolist()])))

    L.seed_everything(0, verbose=False)
    module, monitor = Attributes(n_labels, weights), HealthMonitorCallback(log_every=10)
    loader = DataLoader(TensorDataset(bundle.train.x, y_train), batch_size=64, shuffle=True)
    trainer = L.Trainer(
        max_epochs=15, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[monitor],
    )  # fmt: skip
    trainer.fit(module, loader)
    print(monitor.report())

    module.eval()
    with torch.no_grad():
        val_logits, test_logits = module(bundle.val.x), module(bundle.test.x)
    thresholds = ll.tune_thresholds(val_logits, bundle.val.y, task="multilabel")
    for label, value in zip(names, thresholds.values):
        print(f"  {label:>10}: threshold {value:.2f}")
    for title, chosen in (("0.5 thresholds", None), ("tuned thresholds", thresholds)):
        metrics = ll.compute_metrics(test_logits, bundle.test.y, task="multilabel", thresholds=chosen)
        print(
            f"test, {title}: macro F1 {metrics['f1_macro']:.3f}, subset accuracy {metrics['subset_accuracy']:.3f}"
        )


if __name__ == "__main__":
    main()
