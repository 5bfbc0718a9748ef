"""Writes reference.npz: PR-curve tensors computed by tensorboardX 2.6.5 for fixed inputs.

Run with a Python that has tensorboardX (not the project venv):
    /work/peers_tb/bin/python tests/data/pr_curves/make_reference.py
tensorboardX caps num_thresholds at 127 in its summaries, so the 201-threshold case takes its
`compute_curve` (TensorBoard's numpy algorithm) directly and casts to float32 as its summary does.
Case `big` has more examples than numpy's histogram block (65,536); its inputs are a formula that
tests/test_pr_curves.py calls from this script (tensorboardX is imported by main() alone), so they are not
stored.
"""
from pathlib import Path

import numpy as np


def big_inputs():
    i = np.arange(100_003)
    predictions = ((i * 0.6180339887498949) % 1.0).astype(np.float32)
    labels = (i * 7) % 3 == 0
    weights = (i % 5) * 0.3
    return labels, predictions, weights


def main():
    import tensorboardX
    from tensorboardX.summary import compute_curve, pr_curve, pr_curve_raw

    rng = np.random.default_rng(20240611)
    cases = {
        "small": dict(labels=rng.integers(0, 2, 40), predictions=rng.random(40).astype(np.float32),
                      num_thresholds=5),
        "weighted": dict(labels=rng.integers(0, 2, (10, 30)).astype(np.float64), predictions=rng.random((10, 30)),
                         weights=rng.random((10, 30)) * 2.0, num_thresholds=127),
        "all_ones": dict(labels=np.ones(50, bool),
                         predictions=np.concatenate([[0.0, 1.0, 0.5], rng.random(47)]).astype(np.float32),
                         num_thresholds=127),
        "low_scores": dict(labels=rng.integers(0, 2, 60), predictions=(rng.random(60) * 0.3).astype(np.float32),
                           num_thresholds=127),
        "n201": dict(labels=rng.integers(0, 2, 200), predictions=rng.random(200).astype(np.float32),
                     weights=rng.random(200).astype(np.float32), num_thresholds=201),
    }
    out = {"tensorboardX_version": np.array(tensorboardX.__version__)}
    for name, case in cases.items():
        n = case["num_thresholds"]
        if n > 127:
            tensor = compute_curve(case["labels"], case["predictions"], n, case.get("weights")).astype(np.float32)
        else:
            value = pr_curve(name, case["labels"], case["predictions"], n, case.get("weights")).value[0]
            tensor = np.array(value.tensor.float_val, np.float32).reshape(
                [d.size for d in value.tensor.tensor_shape.dim])
            out[f"{name}/content"] = np.frombuffer(value.metadata.plugin_data.content, np.uint8)
        for key, v in case.items():
            if key != "num_thresholds":
                out[f"{name}/{key}"] = np.asarray(v)
        out[f"{name}/num_thresholds"] = np.array(n)
        out[f"{name}/tensor"] = tensor
    labels, predictions, weights = big_inputs()
    value = pr_curve("big", labels, predictions, 127, weights).value[0]
    out["big/tensor"] = np.array(value.tensor.float_val, np.float32).reshape(6, 127)
    raw = [rng.integers(0, 50, 7).astype(np.float64) for _ in range(4)] + [rng.random(7), rng.random(7)]
    value = pr_curve_raw("raw", *raw, num_thresholds=7).value[0]
    out["raw/inputs"] = np.stack(raw)
    out["raw/tensor"] = np.array(value.tensor.float_val, np.float32).reshape(6, 7)
    out["raw/content"] = np.frombuffer(value.metadata.plugin_data.content, np.uint8)
    np.savez_compressed(Path(__file__).with_name("reference.npz"), **out)


if __name__ == "__main__":
    main()
