"""Write a small demo logdir for `make demo`: several runs with every kind of summary board shows.

    python examples/write_demo_logs.py --logdir logs

- `softmax/lr_*`: a softmax classifier trained with numpy on digit-like images (two learning rates,
  compared as runs): loss and accuracy scalars, weight/logit histograms, sample input images, text notes,
  per-class precision-recall curves, the accuracy as a tone (audio); each run is also a session of a
  learning-rate sweep (hparams); a custom scalars layout (loss and accuracy on one chart, the batch's
  per-example loss as a median with a 10th-90th percentile band); lr_0.5 also has an embedding of 500
  inputs (pixels, class and prediction, the images as a sprite) for the Projector.
- `xor/xor_logs`, `xor/xor_logs_r0_01`: the "TensorBoard for XOR" lab on our TF1-style engine,
  with its graph (name scopes layer1, layer2, cost, train), when the engine is available.
Runs already present are rewritten, so the demo is the same each time.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from summaries.summary import hparams  # noqa: E402
from summaries.summary.custom_scalars import layout_proto  # noqa: E402
from summaries.summary.writer import SummaryWriter  # noqa: E402


def digit_like_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 images of 10 classes: each class a fixed stroke pattern, jittered and noised."""
    yy, xx = np.mgrid[0:28, 0:28] / 27.0
    templates = []
    for k in range(10):
        angle = k * np.pi / 10
        ring = np.exp(-((np.hypot(xx - 0.5, yy - 0.5) - 0.18 - 0.02 * k) ** 2) / 0.004)
        bar = np.exp(-(((xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle)) ** 2) / 0.003)
        templates.append(np.clip(ring * (k % 2) + bar * (k % 3 != 0) + ring * bar, 0, 1))
    labels = rng.integers(0, 10, n)
    shifts = rng.integers(-2, 3, (n, 2))
    images = np.stack([np.roll(templates[c], tuple(s), axis=(0, 1)) for c, s in zip(labels, shifts)])
    images = np.clip(images + rng.normal(0, 0.15, images.shape), 0, 1).astype(np.float32)
    return images, labels


def softmax_run(logdir: Path, lr: float, steps: int = 300) -> None:
    rng = np.random.default_rng(0)
    images, labels = digit_like_images(2000, rng)
    x = images.reshape(len(images), -1)
    w = rng.normal(0, 0.01, (784, 10)).astype(np.float32)
    b = np.zeros(10, np.float32)
    with SummaryWriter(str(logdir / f"lr_{lr}")) as writer:
        writer.add_text("notes", f"Softmax regression on digit-like data, learning rate **{lr}**, batch 100.", 0)
        for step in range(steps):
            batch = rng.integers(0, len(x), 100)
            logits = x[batch] @ w + b
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            onehot = np.eye(10, dtype=np.float32)[labels[batch]]
            example_loss = -np.sum(onehot * np.log(p + 1e-9), 1)
            loss = float(np.mean(example_loss))
            grad = (p - onehot) / len(batch)
            w -= lr * x[batch].T @ grad
            b -= lr * grad.sum(0)
            if step % 5 == 0:
                accuracy = float(np.mean(np.argmax(x @ w + b, 1) == labels))
                writer.add_scalar("train/loss", loss, step)
                writer.add_scalar("train/accuracy", accuracy, step)
                for name, q in (("median", 50), ("p10", 10), ("p90", 90)):  # the Custom Scalars margin chart
                    writer.add_scalar(f"loss_spread/{name}", float(np.percentile(example_loss, q)), step)
            if step % 10 == 0:
                writer.add_histogram("weights/w", w, step)
                writer.add_histogram("weights/b", b, step)
                writer.add_histogram("activations/logits", logits, step)
            if step % 50 == 0:
                writer.add_images("input/samples", images[batch[:3], None], step)
            if step % 100 == 0 or step == steps - 1:
                scores = x @ w + b
                probability = np.exp(scores - scores.max(1, keepdims=True))
                probability /= probability.sum(1, keepdims=True)
                for digit in (0, 7):  # one-vs-rest precision/recall of two classes (the PR Curves tab)
                    writer.add_pr_curve(f"pr/class_{digit}", labels == digit, probability[:, digit], step)
            if step % 100 == 0:  # the accuracy as a pitch: 220 Hz at 0, 880 Hz at 1 (the Audio tab)
                accuracy = float(np.mean(np.argmax(x @ w + b, 1) == labels))
                tone = 0.3 * np.sin(2 * np.pi * (220 + 660 * accuracy) * np.arange(4000) / 8000)
                writer.add_audio("sonified/accuracy", tone, step, sample_rate=8000)
        writer.add_custom_scalars(demo_layout())  # each run writes it; the Custom Scalars tab merges them
        if lr == 0.5:  # the Projector tab: 500 inputs' pixels (rounded: a smaller tensors.tsv), class and prediction
            shown = slice(0, 500)
            predicted = np.argmax(x[shown] @ w + b, 1)
            writer.add_embedding(np.round(x[shown].astype(np.float64), 2), tag="inputs", global_step=steps - 1,
                                 metadata=[[str(c), str(p)] for c, p in zip(labels[shown], predicted)],
                                 metadata_header=["class", "predicted"], label_img=images[shown, None])
        # the run as one session of a learning-rate sweep (the HParams tab), its metrics the run's own scalars
        for summary in hparams.hparams_summaries({"lr": lr, "batch": 100, "optimizer": "sgd"},
                                                 {"train/loss": loss, "train/accuracy": accuracy}):
            writer.file_writer.add_summary(summary)


def demo_layout():
    """The Custom Scalars tab: loss and accuracy on one chart, the per-example loss band; a closed extra."""
    layout = layout_proto({
        "Training": {"loss and accuracy": ["Multiline", ["train/loss$", "train/accuracy$"]],
                     "per-example loss (median, 10th-90th percentile)":
                         ["Margin", ["loss_spread/median", "loss_spread/p10", "loss_spread/p90"]]},
        "Loss percentiles": {"all": ["Multiline", ["loss_spread/"]]}})
    layout.category[1].closed = True  # starts collapsed
    return layout


def xor_runs(logdir: Path) -> bool:
    """The XOR TensorBoard lab on our engine (graph + merged summaries); False when the engine is missing."""
    lab = Path(__file__).resolve().parent / "lab_xor_tensorboard.py"
    if not lab.exists():
        return False
    with tempfile.TemporaryDirectory() as work:  # the lab writes ./logs/xor_logs*, as in TF1
        result = subprocess.run([sys.executable, str(lab)], cwd=work, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"XOR lab failed:\n{result.stderr[-2000:]}", file=sys.stderr)
            return False
        for run in (Path(work) / "logs").iterdir():
            shutil.move(str(run), str(logdir / run.name))
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="logs")
    args = parser.parse_args()
    root = Path(args.logdir)
    for sub in ("softmax", "xor"):
        shutil.rmtree(root / sub, ignore_errors=True)
    for lr in (0.5, 0.05):
        softmax_run(root / "softmax", lr)
    (root / "xor").mkdir(parents=True, exist_ok=True)
    xor = xor_runs(root / "xor")
    print(f"wrote demo runs to {root}/softmax" + (f" and {root}/xor" if xor else ""))


if __name__ == "__main__":
    main()
