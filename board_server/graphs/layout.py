"""A layered (Sugiyama-style) drawing of a directed graph, in pure Python + numpy.

1. cycle removal: edges closing a DFS cycle are reversed (drawn upward, reported);
2. layering: longest path from the sources, then sources pulled down next to their first consumer
   (a cheap stand-in for network simplex: constants and variables sit just above their use);
3. long edges become chains of dummy nodes, one per crossed layer;
4. crossing reduction: barycenter sweeps down and up, keeping the ordering with fewest crossings;
5. coordinates: per layer, the positions nearest to the neighbours' mean that keep the order and the
   minimum gaps — a weighted isotonic regression solved exactly with pool-adjacent-violators.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NODE_GAP = 24.0
DUMMY_WIDTH = 8.0
LAYER_GAP = 56.0
SWEEPS = 6
COORD_ROUNDS = 6
MAX_DUMMIES = 40_000


@dataclass
class Layout:
    x: list[float]  # centers
    y: list[float]
    width: float
    height: float
    points: list[list[tuple[float, float]]]  # per input edge, source -> target (empty for self-loops)
    reversed: set[int] = field(default_factory=set)  # edges drawn against the flow (they closed a cycle)
    crossings: int = 0
    warnings: list[str] = field(default_factory=list)


def remove_cycles(n: int, edges: list[tuple[int, int]]) -> set[int]:
    """Indices of edges to reverse so the graph is acyclic (back edges of an iterative DFS)."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (u, v) in enumerate(edges):
        if u != v:
            out[u].append((v, k))
    state = [0] * n  # 0 new, 1 on stack, 2 done
    back: set[int] = set()
    for root in range(n):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            u, i = stack[-1]
            if i < len(out[u]):
                stack[-1] = (u, i + 1)
                v, k = out[u][i]
                if state[v] == 1:
                    back.add(k)
                elif state[v] == 0:
                    state[v] = 1
                    stack.append((v, 0))
            else:
                state[u] = 2
                stack.pop()
    return back


def assign_layers(n: int, dag: list[tuple[int, int]]) -> list[int]:
    """Longest-path layers, then each source moved down to just above its nearest consumer."""
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for u, v in dag:
        succ[u].append(v)
        indeg[v] += 1
    order = [v for v in range(n) if indeg[v] == 0]
    remaining = indeg[:]
    layer = [0] * n
    for u in order:  # grows while iterating: Kahn's topological order
        for v in succ[u]:
            layer[v] = max(layer[v], layer[u] + 1)
            remaining[v] -= 1
            if remaining[v] == 0:
                order.append(v)
    for u in reversed(order):
        if indeg[u] == 0 and succ[u]:
            layer[u] = min(layer[v] for v in succ[u]) - 1
    return layer


def _count_between(upper_pos: dict, lower_pos: dict, pairs: list[tuple[int, int]]) -> int:
    """Crossings between two adjacent layers: inversions of lower positions sorted by upper ones."""
    seq = [lower_pos[b] for a, b in sorted(pairs, key=lambda p: (upper_pos[p[0]], lower_pos[p[1]]))]
    if len(seq) < 2:
        return 0
    size = max(seq) + 1
    tree = [0] * (size + 1)  # Fenwick tree over lower positions seen so far
    crossings = 0
    for seen, value in enumerate(seq):
        i, at_most = value + 1, 0
        while i > 0:
            at_most += tree[i]
            i -= i & -i
        crossings += seen - at_most
        i = value + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return crossings


def count_crossings(layers: list[list[int]], down: list[list[int]]) -> int:
    total = 0
    for li in range(len(layers) - 1):
        upper = {v: i for i, v in enumerate(layers[li])}
        lower = {v: i for i, v in enumerate(layers[li + 1])}
        pairs = [(u, v) for u in layers[li] for v in down[u] if v in lower]  # unrouted long edges skip layers
        total += _count_between(upper, lower, pairs)
    return total


def _order(layers: list[list[int]], down: list[list[int]], up: list[list[int]]) -> tuple[list[list[int]], int]:
    best = [list(layer) for layer in layers]
    best_cross = count_crossings(best, down)
    current = [list(layer) for layer in layers]
    for sweep in range(SWEEPS):
        if best_cross == 0:
            break
        downward = sweep % 2 == 0
        rng = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        for li in rng:
            ref = current[li - 1] if downward else current[li + 1]
            pos = {v: i for i, v in enumerate(ref)}
            links = up if downward else down
            keyed = []
            for i, v in enumerate(current[li]):
                nbrs = [pos[w] for w in links[v] if w in pos]
                keyed.append((sum(nbrs) / len(nbrs) if nbrs else float(i) * len(ref) / max(1, len(current[li])),
                               i, v))
            keyed.sort()
            current[li] = [v for _, _, v in keyed]
        cross = count_crossings(current, down)
        if cross < best_cross:
            best, best_cross = [list(layer) for layer in current], cross
    return best, best_cross


