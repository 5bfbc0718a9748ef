"""The graphs dashboard in headless Chromium: scopes collapsed, a click expands one, search, details,
trace inputs; graphs written by real TF1 and tensorboardX/PyTorch; hostile graphs show warnings."""
from __future__ import annotations

import pytest

from conftest import FIXTURES, expected, screenshot, serve, wait_loaded
from test_graphs_server import graph_event, write_events

pytestmark = pytest.mark.browser


def labels(page, parent=None):
    """Labels of drawn nodes whose parent box is `parent` (None: top level), from the page's layout."""
    return page.evaluate("""(parent) => [...document.querySelectorAll('.graph-node')]
        .filter((g) => {
            const id = g.dataset.id;
            const slash = id.lastIndexOf('/');
            return parent === null ? slash < 0 : id.startsWith(parent + '/') && id.slice(parent.length + 1).indexOf('/') < 0;
        }).map((g) => g.dataset.id.slice(g.dataset.id.lastIndexOf('/') + 1))""", parent)


def wait_version(page, version):
    page.wait_for_function("(v) => { const c = document.querySelector('.graph-canvas');"
                           " return c && c.dataset.state === 'ready' && Number(c.dataset.version) >= v; }",
                           arg=version, timeout=15000)


def open_graphs(page, url):
    page.goto(url + "#graphs")
    wait_version(page, 1)


def test_xor_scopes_expand_on_click(page):
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        names = expected("tf1_xor")["runs"]["xor_logs"]["graph"]["names"]
        top = labels(page)
        assert set(top) == {n.split("/")[0] for n in names}
        for scope in ("layer1", "layer2", "cost", "train"):
            node = page.locator(f".graph-node.scope[data-id='{scope}']")
            assert node.count() == 1 and "expanded" not in node.get_attribute("class")
        screenshot(page, "graphs_xor_collapsed")

        page.click(".graph-node.scope[data-id='layer1']")
        wait_version(page, 2)
        inside = set(labels(page, "layer1"))
        assert {"weight1", "bias1", "MatMul", "add", "Sigmoid", "weights1", "biases1"} <= inside
        assert page.locator(".graph-node.expanded[data-id='layer1']").count() == 1
        assert page.locator(".graph-details h3").text_content() == "layer1"
        screenshot(page, "graphs_xor_layer1_expanded")

        # an op's details: op type and inputs as TensorFlow wrote them
        page.click(".graph-node.op[data-id='layer1/Sigmoid']")
        page.wait_for_function("() => document.querySelector('.graph-details h3')?.textContent === 'layer1/Sigmoid'")
        text = page.locator(".graph-details").text_content()
        assert "Sigmoid" in text and "layer1/add" in text

        # trace inputs: x-input feeds layer1/Sigmoid, cost does not
        page.check(".graph-trace")
        page.wait_for_selector(".graph-node.traced[data-id='x-input']", timeout=10000)
        assert "dimmed" in page.locator(".graph-node[data-id='cost']").get_attribute("class")

        # search expands the scopes on the path to a node
        page.fill(".graph-search", "cost/Log_1")
        page.wait_for_selector(".graph-results li[data-name='cost/Log_1']", timeout=10000)
        page.click(".graph-results li[data-name='cost/Log_1']")
        page.wait_for_selector(".graph-node.selected[data-id='cost/Log_1']", timeout=10000)
        assert page.locator(".graph-node.expanded[data-id='cost']").count() == 1
        screenshot(page, "graphs_xor_search")

        # collapsing by clicking the box header (after fitting the drawing to the screen)
        page.click("text=Fit to screen")
        page.click(".graph-node.expanded[data-id='layer1'] .box-header")
        page.wait_for_function("() => !document.querySelector(\".graph-node.expanded[data-id='layer1']\")")
        # zoom with the wheel changes the transform
        before = page.get_attribute(".graph-canvas .viewport", "transform")
        page.mouse.move(700, 500)
        page.mouse.wheel(0, -300)
        page.wait_for_function("(b) => document.querySelector('.graph-canvas .viewport').getAttribute('transform') !== b",
                               arg=before)
        assert page.console_errors == [] and page.dialogs == []


