"""Text summaries: served as TensorBoard read them, rendered as markdown in the page without markup injection."""
from __future__ import annotations

import urllib.parse

import pytest

from conftest import FIXTURES, expected, get_json, screenshot, serve, wait_loaded


@pytest.mark.parametrize("fixture", ["tf2_native", "tbx"])
def test_text_route_equals_tensorboard(fixture):
    with serve(FIXTURES / fixture, "--reload_interval", "0") as url:
        wait_loaded(url)
        tags = get_json(url + "data/plugin/text/tags")
        for run, data in expected(fixture)["runs"].items():
            want = data.get("text", {})
            assert sorted(tags.get(run, [])) == sorted(want), run
            for tag, points in want.items():
                got = get_json(url + "data/plugin/text/text?" + urllib.parse.urlencode({"run": run, "tag": tag}))
                got = sorted(got, key=lambda p: p["step"])
                assert [(p["step"], p["shape"], p["text"]) for p in got] == \
                       [(p["step"], p["shape"], p["text"]) for p in points]


HOSTILE = ("# Title\n\n**bold** [ok](https://example.com) [bad](javascript:alert(3))\n\n| a | b |\n|---|---|\n"
           "| 1 | <img src=x onerror=alert(4)> |\n\n<script>alert(5)</script>\n\n- one\n- two\n")


@pytest.mark.browser
def test_markdown_is_rendered_and_markup_stays_text(page, tmp_logdir):
    from summaries.summary.writer import SummaryWriter
    with SummaryWriter(str(tmp_logdir / "<b>run</b>")) as w:
        w.add_text("notes", HOSTILE, 0)
    with serve(FIXTURES / "tf2_native", "--reload_interval", "0") as tf2, \
            serve(tmp_logdir, "--reload_interval", "0") as url:
        page.goto(url + "#text")
        card = page.locator(".text-card").first
        card.locator("h1").wait_for(timeout=15000)
        assert card.locator("h1").text_content() == "Title"
        assert card.locator("strong").text_content() == "bold"
        links = card.locator("a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
        assert links == ["https://example.com"]  # the javascript: link is left as text
        assert card.locator("td").nth(1).text_content() == "<img src=x onerror=alert(4)>"
        assert card.locator("img").count() == 0 and card.locator("script").count() == 0
        assert "<script>alert(5)</script>" in card.text_content()
        assert card.locator("li").count() == 2
        assert page.locator(".card-run .run-name").first.text_content() == "<b>run</b>"
        screenshot(page, "text_hostile_markdown")

        page.goto(tf2 + "#text")
        matrix = page.locator(".card[data-tag='notes/matrix'] table.text-tensor")
        matrix.wait_for(timeout=15000)
        assert matrix.locator("td").all_text_contents() == ["a", "b", "c", "d"]
        table = page.locator(".card[data-tag='notes'] .markdown table")
        assert table.count() >= 1  # the markdown table of the TF2 fixture
        screenshot(page, "text_tf2")
        assert not page.console_errors and not page.dialogs