def _pava(target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Non-decreasing y minimizing sum w (y - target)^2 (pool adjacent violators)."""
    values, weights, sizes = [], [], []
    for t, w in zip(target.tolist(), weight.tolist()):
        values.append(t)
        weights.append(w)
        sizes.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            w2 = weights[-2] + weights[-1]
            v2 = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w2
            s2 = sizes[-2] + sizes[-1]
            del values[-1], weights[-1], sizes[-1]
            values[-1], weights[-1], sizes[-1] = v2, w2, s2
    return np.repeat(np.asarray(values), sizes)


def _place_layer(layer: list[int], width: list[float], desired: np.ndarray, weight: np.ndarray,
                 xs: list[float]) -> None:
    gaps = np.array([0.0] + [(width[a] + width[b]) / 2 + NODE_GAP for a, b in zip(layer, layer[1:])])
    offset = np.cumsum(gaps)
    y = _pava(desired - offset, weight)
    for v, value in zip(layer, (y + offset).tolist()):
        xs[v] = value


def _coordinates(layers, down, up, width, is_dummy) -> list[float]:
    total = len(width)
    xs = [0.0] * total
    for layer in layers:
        _place_layer(layer, width, np.zeros(len(layer)), np.ones(len(layer)), xs)
    for r in range(COORD_ROUNDS):
        downward = r % 2 == 0
        seq = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for li in seq:
            layer = layers[li]
            desired = np.empty(len(layer))
            weight = np.empty(len(layer))
            for i, v in enumerate(layer):
                nbrs = (up[v] if downward else down[v]) or (down[v] if downward else up[v])
                if r >= 2:
                    nbrs = up[v] + down[v]
                desired[i] = sum(xs[w] for w in nbrs) / len(nbrs) if nbrs else xs[v]
                weight[i] = (8.0 if is_dummy[v] else 1.0) * (1.0 if nbrs else 0.05)
            _place_layer(layer, width, desired, weight, xs)
    return xs


def layered_layout(sizes: list[tuple[float, float]], edges: list[tuple[int, int]]) -> Layout:
    """Lay out nodes of (width, height) with edges (u, v); coordinates are node centers from (0, 0)."""
    n = len(sizes)
    warnings: list[str] = []
    if n == 0:
        return Layout([], [], 0.0, 0.0, [[] for _ in edges])
    flipped = remove_cycles(n, edges)
    if flipped:
        warnings.append(f"{len(flipped)} edge(s) close a cycle; drawn upward")
    dag = [(v, u) if k in flipped else (u, v) for k, (u, v) in enumerate(edges) if u != v]
    layer = assign_layers(n, list(dict.fromkeys(dag)))
    low = min(layer)
    layer = [value - low for value in layer]
    width = [w for w, _ in sizes]
    height = [h for _, h in sizes]
    is_dummy = [False] * n
    down: list[list[int]] = [[] for _ in range(n)]
    up: list[list[int]] = [[] for _ in range(n)]
    chains: dict[tuple[int, int], list[int]] = {}
    span_total = sum(max(0, layer[v] - layer[u] - 1) for u, v in dict.fromkeys(dag))
    use_dummies = span_total <= MAX_DUMMIES
    if not use_dummies:
        warnings.append("too many long edges to route; drawn straight")
    for u, v in dict.fromkeys(dag):
        chain = [u]
        if use_dummies:
            for li in range(layer[u] + 1, layer[v]):
                d = len(width)
                width.append(DUMMY_WIDTH)
                height.append(0.0)
                layer.append(li)
                is_dummy.append(True)
                down.append([])
                up.append([])
                chain.append(d)
        chain.append(v)
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        chains[(u, v)] = chain[1:-1]
    layers: list[list[int]] = [[] for _ in range(max(layer) + 1)]
    for v, li in enumerate(layer):
        layers[li].append(v)
    layers, crossings = _order(layers, down, up)
    xs = _coordinates(layers, down, up, width, is_dummy)
    left = min(xs[v] - width[v] / 2 for v in range(len(xs)))
    xs = [x - left for x in xs]
    ys = [0.0] * len(xs)
    band = [0.0] * len(xs)  # height of each node's layer: dummies run straight down beside tall boxes
    top = 0.0
    for members in layers:
        tall = max((height[v] for v in members), default=0.0)
        for v in members:
            ys[v] = top + tall / 2
            band[v] = tall
        top += tall + LAYER_GAP
    right = max(xs[v] + width[v] / 2 for v in range(len(xs)))
    points: list[list[tuple[float, float]]] = []
    for k, (u, v) in enumerate(edges):
        if u == v:
            points.append([])
            continue
        a, b = (v, u) if k in flipped else (u, v)
        # Within a layer an edge runs straight down (nothing else of the layer is at its x); it turns only
        # in the gap between layers, so it never cuts through a tall box beside its ends.
        path = [(xs[a], ys[a] + height[a] / 2)]
        if band[a] > height[a]:
            path.append((xs[a], ys[a] + band[a] / 2))
        for d in chains.get((a, b), []):
            path.extend([(xs[d], ys[d] - band[d] / 2), (xs[d], ys[d] + band[d] / 2)] if band[d] > 0 else
                        [(xs[d], ys[d])])
        if band[b] > height[b]:
            path.append((xs[b], ys[b] - band[b] / 2))
        path.append((xs[b], ys[b] - height[b] / 2))
        points.append(path[::-1] if k in flipped else path)
    return Layout(xs[:n], ys[:n], right, max(0.0, top - LAYER_GAP), points, flipped, crossings, warnings)


def grid_layout(sizes: list[tuple[float, float]], columns: int | None = None) -> Layout:
    """A plain grid, for levels too big to lay out in time (edges are then not drawn)."""
    n = len(sizes)
    columns = columns or max(1, int(np.ceil(np.sqrt(n))))
    cell_w = max((w for w, _ in sizes), default=0.0) + NODE_GAP
    cell_h = max((h for _, h in sizes), default=0.0) + NODE_GAP
    xs = [(i % columns) * cell_w + cell_w / 2 for i in range(n)]
    ys = [(i // columns) * cell_h + cell_h / 2 for i in range(n)]
    rows = (n + columns - 1) // columns
    return Layout(xs, ys, min(n, columns) * cell_w, rows * cell_h, [])
