"""Check a rendered HTML report in headless Chromium, and statically for external resources.

A council member opens the report offline or behind a strict proxy, so the HTML must be
self-contained: :func:`find_external_resources` lists every ``src``/``href``/``url()`` that
would make the browser fetch something from the network (links in ``<a href>`` are navigation,
not loads, and are allowed). :func:`check_html_in_chromium` loads the file in headless Chromium,
returns the DOM it built, optionally a PNG screenshot, and the network requests Chromium logged
for anything other than the file itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..exceptions import RenderError

__all__ = ["find_chromium", "find_external_resources", "check_html_in_chromium", "network_requests", "CHROMIUM_FLAGS",
           "layout_in_chromium", "LAYOUT_PROBE"]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser",
               "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or ``None`` when none is installed.

    ``EVALUATION_CHROMIUM`` overrides the search.
    """
    env = os.environ.get("EVALUATION_CHROMIUM")
    candidates = ((env,) if env else ()) + _CANDIDATES
    for c in candidates:
        path = c if os.path.isabs(c) else shutil.which(c)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


_EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.I)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""", re.I)
# Attributes that make a browser load something (not <a href>, which is only a link).
_LOADING_ATTRS = {"src", "srcset", "poster", "data", "background", "xlink:href"}


class _ResourceParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def _check(self, value: str | None, where: str) -> None:
        if not value:
            return
        for part in value.split(","):  # srcset lists several URLs
            url = part.strip().split(" ")[0]
            if _EXTERNAL.match(url):
                self.found.append(f"{where}: {url}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name in _LOADING_ATTRS:
                self._check(value, f"<{tag} {name}>")
            elif name == "style" and value:
                self._css(value, f"<{tag} style>")
        if tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest", "import")):
                self._check(a.get("href"), f"<link rel={rel}>")
        if tag == "use" and a.get("href"):
            self._check(a.get("href"), "<use href>")
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data, "<style>")

    def _css(self, css: str, where: str) -> None:
        for m in _CSS_URL.finditer(css):
            url = m.group(1) or m.group(2)
            if url and _EXTERNAL.match(url):
                self.found.append(f"{where} url: {url.strip()}")


def find_external_resources(html: str | os.PathLike) -> list[str]:
    """Every reference in an HTML document that would be fetched from the network.

    Parameters
    ----------
    html : str or path-like
        The HTML text, or the path of an HTML file.

    Returns
    -------
    list of str
        One entry per external load (``"<img src>: https://…"``); empty for a self-contained file.
    """
    text = Path(html).read_text(encoding="utf-8") if isinstance(html, Path) or (
        isinstance(html, str) and "<" not in html and Path(html).is_file()) else str(html)
    p = _ResourceParser()
    p.feed(text)
    p.close()
    return p.found


def check_html_in_chromium(
    html_path: str | os.PathLike,
    screenshot: str | os.PathLike | None = None,
    *,
    window_size: tuple[int, int] = (1200, 1600),
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Load an HTML file in headless Chromium and report what happened.

    Parameters
    ----------
    html_path : path-like
    screenshot : path-like, optional
        Where to write a PNG screenshot of the first ``window_size`` pixels.
    window_size : (int, int)
    timeout : float
        Seconds per Chromium run.

    Returns
    -------
    dict
        ``loaded`` (bool: Chromium exited cleanly and produced a DOM with a ``<body>``),
        ``dom`` (serialised DOM after scripts ran), ``screenshot`` (Path or None),
        ``external_requests`` (URLs Chromium's log shows it tried to reach, other than the file),
        ``static_external`` (from :func:`find_external_resources`), ``stderr`` (Chromium's log).

    Raises
    ------
    RenderError
        When Chromium is not installed, the file does not exist or Chromium times out.
    """
    chromium = find_chromium()
    if chromium is None:
        raise RenderError("Chromium is not installed (apt-get install chromium)")
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise RenderError(f"{html_path} does not exist")
    url = html_path.as_uri()
    result: dict[str, Any] = {"screenshot": None}
    logs: list[str] = []
    with tempfile.TemporaryDirectory(prefix="evaluation-chromium-") as profile:
        base = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                "--vmodule=network_delegate=1",
                f"--window-size={window_size[0]},{window_size[1]}"]
        dom_proc = _run_chromium(base + ["--dump-dom", url], timeout)
        logs.append(dom_proc.stderr)
        result["dom"] = dom_proc.stdout
        ok = dom_proc.returncode == 0 and "<body" in dom_proc.stdout
        if screenshot is not None:
            shot = Path(screenshot).resolve()
            shot.parent.mkdir(parents=True, exist_ok=True)
            shot_proc = _run_chromium(base + [f"--screenshot={shot}", url], timeout, cwd=profile)
            logs.append(shot_proc.stderr)
            ok = ok and shot_proc.returncode == 0 and shot.is_file()
            result["screenshot"] = shot if shot.is_file() else None
    stderr = "\n".join(logs)
    result["loaded"] = ok
    result["stderr"] = stderr
    result["external_requests"] = network_requests(stderr)
    result["static_external"] = find_external_resources(html_path)
    return result


