"""Projector: SummaryWriter.add_embedding against tensorboardX 2.6.5's files (tests/data/projector/, made by
make_reference.py there) and real TensorBoard's projector plugin; the server's routes against numpy's SVD and
against hostile configs; the tab in a real browser."""
from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from conftest import get_json, load_script, screenshot, serve, tb_multiplexer, wait_loaded
from pngdecode import decode_png
from board_server.app import create_app
from board_server.plugins import projector as plugin
from summaries.summary.embedding import encode_tag
from summaries.summary.writer import SummaryWriter

REFERENCE = Path(__file__).resolve().parent / "data" / "projector"
MAKER = load_script(REFERENCE / "make_reference.py")


def written_files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and "tfevents" not in p.name}


def write_case(logdir: Path, calls: list[dict]) -> None:
    with SummaryWriter(logdir) as writer:
        for kwargs in calls:
            writer.add_embedding(**kwargs)


# -- writer: the files tensorboardX writes ------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(MAKER.cases()))
def test_files_equal_tensorboardx(tmp_path, case):
    calls = MAKER.cases()[case]
    write_case(tmp_path, calls)
    ours, theirs = written_files(tmp_path), written_files(REFERENCE / case)
    assert sorted(ours) == sorted(theirs)
    for rel, path in theirs.items():
        if rel.endswith(".png"):
            continue
        assert ours[rel].read_bytes() == path.read_bytes(), rel
    for rel in (r for r in theirs if r.endswith("sprite.png")):
        mine, ref = decode_png(ours[rel].read_bytes()), decode_png(theirs[rel].read_bytes())
        assert mine.shape == ref.shape and mine.shape[2] == 3
        img = next(c["label_img"] for c in calls if encode_tag(c.get("tag", "default")) in rel)
        n, _, h, w = img.shape
        per_row = mine.shape[1] // w
        rows = -(-n // per_row)
        # tensorboardX leaves the rows below the last image uninitialized: compare the images' rows only
        np.testing.assert_array_equal(mine[:rows * h], ref[:rows * h])
        assert not mine[rows * h:].any()


def test_sprite_layout_is_square_row_major(tmp_path):
    img = np.zeros((5, 1, 4, 4), dtype=np.float32)
    for i in range(5):
        img[i] = (i + 1) / 10
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(np.eye(5), label_img=img)
    sprite = decode_png((tmp_path / "00000" / "default" / "sprite.png").read_bytes())
    assert sprite.shape == (12, 12, 3)  # ceil(sqrt(5)) = 3 images a row
    for i in range(5):
        y, x = divmod(i, 3)
        assert (sprite[y * 4:(y + 1) * 4, x * 4:(x + 1) * 4] == int((i + 1) / 10 * 255)).all()


def test_bad_inputs_write_nothing(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="2-D"):
            w.add_embedding(np.zeros(3))
        with pytest.raises(ValueError, match="labels"):
            w.add_embedding(np.zeros((3, 2)), metadata=["a"])
        with pytest.raises(ValueError, match="square"):
            w.add_embedding(np.zeros((2, 2)), label_img=np.zeros((2, 3, 4, 5)))
        with pytest.raises(ValueError, match="columns"):
            w.add_embedding(np.zeros((2, 2)), metadata=[["a", "b"], ["c"]], metadata_header=["x", "y"])
    assert written_files(tmp_path) == {}


def test_labels_with_tabs_and_newlines_keep_one_row_per_point(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(np.zeros((2, 2)), metadata=["a\tb", "c\nd"])
    assert (tmp_path / "00000/default/metadata.tsv").read_text() == "a b\nc d\n"


# -- real TensorBoard's projector plugin reads what we write --------------------------------------------------

def tb_projector(logdir: Path):
    """Real TensorBoard's ProjectorPlugin over `logdir` (it runs without TensorFlow for tensors.tsv files)."""
    from tensorboard.backend.event_processing.data_provider import MultiplexerDataProvider
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin
    tb = ProjectorPlugin(base_plugin.TBContext(logdir=str(logdir),
                                               data_provider=MultiplexerDataProvider(tb_multiplexer(logdir),
                                                                                     str(logdir))))
    apps = tb.get_plugin_apps()

    def get(route, **params):
        resp = Client(apps[route], Response).get(route + "?" + urllib.parse.urlencode(params))
        assert resp.status_code == 200, resp.get_data()
        return resp.get_data()
    return get


def test_real_tensorboard_reads_our_embeddings(tmp_path):
    rng = np.random.default_rng(3)
    mat = rng.normal(size=(9, 4)).astype(np.float32)
    second = rng.normal(size=(3, 2))
    labels = [f"p{i}" for i in range(9)]
    imgs = rng.random((9, 3, 5, 5))
    with SummaryWriter(tmp_path / "run") as w:
        w.add_embedding(mat, metadata=labels, label_img=imgs, global_step=2, tag="feat")
        w.add_embedding(second, metadata=[["a", 1], ["b", 2], ["c", 3]], metadata_header=["n", "k"], tag="x/y")
    get = tb_projector(tmp_path)
    assert json.loads(get("/runs")) == ["run"]
    info = json.loads(get("/info", run="run"))
    names = {e["tensorName"]: e for e in info["embeddings"]}
    assert set(names) == {"feat:00002", "x/y:00000"}
    assert names["feat:00002"]["tensorShape"] == [9, 4]
    assert names["feat:00002"]["sprite"]["singleImageDim"] == [5, 5]
    np.testing.assert_array_equal(np.frombuffer(get("/tensor", run="run", name="feat:00002"), "<f4").reshape(9, 4),
                                  mat)
    np.testing.assert_array_equal(np.frombuffer(get("/tensor", run="run", name="x/y:00000"), "<f4").reshape(3, 2),
                                  second.astype(np.float32))
    assert get("/metadata", run="run", name="feat:00002").decode() == "".join(x + "\n" for x in labels)
    assert get("/metadata", run="run", name="x/y:00000").decode() == "n\tk\na\t1\nb\t2\nc\t3\n"
    sprite = decode_png(get("/sprite_image", run="run", name="feat:00002"))
    np.testing.assert_array_equal(sprite[:5, :5], (imgs[0].transpose(1, 2, 0) * 255).astype(np.uint8))


# -- our routes ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def projector_logdir(tmp_path_factory) -> Path:
    logdir = tmp_path_factory.mktemp("projector") / "logs"
    rng = np.random.default_rng(8)
    with SummaryWriter(logdir / "good") as w:
        base = rng.normal(size=(60, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
        w.add_embedding(base @ np.linalg.qr(rng.normal(size=(6, 6)))[0], metadata=[f"c{i % 3}" for i in range(60)],
                        label_img=rng.random((60, 1, 4, 4)), tag="emb")
        w.add_embedding(rng.normal(size=(5, 3)), metadata=[["a", "x"]] * 5, metadata_header=["name", "kind"],
                        tag="cols", global_step=1)
    bad = logdir / "bad"
    with SummaryWriter(bad) as w:
        w.add_scalar("s", 1.0, 0)
    outside = logdir.parent / "outside.tsv"
    outside.write_text("1\t2\n3\t4\n")
    (bad / "inner").mkdir()
    (bad / "inner" / "link.tsv").symlink_to(outside)
    (bad / "linkdir").symlink_to(logdir.parent, target_is_directory=True)
    (bad / "ok.tsv").write_text("1\t2\n3\t5\n4\t4\n")
    (bad / "notnum.tsv").write_text("1\tx\n")
    (bad / "ragged.tsv").write_text("1\t2\n3\n")
    (bad / "nan.tsv").write_text("nan\t1\n2\t3\n")
    entries = {"dotdot": "../outside.tsv", "abs": str(outside), "sub_dotdot": "inner/../../outside.tsv",
               "link": "inner/link.tsv", "linkdir": "linkdir/outside.tsv", "missing": "nope.tsv", "dir": "inner",
               "notnum": "notnum.tsv", "ragged": "ragged.tsv", "nan": "nan.tsv"}
    text = "".join(f'embeddings {{\n  tensor_name: "{k}"\n  tensor_path: "{v}"\n}}\n' for k, v in entries.items())
    text += 'embeddings { tensor_name: "meta_out" tensor_path: "ok.tsv" metadata_path: "../outside.tsv" }\n'
    text += 'embeddings { tensor_name: "sprite_out" tensor_path: "ok.tsv" sprite { image_path: "/etc/passwd" } }\n'
    text += 'embeddings { tensor_name: "short_meta" tensor_path: "ok.tsv" metadata_path: "ok.tsv" }\n'
    text += "embeddings { tensor_name: 'ckpt' }\n"
    (bad / "projector_config.pbtxt").write_text(text)
    broken = logdir / "broken"
    with SummaryWriter(broken) as w:
        w.add_scalar("s", 1.0, 0)
    (broken / "projector_config.pbtxt").write_text("embeddings { tensor_name: \"x\"\n")
    linked = logdir / "linked_config"
    with SummaryWriter(linked) as w:
        w.add_scalar("s", 1.0, 0)
    (linked / "projector_config.pbtxt").symlink_to(REFERENCE / "labels_and_sprite" / "projector_config.pbtxt")
    return logdir


@pytest.fixture(scope="module")
def client(projector_logdir):
    from board_server.data.logdir import LogdirProvider
    provider = LogdirProvider([("", str(projector_logdir))], reload_interval=0, workers=1).start()
    assert provider.wait_loaded(60)
    yield create_app(provider).test_client()
    provider.stop()


def answer(client, route: str, status: int = 200, **params):
    resp = client.get(f"/data/plugin/projector/{route}?" + urllib.parse.urlencode(params))
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    return resp


def test_runs_lists_embeddings_and_errors(client):
    runs = {r["run"]: r for r in answer(client, "runs").get_json()["runs"]}
    assert set(runs) == {"good", "bad", "broken", "linked_config"}
    good = {e["name"]: e for e in runs["good"]["embeddings"]}
    assert set(good) == {"emb:00000", "cols:00001"} and runs["good"]["error"] is None
    assert good["emb:00000"]["sprite"] == {"image_path": "00000/emb/sprite.png", "single_image_dim": [4, 4]}
    assert good["cols:00001"]["metadata_path"] == "00001/cols/metadata.tsv"
    assert "not a projector config" in runs["broken"]["error"] and runs["broken"]["embeddings"] == []
    assert "symlink" in runs["linked_config"]["error"] and runs["linked_config"]["embeddings"] == []
    ckpt = next(e for e in runs["bad"]["embeddings"] if e["name"] == "ckpt")
    assert "checkpoint" in ckpt["error"]
    listing = client.get("/data/plugins_listing").get_json()
    assert list(listing)[-1] == "projector" and listing["projector"]["enabled"]


def test_pca_equals_numpy_svd(client, projector_logdir):
    got = answer(client, "pca", run="good", name="emb:00000").get_json()
    mat = np.loadtxt(projector_logdir / "good" / "00000" / "emb" / "tensors.tsv", delimiter="\t")
    centered = mat - mat.mean(axis=0)
    u, s, _ = np.linalg.svd(centered, full_matrices=False)
    assert got["points"] == got["total_points"] == 60 and not got["truncated"] and got["dimensions"] == 6
    assert len(got["components"]) == 3
    for j in range(3):
        ours, want = np.array(got["components"][j]), u[:, j] * s[j]
        sign = np.sign(ours @ want)
        np.testing.assert_allclose(ours * sign, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got["variance"], s[:3] ** 2 / np.sum(s ** 2), rtol=1e-9)
    assert got["metadata"] == {"columns": ["label"], "values": [[f"c{i % 3}" for i in range(60)]]}
    assert got["sprite"] == {"single_image_dim": [4, 4]}
    cols = answer(client, "pca", run="good", name="cols:00001").get_json()
    assert cols["metadata"] == {"columns": ["name", "kind"], "values": [["a"] * 5, ["x"] * 5]}


def test_pca_caps_points(client, projector_logdir, monkeypatch):
    monkeypatch.setattr(plugin, "MAX_POINTS", 25)
    got = answer(client, "pca", run="good", name="emb:00000").get_json()
    assert (got["points"], got["total_points"], got["truncated"], got["max_points"]) == (25, 60, True, 25)
    mat = np.loadtxt(projector_logdir / "good" / "00000" / "emb" / "tensors.tsv", delimiter="\t")[:25]
    _, s, _ = np.linalg.svd(mat - mat.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(got["variance"], s[:3] ** 2 / np.sum(s ** 2), rtol=1e-9)
    assert got["metadata"]["values"][0] == [f"c{i % 3}" for i in range(25)]


def test_sprite_route_serves_the_png(client, projector_logdir):
    resp = answer(client, "sprite", run="good", name="emb:00000")
    assert resp.mimetype == "image/png"
    assert resp.get_data() == (projector_logdir / "good" / "00000" / "emb" / "sprite.png").read_bytes()


@pytest.mark.parametrize("name,status,words", [
    ("dotdot", 400, "leaves"), ("abs", 400, "not relative"), ("sub_dotdot", 400, "leaves"),
    ("link", 400, "symlink"), ("linkdir", 400, "symlink"), ("missing", 404, "no file"), ("dir", 400, "regular"),
    ("meta_out", 400, "leaves"), ("short_meta", 400, "metadata has"), ("ckpt", 400, "checkpoint"),
    ("notnum", 400, "numbers"), ("ragged", 400, "numbers"), ("nan", 400, "NaN"), ("nope", 404, "no embedding")])
def test_bad_configs_are_refused_with_json(client, name, status, words):
    payload = answer(client, "pca", status, run="bad", name=name).get_json()
    assert words in payload["error"] and "'bad'" in payload["error"], payload
    assert "Traceback" not in payload["error"] and "1\t2\n3\t4" not in json.dumps(payload)


def test_sprite_and_run_errors(client):
    assert "not relative" in answer(client, "sprite", 400, run="bad", name="sprite_out").get_json()["error"]
    assert "no sprite" in answer(client, "sprite", 404, run="good", name="cols:00001").get_json()["error"]
    for run in ("../good", "/etc", "nope", "good/00000"):
        assert "no run" in answer(client, "pca", 404, run=run, name="emb:00000").get_json()["error"]
    assert "required" in answer(client, "pca", 400, run="good").get_json()["error"]
    assert "not a projector config" in answer(client, "pca", 400, run="broken", name="x").get_json()["error"]


# -- the tab in a real browser ------------------------------------------------------------------------------------

def test_projector_tab_in_browser(page, tmp_path):
    rng = np.random.default_rng(2)
    classes = ["alpha", "beta", "gamma"]
    centers = np.array([[0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]], dtype=float)
    labels = [classes[i % 3] for i in range(90)]
    mat = centers[[i % 3 for i in range(90)]] + rng.normal(0, 0.5, (90, 4))
    names = [f"{c}-{i}" for i, c in enumerate(labels)]
    with SummaryWriter(tmp_path / "run") as w:
        w.add_scalar("s", 1.0, 0)
        w.add_embedding(mat, metadata=[[n, c] for n, c in zip(names, labels)], metadata_header=["name", "class"],
                        label_img=rng.random((90, 3, 6, 6)), tag="emb")
    with serve(tmp_path, "--reload_interval", "0") as url:
        wait_loaded(url)
        page.goto(url + "#projector")
        page.wait_for_selector("canvas.pj-canvas[data-points-drawn='90']", timeout=20000)
        options = page.eval_on_selector_all("select[aria-label='Embedding'] option", "os => os.map(o => o.text)")
        assert options == ["run — emb:00000"]
        x_labels = page.eval_on_selector_all("select[aria-label='X axis component'] option",
                                             "os => os.map(o => o.text)")
        assert len(x_labels) == 3 and all("% variance" in t for t in x_labels)
        painted = page.evaluate("""() => {
            const c = document.querySelector('canvas.pj-canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n; }""")
        assert painted > 90 * 4
        box = page.locator("canvas.pj-canvas").bounding_box()
        sx, sy = page.evaluate("() => document.querySelector('canvas.pj-canvas').pointScreen(7)")
        page.mouse.move(box["x"] + sx, box["y"] + sy)
        page.wait_for_selector("#tooltip:not([hidden]) .pj-tip", timeout=5000)
        hovered = int(page.get_attribute("canvas.pj-canvas", "data-hovered"))
        tip = page.inner_text("#tooltip")
        assert names[hovered] in tip and labels[hovered] in tip and labels[hovered] == labels[7]
        page.wait_for_selector("#tooltip canvas.pj-thumb", timeout=5000)
        screenshot(page, "projector_hover")
        page.select_option("select[aria-label='Color by']", "class")
        page.wait_for_selector(".pj-legend-item", timeout=5000)
        legend = page.eval_on_selector_all(".pj-legend-item", "items => items.map(i => i.dataset.value)")
        assert legend == classes
        page.fill("input.pj-search", "beta")
        page.wait_for_selector("canvas.pj-canvas[data-matches='30']", timeout=5000)
        page.mouse.move(box["x"] + 5, box["y"] + 5)
        screenshot(page, "projector_color_search")
        page.select_option("select[aria-label='Y axis component']", "2")
        page.wait_for_selector("canvas.pj-canvas[data-points-drawn='90']", timeout=5000)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, -1500)  # zoom in about the center: some points leave the canvas
        page.wait_for_function("() => Number(document.querySelector('canvas.pj-canvas').dataset.pointsDrawn) < 90",
                               timeout=5000)
        page.dblclick("canvas.pj-canvas")
        page.wait_for_selector("canvas.pj-canvas[data-points-drawn='90']", timeout=5000)
    assert page.console_errors == [] and page.dialogs == []


def test_odd_configs_and_inputs_are_4xx_never_500(tmp_path, monkeypatch):
    """Found in review: configs a hand-written parser did not foresee made /runs a 500 for every run; a logdir
    reached through a symlink made the projector a 500; a wide file within the byte cap could take minutes."""
    real = tmp_path / "real"
    write_case(real / "ok", [{"mat": np.arange(40.0).reshape(10, 4) ** 1.5, "metadata": [f"p{i}" for i in range(10)],
                              "tag": "fine"}])
    configs = {"superscript": 'embeddings { tensor_name: "a" tensor_path: "t.tsv" tensor_shape: ² }',
               "message_path": 'embeddings { tensor_name: "a" tensor_path { } }',
               "deep": "embeddings " + "{ a " * 5000 + "}" * 5000,
               "nested_list": "embeddings { tensor_shape: [[[[1]]]] }",
               "huge_sprite": 'embeddings { tensor_name: "a" tensor_path: "t.tsv" sprite { image_path: "s.png" '
                              'single_image_dim: 99999999 single_image_dim: 0 } }'}
    for run, text in configs.items():
        with SummaryWriter(real / run) as w:
            w.add_scalar("s", 1.0, 0)
        (real / run / "projector_config.pbtxt").write_text(text)
        (real / run / "t.tsv").write_text("1\t2\n3\t5\n4\t4\n")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    from board_server.data.logdir import LogdirProvider
    provider = LogdirProvider([("", str(link))], reload_interval=0, workers=1).start()
    try:
        assert provider.wait_loaded(60)
        client = create_app(provider).test_client()
        runs = {r["run"]: r for r in answer(client, "runs").get_json()["runs"]}
        assert runs["ok"]["error"] is None and runs["huge_sprite"]["embeddings"][0]["sprite"]["single_image_dim"] is None
        for run in ("superscript", "message_path", "deep", "nested_list"):  # unreadable: said for this run alone
            assert runs[run]["error"] and not runs[run]["embeddings"], (run, runs[run])
            assert "projector config" in answer(client, "pca", 400, run=run, name="a").get_json()["error"]
        got = answer(client, "pca", run="ok", name="fine:00000").get_json()  # through the symlinked logdir
        assert got["points"] == 10 and got["metadata"]["values"][0] == [f"p{i}" for i in range(10)]
        assert answer(client, "pca", run="huge_sprite", name="a").get_json()["sprite"] is None
        monkeypatch.setattr(plugin, "MAX_VALUES", 12)  # 4 columns: 3 rows fit
        got = answer(client, "pca", run="ok", name="fine:00000").get_json()
        assert (got["points"], got["total_points"], got["truncated"]) == (3, 10, True)
        assert got["metadata"]["values"][0] == ["p0", "p1", "p2"]
    finally:
        provider.stop()
    for tag in ("..", ".", ""):
        with pytest.raises(ValueError, match="directory of its own"):
            write_case(tmp_path / "w", [{"mat": np.zeros((2, 2)), "tag": tag}])
