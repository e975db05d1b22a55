"""Multi-label text tags with the Hugging Face Trainer: logitlab's loss, doctor and thresholds, no download.

The model is a tiny BERT built from a config (hidden size 32, 2 layers, random weights); the "tokenizer" is a
hand-made vocabulary. Each synthetic sentence mixes filler words with words of three topics; a sentence is
tagged with every topic it mentions (the "number" topic is rare). logitlab supplies:

* `make_compute_loss("multilabel", pos_weight=...)`: the `compute_loss_func` for `Trainer`, with the labels
  checked by `prepare_targets` (a shape mistake is a `TargetError` with its fix);
* `HealthMonitorCallback`: logitlab's training doctor as a `TrainerCallback` (fed by the loss);
* `tune_from_predictions`: one threshold per tag from `Trainer.predict` on the validation split.

Run: pip install "logitlab[hf]"; python examples/hf_multilabel.py   (about 30 s on 2 CPU cores)
"""

from __future__ import annotations

import tempfile
import warnings

import numpy as np
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
from transformers.utils import logging as hf_logging

import logitlab as ll
from logitlab.integrations.transformers import HealthMonitorCallback, make_compute_loss, tune_from_predictions

TOPICS = {
    "animal": ["cat", "dog", "bird", "horse"],
    "color": ["red", "blue", "green", "yellow"],
    "number": ["one", "two", "three", "four"],
}
RATES = {"animal": 0.5, "color": 0.4, "number": 0.15}  # how often a sentence mentions each topic
FILLER = ["the", "a", "is", "on", "and", "of", "to", "in", "with", "it", "was", "very"]
VOCAB = ["[PAD]", "[CLS]", *FILLER, *(w for words in TOPICS.values() for w in words)]
LENGTH = 12


def make_sentences(n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """``n`` sentences of filler with the words of some topics mixed in, and their 0/1 tags ``[n, 3]``."""
    tags = np.stack([rng.random(n) < RATES[t] for t in TOPICS], axis=1).astype(np.float32)
    sentences = []
    for row in tags:
        words = list(rng.choice(FILLER, size=LENGTH - 1 - len(TOPICS)))  # room for [CLS] and a word per topic
        for on, topic in zip(row, TOPICS):
            if on:
                words.insert(int(rng.integers(0, len(words))), str(rng.choice(TOPICS[topic])))
        sentences.append(" ".join(words))
    return sentences, tags


def encode(sentences: list[str]) -> torch.Tensor:
    """Whitespace tokens -> ids of the hand-made vocabulary, ``[CLS]`` first, padded to ``LENGTH``."""
    index = {w: i for i, w in enumerate(VOCAB)}
    ids = [[1, *(index[w] for w in s.split())][:LENGTH] for s in sentences]
    return torch.tensor([row + [0] * (LENGTH - len(row)) for row in ids])


class Tagged(torch.utils.data.Dataset):
    def __init__(self, sentences: list[str], tags: np.ndarray) -> None:
        self.ids, self.tags = encode(sentences), torch.from_numpy(tags)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids = self.ids[i]
        return {"input_ids": ids, "attention_mask": (ids != 0).long(), "labels": self.tags[i]}


def main() -> None:
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", category=UserWarning)
    rng = np.random.default_rng(0)
    train, val, test = (Tagged(*make_sentences(n, rng)) for n in (1200, 300, 300))
    weights = ll.pos_weight(train.tags)
    print("pos_weight per tag:", dict(zip(TOPICS, [round(w, 2) for w in weights.tolist()])))

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=LENGTH, num_labels=len(TOPICS),
    )  # fmt: skip
    model = BertForSequenceClassification(config)
    monitor = HealthMonitorCallback(log_every=10)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, num_train_epochs=15, per_device_train_batch_size=32, learning_rate=3e-3,
            use_cpu=True, report_to=[], save_strategy="no", logging_strategy="no", disable_tqdm=True, seed=0,
        )  # fmt: skip
        loss = make_compute_loss("multilabel", pos_weight=weights, monitor=monitor)
        trainer = Trainer(model, args, train_dataset=train, compute_loss_func=loss, callbacks=[monitor])
        trainer.train()
        print(monitor.report())
        thresholds = tune_from_predictions(trainer.predict(val), "multilabel")
        test_logits = torch.from_numpy(trainer.predict(test).predictions)
    for tag, value in zip(TOPICS, thresholds.values):
        print(f"  {tag:>6}: threshold {value:.2f}")
    for title, chosen in (("0.5 thresholds", None), ("tuned thresholds", thresholds)):
        metrics = ll.compute_metrics(test_logits, test.tags, task="multilabel", thresholds=chosen)
        print(
            f"test, {title}: macro F1 {metrics['f1_macro']:.3f}, subset accuracy {metrics['subset_accuracy']:.3f}"
        )


if __name__ == "__main__":
    main()
