"""Each lab in examples/ runs as a new user would run it (a subprocess in a fresh directory), and the
MNIST TensorBoard lab's logs match what real TF1 wrote for the same program (tests/data/fixtures/tf1_mnist)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from summaries.proto import GraphDef

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).parent / "data" / "fixtures"


def run_lab(name: str, cwd: Path, *args: str, timeout: float = 60, **env) -> str:
    """Run examples/<name> with `args` in `cwd` (extra environment `env`); assert it succeeds; its stdout."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **{k: str(v) for k, v in env.items()}}
    p = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=full_env, capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


def last_accuracy(out: str) -> float:
    return float(re.findall(r"Accuracy:\s*\[?\s*([0-9.]+)", out)[-1])


@pytest.mark.parametrize("lab,expected", [("lab_xor_logistic.py", 0.5), ("lab_xor_nn.py", 1.0),
                                          ("lab_xor_wide_deep.py", 1.0)])
def test_xor_labs_reach_their_known_accuracy(tmp_path, lab, expected):
    """A linear model cannot learn XOR; the hidden-layer nets do (the lesson of each lab)."""
    assert last_accuracy(run_lab(lab, tmp_path)) == expected


def test_linear_regression_learns_w_1_b_0(tmp_path):
    last = run_lab("lab_linear_regression.py", tmp_path).strip().splitlines()[-1]
    step, cost, w, b = re.match(r"(\d+) (\S+) \[\s*(\S+)\] \[\s*(\S+)\]", last).groups()
    assert step == "2000" and float(cost) < 1e-3 and abs(float(w) - 1) < 0.05 and abs(float(b)) < 0.1


def test_manual_backprop_fits_the_line(tmp_path):
    out = run_lab("lab_manual_backprop.py", tmp_path)
    preds = [float(v) for v in re.findall(r"\[\s*([-0-9.e]+)\s*\]", out.split("\n999 ")[-1])[-3:]]
    assert preds == pytest.approx([1.0, 2.0, 3.0], abs=0.01)


def test_mnist_softmax_lab_reaches_90_percent(tmp_path):
    out = run_lab("lab_mnist_softmax.py", tmp_path)
    assert "MNIST files not found" in out
    assert last_accuracy(out) >= 0.90


def test_xor_tensorboard_lab_writes_two_runs(tmp_path):
    run_lab("lab_xor_tensorboard.py", tmp_path, LAB_STEPS=101)
    for run in ("xor_logs", "xor_logs_r0_01"):
        ea = EventAccumulator(str(tmp_path / "logs" / run), size_guidance={"scalars": 0})
        ea.Reload()
        assert sorted(ea.Tags()["scalars"]) == ["accuracy/accuracy", "cost/cost"]
        assert [e.step for e in ea.Scalars("cost/cost")] == list(range(0, 101, 10))
        assert ea.Tags()["graph"]


def test_mnist_tensorboard_lab_matches_tf1_fixture(tmp_path):
    out = run_lab("lab_mnist_tensorboard.py", tmp_path, LAB_EPOCHS=1)
    assert last_accuracy(out) >= 0.90
    exp = json.loads((FIXTURES / "tf1_mnist" / "expected.json").read_text())["runs"]["mnist"]
    ea = EventAccumulator(str(tmp_path / "logs" / "mnist"), size_guidance={"scalars": 0, "histograms": 0,
                                                                          "images": 0})
    ea.Reload()
    assert sorted(ea.Tags()["scalars"]) == sorted(exp["scalars"])
    assert sorted(ea.Tags()["images"]) == sorted(exp["images"])
    assert sorted(ea.Tags()["histograms"]) == sorted(exp["histograms_tf1"])
    img = ea.Images("input/image/0")[0]
    assert (img.width, img.height) == (28, 28)
    ours = {n.name for n in GraphDef.FromString(ea.Graph().SerializeToString()).node}
    theirs = set(exp["graph"]["names"])
    assert {n.split("/")[0] for n in ours} == {n.split("/")[0] for n in theirs}
    for name in ["X", "X_1", "Y", "keep_prob", "input", "loss", "layer1/W", "layer1/bias", "layer1/bias_1",
                 "layer3/W/Adam", "layer3/W/Adam_1", "beta1_power", "Merge/MergeSummary", "Reshape/shape",
                 "softmax_cross_entropy_with_logits_sg/labels_stop_gradient"]:
        assert name in theirs and name in ours, name


