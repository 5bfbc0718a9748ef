"""Whole-process time of two TF1 programs, ours (`import summaries as tf`) vs TensorFlow's compat.v1.

1. the deep XOR lab (examples/lab_xor_wide_deep.py, 10,001 steps of gradient descent);
2. an MNIST MLP (784-512-512-10, ReLU, Adam, batch 100, 550 steps) on examples/mnist_data.py's data.

Each program runs in a fresh interpreter (imports included, as a user would time it). TensorFlow is
not required: without it the script says so and prints our times only.
Targets from the issue: XOR <= 0.5x TF's time, MNIST <= 1.2x TF's time (TF 2.21: 7.0 s and 7.8 s on
the 2-core reference machine).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

OURS = "import summaries as tf\n"
THEIRS = "import tensorflow.compat.v1 as tf\ntf.disable_eager_execution()\n"

MNIST_MLP = """
import sys
sys.path.insert(0, {examples!r})
import mnist_data as input_data
tf.set_random_seed(777)
mnist = input_data.read_data_sets(input_data.data_dir("MNIST_data/"), one_hot=True)
X = tf.placeholder(tf.float32, [None, 784])
Y = tf.placeholder(tf.float32, [None, 10])
W1 = tf.get_variable("W1", shape=[784, 512], initializer=tf.contrib.layers.xavier_initializer()
                     if hasattr(tf, "contrib") else tf.glorot_uniform_initializer())
b1 = tf.Variable(tf.random_normal([512]))
L1 = tf.nn.relu(tf.matmul(X, W1) + b1)
W2 = tf.get_variable("W2", shape=[512, 512], initializer=tf.glorot_uniform_initializer())
b2 = tf.Variable(tf.random_normal([512]))
L2 = tf.nn.relu(tf.matmul(L1, W2) + b2)
W3 = tf.get_variable("W3", shape=[512, 10], initializer=tf.glorot_uniform_initializer())
b3 = tf.Variable(tf.random_normal([10]))
hypothesis = tf.matmul(L2, W3) + b3
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=hypothesis, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1)), tf.float32))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range({steps}):
        batch_xs, batch_ys = mnist.train.next_batch(100)
        c, _ = sess.run([cost, optimizer], feed_dict={{X: batch_xs, Y: batch_ys}})
    print("Accuracy:", sess.run(accuracy, feed_dict={{X: mnist.test.images, Y: mnist.test.labels}}))
"""


def timed(source: str, cwd: str) -> tuple[float, str]:
    path = Path(cwd) / "prog.py"
    path.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-2000:])
    acc = [line for line in p.stdout.splitlines() if "Accuracy" in line]
    return elapsed, (acc[-1].strip() if acc else "")


def programs(steps: int) -> dict[str, str]:
    xor = (EXAMPLES / "lab_xor_wide_deep.py").read_text().replace("import summaries as tf\n", "")
    mlp = MNIST_MLP.format(examples=str(EXAMPLES), steps=steps)
    return {"deep XOR lab (10,001 steps)": xor, f"MNIST MLP 784-512-512-10 Adam (batch 100, {steps} steps)": mlp}


def main() -> None:
    steps = int(os.environ.get("BENCH_MNIST_STEPS", "550"))
    have_tf = importlib.util.find_spec("tensorflow") is not None
    if not have_tf:
        print("tensorflow not installed: printing our times only")
    with tempfile.TemporaryDirectory() as tmp:
        for title, body in programs(steps).items():
            ours, acc = timed(OURS + body, tmp)
            line = f"{title}: ours {ours:.2f} s ({acc})"
            if have_tf:
                theirs, tacc = timed(THEIRS + body, tmp)
                line += f", tensorflow.compat.v1 {theirs:.2f} s ({tacc}), ratio ours/TF = {ours / theirs:.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
