"""Audio dashboard: clips written by our SummaryWriter and by TensorBoard's own protos (TF1 Summary.Audio,
TF2 [k, 2] audio tensors), served by the real CLI and checked against real TensorBoard's audio plugin
and the stdlib `wave` decoder; then the Audio tab in headless Chromium."""
from __future__ import annotations

import io
import json
import urllib.parse
import wave

import numpy as np
import pytest

from conftest import FIXTURES, fetch, get_json, screenshot, serve, tb_multiplexer, wait_loaded

RATE = 8000
FRAMES = 4000  # half a second
HOSTILE_RUN = "<img src=x onerror=alert(1)>"
HOSTILE_TAG = "<b onmouseover=alert(2)>\"'&amp;</b>"


def sine(freq: float, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(FRAMES) / RATE)


def wav_bytes(pcm: np.ndarray, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


def write_logdir(root) -> dict:
    """Every form of audio summary; returns (run, tag, step, sample) -> (what was written, exact?)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorboard.plugins.audio import metadata
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    from summaries.summary import builders
    from summaries.summary.writer import SummaryWriter

    truth = {}
    with SummaryWriter(str(root / "ours")) as w:
        for step, freq in ((0, 440.0), (1, 660.0)):
            w.add_audio("tone/sine", sine(freq), step, sample_rate=RATE)
            truth["ours", "tone/sine", step, 0] = (sine(freq), False)
            pair = np.stack([sine(freq * 2, 0.25), sine(freq * 3, 0.75)])  # two clips: TF1 tags pair/audio/{0,1}
            w.file_writer.add_summary(builders.audio("pair", pair, RATE, max_outputs=2), step)
            for k in range(2):
                truth["ours", f"pair/audio/{k}", step, 0] = (pair[k], False)
    with SummaryWriter(str(root / HOSTILE_RUN)) as w:
        w.add_audio(HOSTILE_TAG, sine(220), 5, sample_rate=RATE)
        truth[HOSTILE_RUN, HOSTILE_TAG, 5, 0] = (sine(220), False)

    writer = EventFileWriter(str(root / "protos"))
    dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=2)] * 2
    for step in (3, 7):
        clips = [(sine(100.0 * step + 50 * k, 0.6) * 32767).astype(np.int16) for k in range(2)]
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=dims), string_val=[wav_bytes(clips[0]), b"first", wav_bytes(clips[1]), b"second"])
        tf2 = summary_pb2.Summary.Value(tag="batch/clips", tensor=tensor, metadata=metadata.create_summary_metadata(
            "Clips", "two per step", metadata.Encoding.Value("WAV")))
        stereo = np.stack([clips[0], -clips[1]], axis=1)  # frames x channels
        tf1 = summary_pb2.Summary.Value(tag="legacy/stereo", audio=summary_pb2.Summary.Audio(
            sample_rate=RATE, num_channels=2, length_frames=FRAMES, encoded_audio_string=wav_bytes(stereo, 2),
            content_type="audio/wav"))
        writer.add_event(event_pb2.Event(wall_time=1000.0 + step, step=step,
                                         summary=summary_pb2.Summary(value=[tf2, tf1])))
        truth["protos", "batch/clips", step, 0] = (clips[0], True)
        truth["protos", "batch/clips", step, 1] = (clips[1], True)
        truth["protos", "legacy/stereo", step, 0] = (stereo, True)
    writer.close()
    return truth


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio_logs")
    return root, write_logdir(root)


@pytest.fixture(scope="module")
def url(logdir):
    with serve(logdir[0], "--reload_interval", "0") as base:
        wait_loaded(base)
        yield base


@pytest.fixture(scope="module")
def tensorboard_audio(logdir):
    """Real TensorBoard's audio plugin over the same logdir: (plugin, request context, data provider)."""
    from tensorboard import context
    from tensorboard.backend.event_processing.data_provider import MultiplexerDataProvider
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.audio.audio_plugin import AudioPlugin
    multiplexer = tb_multiplexer(logdir[0], audio=0)
    provider = MultiplexerDataProvider(multiplexer, str(logdir[0]))
    return AudioPlugin(base_plugin.TBContext(data_provider=provider, logdir=str(logdir[0]))), \
        context.RequestContext(), provider


def route(base, path, **params):
    return base + "data/plugin/audio/" + path + "?" + urllib.parse.urlencode(params)


def test_tags_and_steps_match_tensorboard(url, tensorboard_audio):
    plugin, ctx, _ = tensorboard_audio
    want = plugin._index_impl(ctx, "")
    got = get_json(route(url, "tags"))
    assert {r: sorted(t) for r, t in got.items()} == {r: sorted(t) for r, t in want.items()}
    assert set(got) == {"ours", "protos", HOSTILE_RUN}
    for run, tags in want.items():
        for tag, info in tags.items():
            assert got[run][tag]["displayName"] == info["displayName"]
            assert got[run][tag]["samples"] == info["samples"]
            assert got[run][tag]["description"] in info["description"]  # TensorBoard renders it as HTML
            for sample in range(info["samples"]):
                tb = plugin._audio_response_for_run(ctx, "", run, tag, sample)
                ours = get_json(route(url, "audio", run=run, tag=tag, sample=sample))
                assert [p["step"] for p in ours] == [p["step"] for p in tb]
                assert [p["wall_time"] for p in ours] == pytest.approx([p["wall_time"] for p in tb], rel=1e-12)
                assert [(p["label"], p["contentType"]) for p in ours] == [(p["label"], p["contentType"]) for p in tb]
    assert got["protos"]["batch/clips"]["samples"] == 2 and got["protos"]["batch/clips"]["displayName"] == "Clips"


def test_clips_decode_to_the_written_samples(url, logdir, tensorboard_audio):
    _, truth = logdir
    plugin, ctx, provider = tensorboard_audio
    seen = set()
    for run, tags in get_json(route(url, "tags")).items():
        for tag, info in tags.items():
            for sample in range(info["samples"]):
                tb = plugin._audio_response_for_run(ctx, "", run, tag, sample)
                ours = get_json(route(url, "audio", run=run, tag=tag, sample=sample))
                for point, tb_point in zip(ours, tb, strict=True):
                    status, mime, body = fetch(url + "data/plugin/audio/individualAudio?" + point["query"])
                    assert (status, mime) == (200, "audio/wav")
                    blob_key = urllib.parse.parse_qs(tb_point["query"])["blob_key"][0]
                    assert body == provider.read_blob(ctx, blob_key=blob_key)  # what TensorBoard serves
                    written, exact = truth[run, tag, point["step"], sample]
                    with wave.open(io.BytesIO(body)) as w:
                        assert (w.getframerate(), w.getsampwidth()) == (RATE, 2)
                        assert w.getnchannels() == (written.shape[1] if written.ndim == 2 else 1)
                        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(written.shape)
                    if exact:
                        np.testing.assert_array_equal(pcm, written)
                    else:  # floats in [-1, 1] quantized to 16 bits: within one step
                        assert np.abs(pcm - written * 32767).max() <= 1.0
                    seen.add((run, tag, point["step"], sample))
    assert seen == set(truth)


def test_bad_requests_are_json_4xx(url):
    good = dict(run="ours", tag="tone/sine")
    bad = [(404, dict(good, index=2)), (404, dict(good, index=-1)), (404, dict(good, index=0, sample=1)),
           (404, dict(run="ours", tag="nope", index=0)), (404, dict(run="nope", tag="tone/sine", index=0)),
           (404, dict(run="../../../etc", tag="passwd", index=0)), (404, dict(run="/etc", tag="/etc/passwd", index=0)),
           (400, dict(good, index="1e9999")), (400, dict(good, index="0", sample="x")), (400, dict(good)),
           (400, dict(run="ours", index=0)), (400, dict(tag="tone/sine", index=0))]
    for want, params in bad:
        status, mime, body = fetch(route(url, "individualAudio", **params))
        assert (status, mime) == (want, "application/json"), params
        message = json.loads(body)["error"]
        assert b"Traceback" not in body
        if want == 404 and "run" in params and "tag" in params and params.get("index") != -1 and "sample" not in params:
            assert repr(params["run"]) in message and repr(params["tag"]) in message
    for want, params in [(404, dict(run="ours", tag="nope")), (404, dict(run="nope", tag="tone/sine")),
                         (400, dict(run="ours", tag="tone/sine", sample="-1")), (400, dict(run="ours"))]:
        status, mime, body = fetch(route(url, "audio", **params))
        assert (status, mime) == (want, "application/json") and "error" in json.loads(body), params
    # an audio route never serves another plugin's blob sequence, nor a request's idea of the content type
    status, mime, _ = fetch(route(url, "individualAudio", run="ours", tag="tone/sine", index=0,
                                  content_type="text/html"))
    assert (status, mime) == (200, "audio/wav")


def test_active_only_with_audio(url):
    assert get_json(url + "data/plugins_listing")["audio"]["enabled"] is True
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "0") as other:  # scalars and histograms only
        wait_loaded(other)
        assert get_json(other + "data/plugins_listing")["audio"]["enabled"] is False
        assert get_json(other + "data/plugin/audio/tags") == {}