# Requests Chromium makes for itself even with background networking disabled (clock, account
# and component-update pings); anything else in the log was requested by the page.
_BROWSER_OWN = (
    "http://clients2.google.com/time/",
    "https://clients2.google.com/time/",
    "https://accounts.google.com/ListAccounts",
    "https://update.googleapis.com/service/update2",
    "http://update.googleapis.com/service/update2",
    "https://clientservices.googleapis.com/",
    "https://optimizationguide-pa.googleapis.com/",
    "https://safebrowsingohttpgateway.googleapis.com/",
    "https://redirector.gvt1.com/",
    "https://www.gstatic.com/chrome/",
)


def network_requests(log: str) -> list[str]:
    """URLs a Chromium log (``--vmodule=network_delegate=1``) shows the page requesting.

    Chromium's own pings (``_BROWSER_OWN``) are left out; ``file://`` and ``data:`` never reach
    the network delegate.
    """
    urls = []
    for m in re.finditer(r"NotifyBeforeURLRequest: (\S+)", log):
        url = m.group(1)
        if url.startswith(("http://", "https://")) and not url.startswith(_BROWSER_OWN):
            urls.append(url)
    return sorted(set(urls))


def _run_chromium(cmd: list[str], timeout: float, cwd: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Chromium did not finish within {timeout:g} seconds") from None


#: measures, after the page has loaded, what a reader at this window size sees: whether the page scrolls
#: sideways, every table against its wrapper, where the banner and the summary box start and end, and the
#: printed size of the logic model's smallest text (9 pt in a figure saved at 200 dpi)
LAYOUT_PROBE = r"""
<script>
window.addEventListener("load", function () {
  var out = {innerWidth: window.innerWidth, innerHeight: window.innerHeight,
             scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth,
             tables: [], blocks: {}, figures: []};
  document.querySelectorAll("main table, .before-toc table").forEach(function (t, i) {
    var wrap = t.closest(".table-wrap");
    var box = t.getBoundingClientRect();
    var style = wrap ? getComputedStyle(wrap).overflowX : "";
    out.tables.push({index: i, wrapped: !!wrap, tableWidth: t.scrollWidth,
                     wrapWidth: wrap ? wrap.clientWidth : null, wrapScroll: style,
                     right: box.right, left: box.left,
                     head: (t.querySelector("th, td") || {}).textContent || ""});
  });
  ["syntetiske-data", "kort-fortalt", "TOC"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) {
      var r = el.getBoundingClientRect();
      var first = el.querySelector("li, p");
      var f = first ? first.getBoundingClientRect() : r;
      out.blocks[id] = {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY,
                        firstLineBottom: f.top + window.scrollY + 24};
    }
  });
  document.querySelectorAll("img").forEach(function (img) {
    var src = img.getAttribute("src") || "";
    out.figures.push({alt: img.getAttribute("alt") || "", width: img.getBoundingClientRect().width,
                      naturalWidth: img.naturalWidth,
                      inScroller: !!img.closest(".figure-scroll"),
                      scrollerWidth: img.closest(".figure-scroll") ? img.closest(".figure-scroll").clientWidth : null});
  });
  var pre = document.createElement("pre");
  pre.id = "layout-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


_FRAME = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>html, body {{ margin: 0; padding: 0; }} iframe {{ border: 0; display: block; }}</style></head>
<body><iframe id="page" width="{width}" height="{height}" srcdoc="{srcdoc}"></iframe>
<script>
(function poll() {{
  var doc = document.getElementById("page").contentDocument;
  var probe = doc && doc.getElementById("layout-probe");
  if (probe) {{
    var pre = document.createElement("pre");
    pre.id = "layout-result";
    pre.textContent = probe.textContent;
    document.body.appendChild(pre);
  }} else {{
    setTimeout(poll, 50);
  }}
}})();
</script></body></html>
"""


def layout_in_chromium(html_path: str | os.PathLike, width: int, height: int = 844, *, timeout: float = 60.0) -> dict[str, Any]:
    """Open the HTML file in a ``width`` × ``height`` CSS-pixel frame in headless Chromium and return what
    :data:`LAYOUT_PROBE` measured (page and table widths, where the banner and summary sit, figure sizes).

    The report is shown in an iframe of exactly that size (headless Chromium will not make its window narrower
    than 500 pixels), so the page's media queries see a phone's width.

    Raises
    ------
    RenderError
        When Chromium is not installed or the probe did not run.
    """
    import html as _html
    import json

    chromium = find_chromium()
    if chromium is None:
        raise RenderError("Chromium is not installed (apt-get install chromium)")
    html_path = Path(html_path).resolve()
    text = html_path.read_text(encoding="utf-8")
    probed = text.replace("</body>", LAYOUT_PROBE + "</body>", 1)
    frame = _FRAME.format(width=width, height=height, srcdoc=_html.escape(probed, quote=True))
    with tempfile.TemporaryDirectory(prefix="evaluation-layout-") as tmp:
        page = Path(tmp) / "probe.html"
        page.write_text(frame, encoding="utf-8")
        profile = Path(tmp) / "profile"
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={max(width, 500) + 20},{height + 200}",
               "--virtual-time-budget=10000", "--dump-dom", page.as_uri()]
        proc = _run_chromium(cmd, timeout)
    m = re.search(r'<pre id="layout-result">(.*?)</pre>', proc.stdout, re.S)
    if not m:
        raise RenderError(f"the layout probe did not run in Chromium ({html_path.name}): {proc.stderr[-500:]}")
    return json.loads(_html.unescape(m.group(1)))
