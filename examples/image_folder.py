"""A cats-vs-dogs style folder of images labelled by file name (`cat.12.png`, `dog.7.png`).

The images are GENERATED here (no download): "cats" are bright discs, "dogs" bright squares, with
random position, size, colour and noise. logitlab reads the label from each file name, infers a binary
task, trains a small CNN, and we predict on a few new files with the saved model.

Run: python examples/image_folder.py   (about 30 s on 2 CPU cores)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import logitlab as ll

SIZE = 24


def draw(kind: str, rng: np.random.Generator) -> Image.Image:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    cy, cx = rng.integers(7, SIZE - 7, size=2)
    r = rng.integers(4, 7)
    mask = (
        (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
        if kind == "cat"
        else (abs(yy - cy) <= r - 1) & (abs(xx - cx) <= r - 1)
    )
    img = rng.normal(40, 20, size=(SIZE, SIZE, 3))
    img[mask] = rng.uniform(150, 255, size=3)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def make_folder(root: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        kind = "cat" if i % 2 == 0 else "dog"
        draw(kind, rng).save(root / f"{kind}.{i}.png")
    return root


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        train_dir = make_folder(Path(tmp) / "train", 400, seed=0)
        bundle = ll.load_dataset(str(train_dir), seed=0)
        print(bundle.summary())
        clf = ll.Classifier(model="cnn", epochs=12, lr=3e-3, device="cpu", random_state=0).fit(bundle)
        x_test, y_test = bundle.test, bundle.test.y.numpy().reshape(-1)
        accuracy = (clf.predict(x_test) == clf.classes_[y_test.astype(int)]).mean()
        print(f"task {clf.task_} ({clf.decisions_['task_reason']}); test accuracy {accuracy:.3f}")
        clf.save(Path(tmp) / "model")
        new_dir = make_folder(Path(tmp) / "new", 6, seed=1)
        loaded = ll.Classifier.load(Path(tmp) / "model")
        from logitlab.data import load_inputs

        inputs = load_inputs(str(new_dir), loaded.data_state_)
        labels, confidence = loaded.predict_with_confidence(inputs)
        for name, label, conf in zip(inputs.ids, labels, confidence):
            print(f"{Path(name).name:>12} -> {label} (confidence {conf:.2f})")


if __name__ == "__main__":
    main()