def test_byte_ranges_for_seeking(url):
    full = fetch(route(url, "individualAudio", run="ours", tag="tone/sine", index=1))[2]
    status, mime, part = fetch(route(url, "individualAudio", run="ours", tag="tone/sine", index=1),
                               {"Range": "bytes=100-199"})
    assert (status, mime, part) == (206, "audio/wav", full[100:200])
    status, mime, _ = fetch(route(url, "individualAudio", run="ours", tag="tone/sine", index=1),
                            {"Range": f"bytes={len(full) + 10}-"})
    assert (status, mime) == (416, "application/json")


def test_sniffed_content_types():
    from board_server.plugins.audio import sniff_audio_type
    assert sniff_audio_type(wav_bytes(np.zeros(4, np.int16))) == "audio/wav"
    assert sniff_audio_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "application/octet-stream"
    assert sniff_audio_type(b"OggS\x00\x02") == "audio/ogg"
    assert sniff_audio_type(b"fLaC\x00\x00\x00\x22") == "audio/flac"
    assert sniff_audio_type(b"ID3\x04\x00") == "audio/mpeg"
    assert sniff_audio_type(b"\xff\xfb\x90\x64") == "audio/mpeg"  # MPEG-1 layer III frame
    assert sniff_audio_type(b"\xff\xf1\x50\x80") == "application/octet-stream"  # AAC ADTS is not MP3
    assert sniff_audio_type(b"<svg onload=alert(1)>") == "application/octet-stream"
    assert sniff_audio_type(b"") == "application/octet-stream"


