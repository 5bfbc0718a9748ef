"""`make demo`'s logs: every dashboard has something to show, as real TensorBoard reads them and as board serves them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import get_json, serve, tb_multiplexer, wait_loaded

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("scalars", "custom_scalars", "histograms", "images", "audio", "text", "graphs", "pr_curves",
         "hparams")


@pytest.fixture(scope="module")
def demo_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("demo") / "logs"
    subprocess.run([sys.executable, str(ROOT / "examples" / "write_demo_logs.py"), "--logdir", str(logdir)],
                   check=True, capture_output=True, timeout=300)
    return logdir


def test_demo_has_every_kind_tensorboard_reads_and_board_lists_it(demo_logdir):
    multiplexer = tb_multiplexer(demo_logdir)
    for kind in KINDS:
        assert any(multiplexer.PluginRunToTagToContent(kind).values()), f"TensorBoard finds no {kind} in the demo"
    with serve(demo_logdir, "--reload_interval", "0") as url:
        wait_loaded(url)
        listing = get_json(url + "data/plugins_listing")
        assert all(listing[name]["enabled"] for name in ("scalars", "custom_scalars", "histograms", "distributions",
                                                         "images", "audio", "text", "graphs", "pr_curves", "hparams",
                                                         "projector"))
        sessions = get_json(url + "data/plugin/hparams/sessions")
        assert sorted(s["name"] for s in sessions) == ["softmax/lr_0.05", "softmax/lr_0.5"]
        for session in sessions:
            assert session["hparams"]["lr"] == float(session["name"].split("_")[-1])
            last = multiplexer.Tensors(session["name"], "train/accuracy")[-1]
            assert session["metrics"]["train/accuracy"]["step"] == last.step
            assert session["metrics"]["train/accuracy"]["value"] == pytest.approx(last.tensor_proto.float_val[0])
