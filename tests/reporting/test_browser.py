"""The rendered HTML report in headless Chromium: loads offline, requests nothing external."""

from __future__ import annotations

import pytest

from evaluation.reporting.browser import check_html_in_chromium, find_chromium, find_external_resources, network_requests
from evaluation.reporting.render import render_project

from test_render import SECTIONS, make_project  # noqa: E402  (tests/ is on sys.path)


def test_static_check_finds_external_loads_but_allows_links():
    html = """<html><head><link rel="stylesheet" href="https://cdn.example.org/x.css">
    <style>@import "//fonts.example.org/f.css"; body { background: url('https://example.org/b.png') }</style>
    <script src="http://example.org/mathjax.js"></script></head>
    <body><a href="https://star.dk">STAR</a><img src="data:image/png;base64,AAAA">
    <img srcset="figures/a.png 1x, https://example.org/a2.png 2x"><div style="background:url(http://x.org/y.png)"></div>
    </body></html>"""
    found = find_external_resources(html)
    assert len(found) == 6
    assert not any("star.dk" in f for f in found)
    assert find_external_resources("<html><body><a href='https://star.dk'>x</a><img src='figures/a.png'></body></html>") == []


def test_network_log_parsing_ignores_chromium_own_pings():
    log = (
        "[1:2:VERBOSE1:net/base/network_delegate.cc:38] NetworkDelegate::NotifyBeforeURLRequest: "
        "http://clients2.google.com/time/1/current?x=1\n"
        "[1:2:VERBOSE1:net/base/network_delegate.cc:38] NetworkDelegate::NotifyBeforeURLRequest: "
        "https://fonts.googleapis.com/css?family=Roboto\n"
    )
    assert network_requests(log) == ["https://fonts.googleapis.com/css?family=Roboto"]


needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
)


@pytest.mark.browser
@needs_chromium
def test_report_loads_in_chromium_without_network(tmp_path):
    project = make_project(tmp_path / "rapport")
    out = render_project(project, formats=("html",), engine="pandoc")
    shot = tmp_path / "shot.png"
    res = check_html_in_chromium(out["html"], screenshot=shot, window_size=(1000, 1400))
    assert res["loaded"], res["stderr"][-2000:]
    assert res["external_requests"] == []
    assert res["static_external"] == []
    for heading in SECTIONS:
        assert heading in res["dom"]
    assert "Ærø" in res["dom"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a page with content, not a blank image


@pytest.mark.browser
@needs_chromium
def test_chromium_reports_external_requests(tmp_path):
    page = tmp_path / "ekstern.html"
    page.write_text('<html><body><p>x</p><img src="https://example.invalid/a.png"></body></html>', encoding="utf-8")
    res = check_html_in_chromium(page)
    assert res["loaded"]
    assert res["external_requests"] == ["https://example.invalid/a.png"]
    assert res["static_external"] == ["<img src>: https://example.invalid/a.png"]
