"""The README's first example, run as a new user would, writes a logdir real TensorBoard reads."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np

from conftest import ROOT


def test_readme_numpy_example_is_read_by_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp_path, check=True, timeout=120)
    acc = EventAccumulator(str(tmp_path / "logs" / "example"), size_guidance={"scalars": 0, "images": 0,
                                                                             "histograms": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    assert [e.step for e in acc.Scalars("loss")] == list(range(100))
    assert acc.Scalars("loss")[9].value == float(np.float32(1.0 / 10))  # simple_value is float32
    assert len(acc.Histograms("weights")) == 100
    assert [e.step for e in acc.Images("sample")] == [0, 25, 50, 75]
    assert "notes" in tags["tensors"]