def test_tbx_pytorch_graph(page):
    with serve(FIXTURES / "tbx", "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        names = expected("tbx")["runs"]["tbx_run"]["graph"]["names"]
        assert set(labels(page)) == {n.split("/")[0] for n in names}
        page.click(".graph-node.scope[data-id='MLP']")
        wait_version(page, 2)
        inside = set(labels(page, "MLP"))
        assert inside == {n.split("/")[1] for n in names if n.startswith("MLP/")}
        assert "1×4" in page.locator(".edge-label").all_text_contents()
        assert page.locator(".graph-warnings li").count() >= 3  # dangling prim::GetAttr inputs are reported ...
        assert page.get_attribute(".graph-warnings", "open") is None  # ... folded into one line
        screenshot(page, "graphs_tbx_mlp_expanded")
        assert page.console_errors == [] and page.dialogs == []


def test_hostile_graphs_say_what_was_not_drawn(page, tmp_path):
    write_events(tmp_path / "cycle", [graph_event([("a/x", "Add", ["b/y"]), ("b/y", "Add", ["a/x"])])])
    write_events(tmp_path / "flat", [graph_event([(f"n{i}", "Add", [f"n{i - 1}"] if i else [])
                                                  for i in range(50_000)])])
    write_events(tmp_path / "empty", [graph_event([])])
    with serve(tmp_path, "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        for run, needle in (("cycle", "cycle"), ("empty", "no nodes"), ("flat", "could not draw")):
            version = int(page.get_attribute(".graph-canvas", "data-version"))
            page.select_option(".graph-run", run)
            wait_version(page, version + 1)
            assert needle in page.locator(".graph-warnings").text_content()
            assert page.get_attribute(".graph-warnings", "open") is not None  # a few notes show open
        screenshot(page, "graphs_flat_50k")
        assert page.console_errors == [] and page.dialogs == []


def test_series_of_repeated_ops(page, tmp_path):
    from test_graphs_hierarchy import ADD_SERIES, repeated_nodes
    write_events(tmp_path / "repeated", [graph_event(repeated_nodes())])
    series = f".graph-node[data-id='{ADD_SERIES}']"
    with serve(tmp_path, "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        assert page.locator(".graph-node.series[data-id='Const_[0-4]']").count() == 1
        page.click(".graph-node.scope[data-id='block']")
        wait_version(page, 2)
        # collapsed: one stacked box labelled with the number range and the count, no member drawn
        assert page.locator(f"{series}.series:not(.expanded)").count() == 1
        assert page.locator(f"{series} rect.card").count() == 2
        assert page.locator(f"{series} .label").text_content() == "add_[1-12]"
        assert page.locator(f"{series} .count").text_content() == "12 × AddV2"
        assert page.locator(".graph-node[data-id='block/add_7']").count() == 0
        assert page.locator(".graph-node.op[data-parent='block']").count() == 6  # x, sum, mul_1..mul_4
        assert page.locator(".graph-node.series[data-parent='block']").count() == 4  # add, conv (2 ops), relu
        assert "12 tensors" in page.locator(".edge-label").all_text_contents()
        page.click("text=Fit to screen")
        screenshot(page, "graphs_series_collapsed")

        page.click(f"{series}")
        wait_version(page, 3)
        assert page.locator(f"{series}.series.expanded").count() == 1
        assert page.locator(f".graph-node.op[data-parent='{ADD_SERIES}']").count() == 12
        page.wait_for_function("(s) => document.querySelector('.graph-details h3')?.textContent === s", arg=ADD_SERIES)
        details = page.locator(".graph-details").text_content()
        assert "series" in details and "AddV2" in details and "block/add_12" in details
        page.click("text=Fit to screen")
        screenshot(page, "graphs_series_expanded")

        # a member's details say its real name and its series; a link in the series' list reveals it
        page.click(".graph-node.op[data-id='block/add_5']")
        page.wait_for_function("() => document.querySelector('.graph-details h3')?.textContent === 'block/add_5'")
        assert ADD_SERIES in page.locator(".graph-details").text_content()

        # collapse the series from its header, then collapse everything and search a member
        page.click(f"{series}.expanded .box-header")
        page.wait_for_function("(s) => !document.querySelector(s + '.expanded')", arg=series)
        page.click("text=Collapse all")
        page.wait_for_function("() => !document.querySelector(\".graph-node[data-id='block'].expanded\")")
        page.fill(".graph-search", "add_7")
        page.wait_for_selector(".graph-results li[data-name='block/add_7']", timeout=10000)
        page.click(".graph-results li[data-name='block/add_7']")
        page.wait_for_selector(".graph-node.selected[data-id='block/add_7']", timeout=10000)
        assert page.locator(".graph-node.expanded[data-id='block']").count() == 1
        assert page.locator(f"{series}.expanded").count() == 1

        # trace inputs of a member: its chain of predecessors and x light up, later members do not
        page.check(".graph-trace")
        page.wait_for_selector(".graph-node.traced[data-id='block/add_1']", timeout=10000)
        assert "traced" in page.locator(".graph-node[data-id='block/x']").get_attribute("class")
        assert "dimmed" in page.locator(".graph-node[data-id='block/add_9']").get_attribute("class")
        page.click("text=Fit to screen")
        screenshot(page, "graphs_series_search_trace")
        assert page.console_errors == [] and page.dialogs == []


def test_xor_auxiliary_stubs(page):
    """Edges to the side column (the summaries' Merge, layer1's histogram summaries) are short stubs."""
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        stubs = page.evaluate("() => [...document.querySelectorAll('.aux-stub')].map((g) => [g.dataset.node,"
                              " g.dataset.dir, g.dataset.other, Number(g.dataset.count)])")
        assert sorted(stubs) == sorted([["layer1", "out", "Merge", 3], ["layer2", "out", "Merge", 3],
                                        ["cost", "out", "Merge", 1], ["accuracy", "out", "Merge", 1],
                                        ["Merge", "in", "layer1", 8]])  # one in-stub, all 8 tensors
        assert page.locator(".graph-edge[data-to='Merge']").count() == 0  # no edge across the drawing
        title = page.locator(".aux-stub[data-node='layer1'][data-dir='out'] title").text_content()
        assert "Merge" in title and "3 tensors" in title
        merge_in = page.locator(".aux-stub[data-node='Merge'][data-dir='in'] title").text_content()
        assert all(name in merge_in for name in ("layer1", "layer2", "cost", "accuracy")) and "8 tensors" in merge_in
        # the stub leaves the main node's right side, the aux node's left side
        box = page.evaluate("""() => {
            const r = (s) => document.querySelector(s).getBBox();
            return [r(".graph-node[data-id='layer1'] rect"), r(".aux-stub[data-node='layer1'] .stub-line"),
                    r(".graph-node[data-id='Merge'] rect"), r(".aux-stub[data-node='Merge'] .stub-line")]
                .map((b) => [b.x, b.x + b.width]); }""")
        assert abs(box[1][0] - box[0][1]) < 0.5 and abs(box[3][1] - box[2][0]) < 0.5

        page.hover(".aux-stub[data-node='cost']")
        page.wait_for_selector(".graph-node.stub-peer[data-id='Merge']")
        page.click(".aux-stub[data-node='cost']")
        page.wait_for_selector(".graph-node.selected[data-id='Merge']")
        page.wait_for_function("() => document.querySelector('.graph-details h3')?.textContent === 'Merge'")
        assert page.locator(".graph-node.aux-peer").count() == 4  # Merge's other ends light up
        links = page.locator(".graph-details .aux-links a").all_text_contents()
        assert sorted(links) == ["accuracy", "cost", "layer1", "layer2"]
        screenshot(page, "graphs_xor_aux_stubs")

        # inside layer1 the histogram summaries are aside too: weight1 -> weights1 is a stub
        page.click(".graph-node.scope[data-id='layer1']")
        wait_version(page, 2)
        stub = page.locator(".aux-stub[data-node='layer1/weight1'][data-dir='out']")
        assert "layer1/weights1" in stub.locator("title").text_content()
        stub.click()
        page.wait_for_selector(".graph-node.selected[data-id='layer1/weights1']")
        page.wait_for_function("() => document.querySelector('.graph-details h3')?.textContent === 'layer1/weights1'")
        page.click("text=Fit to screen")
        screenshot(page, "graphs_xor_aux_stubs_layer1")
        assert page.console_errors == [] and page.dialogs == []


OVERLAPS = """() => {
    const rect = (el) => { const b = el.getBBox(); return {x: b.x, y: b.y, r: b.x + b.width, b: b.y + b.height}; };
    const hit = (a, b) => a.x < b.r && b.x < a.r && a.y < b.b && b.y < a.b;
    const labels = [...document.querySelectorAll('.edge-label')].map((t) => [t.textContent, rect(t)]);
    const nodes = [...document.querySelectorAll('.graph-node:not(.expanded), .graph-node.expanded > .box-header')]
        .map((g) => [g.dataset.id || g.parentNode.dataset.id, rect(g)]);  // an open box: its header
    const out = [];
    labels.forEach(([text, a], i) => {
        labels.slice(i + 1).forEach(([other, b]) => { if (hit(a, b)) out.push(`${text} / ${other}`); });
        nodes.forEach(([id, b]) => { if (hit(a, b)) out.push(`${text} / node ${id}`); });
    });
    return {labels: labels.length, overlaps: out};
}"""


def test_edge_labels_overlap_no_node_and_no_other_label(page):
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        version = 1
        for scope in (None, "layer1", "train"):
            if scope:
                page.locator(f".graph-node.scope[data-id='{scope}']").dispatch_event("click")
                version += 1
                wait_version(page, version)
            found = page.evaluate(OVERLAPS)
            assert found["labels"] >= 5 and found["overlaps"] == [], (scope, found)
        screenshot(page, "graphs_xor_edge_labels")


def test_trace_lights_the_stubs_on_the_traced_path(page):
    """Stubs are edges to the side column: tracing the summary Merge op's inputs lights every stub into it
    (both ends); tracing x-input (which has no inputs) dims them all."""
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "0") as url:
        wait_loaded(url)
        open_graphs(page, url)
        stubs = ".aux-stub"
        total = page.locator(stubs).count()
        assert total == 5
        page.locator(".graph-node[data-id='Merge']").dispatch_event("click")  # open the box
        wait_version(page, 2)
        page.check(".graph-trace")
        page.locator(".graph-node[data-id='Merge/MergeSummary']").dispatch_event("click")
        page.wait_for_function(f"() => document.querySelectorAll('{stubs}.traced').length === {total}")
        strokes = page.evaluate("""() => ['layer1', 'cost', 'x-input', 'train'].map((id) => getComputedStyle(
            document.querySelector(`.graph-node[data-id='${id}'] > rect`)).stroke)""")
        assert strokes[:3] == ["rgb(216, 67, 21)"] * 3 and strokes[3] != strokes[0]  # traced scopes show it too
        screenshot(page, "graphs_xor_trace_stubs")
        page.locator(".graph-node[data-id='x-input']").dispatch_event("click")
        page.wait_for_function(f"() => document.querySelectorAll('{stubs}.dimmed').length === {total}")
        assert page.locator(f"{stubs}.traced").count() == 0