CARD_AUDIO = """([run, tag]) => {
    const card = [...document.querySelectorAll('.pane[data-plugin=audio] .card')]
        .find((c) => c.dataset.run === run && c.dataset.tag === tag);
    const a = card && card.querySelector('audio');
    return a ? {ready: a.readyState, duration: a.duration, src: a.getAttribute('src'),
                step: card.querySelector('.step-label').textContent, error: a.error && a.error.code} : null;
}"""


def card_selector(page, run, tag):
    """The card (a Locator) whose run and tag may hold any characters."""
    page.wait_for_function("""([run, tag]) => [...document.querySelectorAll('.pane[data-plugin=audio] .card')]
        .some((c) => c.dataset.run === run && c.dataset.tag === tag)""", arg=[run, tag], timeout=15000)
    index = page.evaluate("""([run, tag]) => [...document.querySelectorAll('.pane[data-plugin=audio] .card')]
        .findIndex((c) => c.dataset.run === run && c.dataset.tag === tag)""", [run, tag])
    return page.locator(".pane[data-plugin=audio] .card").nth(index)


def wait_clip(page, run, tag, step):
    page.wait_for_function(f"""(args) => {{ const s = ({CARD_AUDIO})(args);
        return s && s.step === 'step {step}' && (s.ready >= 1 || s.error); }}""", arg=[run, tag], timeout=15000)
    state = page.evaluate(CARD_AUDIO, [run, tag])
    assert state["error"] is None, state
    return state


@pytest.mark.browser
def test_audio_tab_plays_clips(page, url):
    page.goto(url + "#audio")
    page.wait_for_selector(".tab.active[data-plugin=audio]", timeout=15000)
    tabs = page.eval_on_selector_all("#tabs .tab", "(ts) => ts.map((t) => t.dataset.plugin)")
    assert tabs.index("audio") == tabs.index("images") + 1
    assert "inactive" not in page.get_attribute(".tab[data-plugin=audio]", "class")
    page.wait_for_selector(".pane[data-plugin=audio] .group", timeout=15000)
    closed = page.locator(".pane[data-plugin=audio] .group-header[aria-expanded=false]")
    for _ in range(50):  # only the first groups start open; each click redraws the groups
        if not closed.count():
            break
        closed.first.click()
    assert not closed.count(), "groups still closed after 50 clicks"
    card = card_selector(page, "ours", "tone/sine")
    card.scroll_into_view_if_needed()
    last = wait_clip(page, "ours", "tone/sine", 1)  # follows the latest step
    assert last["duration"] == pytest.approx(FRAMES / RATE, rel=0.01)
    assert card.locator(".wall-label").text_content()
    card.locator(".step-slider").fill("0")
    first = wait_clip(page, "ours", "tone/sine", 0)
    assert first["src"] != last["src"] and "index=0" in first["src"]
    assert first["duration"] == pytest.approx(FRAMES / RATE, rel=0.01)

    clips = card_selector(page, "protos", "batch/clips")
    clips.scroll_into_view_if_needed()
    before = wait_clip(page, "protos", "batch/clips", 7)
    assert clips.locator(".sample-label").text_content() == "sample 1 of 2"
    clips.locator(".sample-slider").fill("1")
    page.wait_for_function(f"(args) => {{ const s = ({CARD_AUDIO})(args); return s && s.src.includes('sample=1'); }}",
                           arg=["protos", "batch/clips"], timeout=10000)
    after = wait_clip(page, "protos", "batch/clips", 7)
    assert after["src"] != before["src"] and after["duration"] == pytest.approx(FRAMES / RATE, rel=0.01)
    assert card_selector(page, "ours", "tone/sine").locator(".sample-slider").count() == 0

    hostile = card_selector(page, HOSTILE_RUN, HOSTILE_TAG)
    hostile.scroll_into_view_if_needed()
    wait_clip(page, HOSTILE_RUN, HOSTILE_TAG, 5)
    assert hostile.locator(".card-title").text_content() == HOSTILE_TAG
    assert hostile.locator(".run-name").text_content() == HOSTILE_RUN
    assert page.evaluate("() => document.querySelectorAll('img[src=x], .pane b[onmouseover]').length") == 0
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "audio_dashboard")
    assert not page.console_errors and not page.dialogs
