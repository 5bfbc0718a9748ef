"""The graph our own engine writes for the XOR TensorBoard lab, in the graph view, next to real TF1's."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, expected, get_json, screenshot, serve, wait_loaded
from test_graphs_browser import labels, open_graphs, wait_version
from test_graphs_server import route


@pytest.fixture(scope="module")
def lab_logdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("xor_lab")
    env = {**os.environ, "LAB_STEPS": "21"}
    subprocess.run([sys.executable, str(ROOT / "examples" / "lab_xor_tensorboard.py")], cwd=work, env=env,
                   check=True, capture_output=True, timeout=300)
    return work / "logs"


def test_engine_xor_graph_has_tf1_scopes(lab_logdir):
    tf1 = expected("tf1_xor")["runs"]["xor_logs"]["graph"]
    tf1_top = {n.split("/")[0] for n in tf1["names"]}
    with serve(lab_logdir, "--reload_interval", "0") as url:
        wait_loaded(url)
        top = get_json(route(url, "layout", run="xor_logs"))
        ours = {n["label"]: n for n in top["nodes"]}
        assert {"layer1", "layer2", "cost", "train"} <= set(ours)
        assert all(ours[s]["kind"] == "scope" and not ours[s]["expanded"] for s in ("layer1", "layer2", "cost", "train"))
        assert {"layer1", "layer2", "cost", "train", "x-input", "y-input"} <= tf1_top
        opened = get_json(route(url, "layout", run="xor_logs", expanded="layer1"))
        inside = {n["label"] for n in opened["nodes"] if n["parent"] == "layer1"}
        assert {"weight1", "bias1", "MatMul", "add", "Sigmoid", "weights1", "biases1"} <= inside


@pytest.mark.browser
def test_engine_xor_graph_in_browser(page, lab_logdir):
    with serve(lab_logdir, "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        assert {"layer1", "layer2", "cost", "train"} <= set(labels(page))
        screenshot(page, "graphs_engine_xor_collapsed")
        page.click(".graph-node.scope[data-id='layer1']")
        wait_version(page, 2)
        assert {"weight1", "bias1", "MatMul", "add", "Sigmoid"} <= set(labels(page, "layer1"))
        screenshot(page, "graphs_engine_xor_layer1")
        assert not page.console_errors and not page.dialogs
