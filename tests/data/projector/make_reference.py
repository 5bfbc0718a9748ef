"""Writes the projector files tensorboardX 2.6.5's `add_embedding` makes for fixed inputs, one directory per case.

Run with a Python that has tensorboardX and Pillow (not the project venv):
    /work/peers_tb/bin/python tests/data/projector/make_reference.py
The inputs are `cases()` here, which tests/test_projector.py calls too (tensorboardX is imported by main()
alone). Each case is a list of add_embedding calls into one run; `<case>/` keeps every file tensorboardX
wrote there except its event file (projector_config.pbtxt, <step>/<tag>/tensors.tsv, metadata.tsv,
sprite.png). Sprites are float images in [0, 1] (tensorboardX saturates uint8 ones).
"""
import shutil
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def cases() -> dict:
    """case -> list of add_embedding keyword arguments."""
    rng = np.random.default_rng(5)
    words = ["cat", "dog", "bird", "fish", "ant", "bee", "cow", "eel", "fox", "gnu"]
    return {
        "labels_and_sprite": [dict(mat=rng.normal(size=(10, 5)).astype(np.float32), metadata=words,
                                   label_img=rng.random((10, 3, 8, 8)).astype(np.float32))],
        "header_gray_sprite_step_tag": [dict(
            mat=rng.normal(size=(7, 4)), metadata=[[w, i % 3, f"{i * 0.5}"] for i, w in enumerate(words[:7])],
            metadata_header=["word", "class", "half"], label_img=rng.random((7, 1, 6, 6)),
            global_step=7, tag="my/emb%1")],
        "two_calls_ints": [dict(mat=rng.integers(-50, 50, (6, 3))),
                           dict(mat=rng.normal(size=(4, 2)).astype(np.float64), metadata=list(range(4)),
                                global_step=12, tag="second")],
    }


def main() -> None:
    from tensorboardX import SummaryWriter
    for case, calls in cases().items():
        out = HERE / case
        shutil.rmtree(out, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            with SummaryWriter(tmp) as writer:
                for kwargs in calls:
                    writer.add_embedding(**kwargs)
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file() and "tfevents" not in path.name:
                    target = out / path.relative_to(tmp)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        print("wrote", out)


if __name__ == "__main__":
    main()