def test_mnist_cnn_lab_trains_and_logs_its_conv_graph(tmp_path):
    args = ["--steps", "40", "--batch_size", "32", "--summary_every", "5", "--eval_size", "500", "--logdir", "cnn"]
    out = run_lab("lab_mnist_cnn.py", tmp_path, *args)
    assert last_accuracy(out) > 0.2  # chance is 0.1
    ea = EventAccumulator(str(tmp_path / "cnn"), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    ea.Reload()
    assert sorted(ea.Tags()["scalars"]) == ["accuracy", "loss"]
    loss = [e.value for e in ea.Scalars("loss")]
    assert [e.step for e in ea.Scalars("loss")] == list(range(0, 40, 5))
    assert sum(loss[-3:]) / 3 < sum(loss[:3]) / 3 - 0.2, loss
    assert {"layer1/weights", "layer2/weights", "layer3/weights"} <= set(ea.Tags()["histograms"])
    assert ea.Images("input/image/0")[0].width == 28
    ops = {n.op for n in GraphDef.FromString(ea.Graph().SerializeToString()).node}
    assert {"Conv2D", "MaxPool", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPoolGrad"} <= ops


def test_mnist_cnn_layers_lab_trains_and_logs_tf1_layer_names(tmp_path):
    args = ["--steps", "40", "--batch_size", "32", "--summary_every", "5", "--eval_size", "500", "--logdir", "cnn"]
    out = run_lab("lab_mnist_cnn_layers.py", tmp_path, *args)
    assert last_accuracy(out) > 0.2  # chance is 0.1
    ea = EventAccumulator(str(tmp_path / "cnn"), size_guidance={"scalars": 0})
    ea.Reload()
    assert sorted(ea.Tags()["scalars"]) == ["accuracy", "loss"]
    loss = [e.value for e in ea.Scalars("loss")]
    assert [e.step for e in ea.Scalars("loss")] == list(range(0, 40, 5))
    assert sum(loss[-3:]) / 3 < sum(loss[:3]) / 3 - 0.2, loss
    variables = {n.name for n in GraphDef.FromString(ea.Graph().SerializeToString()).node if n.op == "VariableV2"}
    assert {"m1/conv2d/kernel", "m1/conv2d_1/kernel", "m1/conv2d_2/kernel", "m1/conv2d/bias", "m1/dense/kernel",
            "m1/dense_1/bias", "m1/conv2d/kernel/Adam"} <= variables


def test_mnist_batchnorm_lab_trains_moves_the_moving_stats_and_logs_bn_variables(tmp_path):
    args = ["--steps", "40", "--batch_size", "32", "--summary_every", "5", "--eval_size", "500", "--logdir", "bn"]
    out = run_lab("lab_mnist_nn_batchnorm.py", tmp_path, *args)
    moved = [float(v) for v in re.findall(r"Moving stats moved: mean ([0-9.]+) variance ([0-9.]+)", out)[-1]]
    assert min(moved) > 0.01, out  # the UPDATE_OPS control dependency ran the updates
    ea = EventAccumulator(str(tmp_path / "bn"), size_guidance={"scalars": 0})
    ea.Reload()
    loss = [e.value for e in ea.Scalars("loss")]
    assert sum(loss[-3:]) / 3 < sum(loss[:3]) / 3 - 0.2, loss
    nodes = GraphDef.FromString(ea.Graph().SerializeToString()).node
    variables = {n.name for n in nodes if n.op == "VariableV2"}
    assert {"batch_normalization/gamma", "batch_normalization/beta", "batch_normalization/moving_mean",
            "batch_normalization_2/moving_variance", "batch_normalization/gamma/Adam"} <= variables
    assert "batch_normalization/moving_mean/Adam" not in variables  # not trainable


def test_rnn_hello_lab_learns_ihello_and_logs_loss_and_graph(tmp_path):
    out = run_lab("lab_rnn_hello.py", tmp_path, "--steps", "50", "--logdir", "rnn")
    assert re.findall(r"Prediction str:\s+(\w+)", out)[-1] == "ihello"
    ea = EventAccumulator(str(tmp_path / "rnn"), size_guidance={"scalars": 0})
    ea.Reload()
    loss = [e.value for e in ea.Scalars("loss")]
    assert [e.step for e in ea.Scalars("loss")] == list(range(50))
    assert loss[-1] < 0.1 < loss[0], loss
    variables = {n.name for n in GraphDef.FromString(ea.Graph().SerializeToString()).node if n.op == "VariableV2"}
    assert {"rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias", "fully_connected/weights",
            "fully_connected/biases"} <= variables
