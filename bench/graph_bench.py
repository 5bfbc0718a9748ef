"""Graph layout benchmark: a generated ~3,000-node GraphDef (a deep MLP with gradients and Adam updates).

    python bench/graph_bench.py [--layers 72] [--repeats 7]

Times, as medians over --repeats runs with a cold layout cache each time: parsing + building the scope
hierarchy, the collapsed top-level layout, and one expansion (the biggest scope, `gradients`, and a
layer scope) on top of the cached top level — what the page asks for on a click. Target (issue 6):
< 200 ms for the top level and for any one expansion.

Then the same with an L2 penalty on every parameter, as TF1 code writes it (`tf.nn.l2_loss` and `+` at
the top level): `L2Loss`, `L2Loss_1`, ... and `add`, `add_1`, ... each become one series box, and
opening a series is timed like opening a scope.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from board_server.graphs import hierarchy  # noqa: E402
from summaries.proto import GraphDef  # noqa: E402


def add(graph: GraphDef, name: str, op: str, *inputs: str) -> str:
    graph.node.add(name=name, op=op).input.extend(inputs)
    return name


def variable(g: GraphDef, scope: str, name: str) -> str:
    v = add(g, f"{scope}/{name}", "VarHandleOp")
    init = add(g, f"{scope}/{name}/Initializer/random_uniform", "RandomUniform",
               add(g, f"{scope}/{name}/Initializer/random_uniform/shape", "Const"))
    add(g, f"{scope}/{name}/Assign", "AssignVariableOp", v, init)
    add(g, f"{scope}/{name}/IsInitialized/VarIsInitializedOp", "VarIsInitializedOp", v)
    return v


def deep_mlp(layers: int, l2: bool = False) -> GraphDef:
    """Forward layers, a loss (with `l2`: plus an L2 penalty per parameter), their gradients and Adam
    slot/update ops, TF1-style names."""
    g = GraphDef()
    x = add(g, "x", "Placeholder")
    y = add(g, "y", "Placeholder")
    acts, params = [x], []
    for k in range(layers):
        s = f"dense_{k}"
        w, b = variable(g, s, "kernel"), variable(g, s, "bias")
        mm = add(g, f"{s}/MatMul", "MatMul", acts[-1], add(g, f"{s}/MatMul/ReadVariableOp", "ReadVariableOp", w))
        ba = add(g, f"{s}/BiasAdd", "BiasAdd", mm, add(g, f"{s}/BiasAdd/ReadVariableOp", "ReadVariableOp", b))
        acts.append(add(g, f"{s}/Relu", "Relu", ba))
        params += [w, b]
    diff = add(g, "loss/sub", "Sub", acts[-1], y)
    loss = add(g, "loss/Mean", "Mean", add(g, "loss/Square", "Square", diff), add(g, "loss/Const", "Const"))
    if l2:  # unscoped, so repeated at the top level: L2Loss_[0-143] and add_[0-143]
        for k, p in enumerate(params):
            suffix = f"_{k}" if k else ""
            loss = add(g, f"add{suffix}", "AddV2", loss, add(g, f"L2Loss{suffix}", "L2Loss", p))
    grad = add(g, "gradients/Fill", "Fill", add(g, "gradients/Shape", "Const"), loss)
    grads = {}
    for k in reversed(range(layers)):
        s = f"gradients/dense_{k}"
        relu = add(g, f"{s}/Relu_grad/ReluGrad", "ReluGrad", grad, f"dense_{k}/Relu")
        grads[f"dense_{k}/bias"] = add(g, f"{s}/BiasAdd_grad/BiasAddGrad", "BiasAddGrad", relu)
        dx = add(g, f"{s}/MatMul_grad/MatMul", "MatMul", relu, f"dense_{k}/MatMul/ReadVariableOp")
        grads[f"dense_{k}/kernel"] = add(g, f"{s}/MatMul_grad/MatMul_1", "MatMul", acts[k], relu)
        add(g, f"{s}/MatMul_grad/tuple/group_deps", "NoOp", "^" + dx, "^" + grads[f"dense_{k}/kernel"])
        grad = dx
    lr = add(g, "Adam/learning_rate", "Const")
    beta1, beta2 = add(g, "Adam/beta1", "Const"), add(g, "Adam/beta2", "Const")
    updates = []
    for p in params:
        m, v = variable(g, p, "Adam"), variable(g, p, "Adam_1")
        updates.append(add(g, f"Adam/update_{p}/ResourceApplyAdam", "ResourceApplyAdam", p, m, v, lr, beta1,
                           beta2, grads[p]))
    add(g, "Adam", "NoOp", *("^" + u for u in updates))
    add(g, "init", "NoOp", *(f"^{p}/Assign" for p in params))
    return g


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=72)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    mid = f"dense_{args.layers // 2}"
    run(deep_mlp(args.layers), ("gradients", mid, "Adam"), args.repeats)
    n = 2 * args.layers - 1
    print("\nwith an L2 penalty:")
    run(deep_mlp(args.layers, l2=True), (f"L2Loss_[0-{n}]", f"add_[0-{n}]", "gradients"), args.repeats)


def run(graph: GraphDef, scopes: tuple[str, ...], repeats: int) -> None:
    data = graph.SerializeToString()
    print(f"graph: {len(graph.node)} nodes, {len(data) / 1e3:.0f} kB")
    state = {}

    def build():
        state["h"] = hierarchy.Hierarchy(GraphDef.FromString(data))

    def top():
        state["h"].__dict__.pop("_view_cache", None)
        state["view"] = hierarchy.view(state["h"], set())

    results = {"parse + hierarchy": median_ms(build, repeats), "top level (collapsed)": median_ms(top, repeats)}
    print(f"top level: {len(state['view']['nodes'])} nodes, {len(state['view']['edges'])} edges")
    for scope in scopes:
        def expand(scope=scope):
            top()  # cold cache, then the click: the top level is cached, the scope is new
            t0 = time.perf_counter()
            state["view"] = hierarchy.view(state["h"], {scope})
            return time.perf_counter() - t0
        times = sorted(expand() * 1000 for _ in range(repeats))
        results[f"expand {scope}"] = times[len(times) // 2]
        shown = sum(n["parent"] == scope for n in state["view"]["nodes"])
        print(f"expand {scope}: {shown} children")
    for label, ms in results.items():
        target = "" if label.startswith("parse") else ("  (target < 200 ms: ok)" if ms < 200 else "  (over target!)")
        print(f"{label:>24}: {ms:8.1f} ms{target}")


if __name__ == "__main__":
    main()
