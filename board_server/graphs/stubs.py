"""Stubs for edges between the main flow and the auxiliary column (TensorBoard's in/out stubs).

Edges to auxiliary items are not routed (a line across the drawing to the side column would clutter the
flow), so the page draws a short dashed arrow on each end instead. This turns the bundled level edges of a
view into one entry per endpoint and other end: {node, other, dir, count, control}, `dir` being "out" when
`node` is the edge's source. Edges between two main or two auxiliary items need no stub.
"""
from __future__ import annotations


def aux_stubs(nodes: list[dict], edges: list[dict]) -> list[dict]:
    """Stub entries for the main<->auxiliary edges of a flattened view, both ends, counts per pair."""
    aux = {n["id"]: n["aux"] for n in nodes}
    out: list[dict] = []
    for e in edges:
        if not e["aux"]:
            continue
        src, dst = e["from"], e["to"]
        if src not in aux or dst not in aux or aux[src] == aux[dst]:
            continue
        common = {"count": e["count"], "control": e["control"]}
        out.append({"node": src, "other": dst, "dir": "out", **common})
        out.append({"node": dst, "other": src, "dir": "in", **common})
    return out
