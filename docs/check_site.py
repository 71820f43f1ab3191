"""Render the built site in headless Chromium and fail on what a reader would see broken.

Every page of ``docs/_build/html`` is served on localhost and opened in Chromium, as a
reader's browser opens it, with no network beyond this machine. Once MathJax has
typeset the page, the check fails on:

- raw TeX left in the text (``\\frac``, ``\\(``, ``$$``, ...), MathJax errors, or
  display math wider than the page;
- images that did not load;
- tracebacks, warnings or machine paths in the output of executed cells;
- JavaScript errors, and requests that failed or left localhost (the site must work
  offline).

It first checks itself on a small site with each of these planted on one page between
two clean ones, and fails if it misses one or reports a clean page.

Usage: ``python docs/check_site.py docs/_build/html [--chromium /usr/bin/chromium]``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, Request, sync_playwright

#: TeX that MathJax would have replaced: commands, delimiters and environments.
RAW_TEX = re.compile(
    r"\\(frac|begin|end|left|right|mathbb|operatorname|partial|sqrt)\b|\\\(|\\\[|\$\$"
)
#: Signs of a cell that went wrong, or that shows the build machine.
BAD_OUTPUT = re.compile(
    r"Traceback \(most recent call last\)|Warning:|WARNING|site-packages|/root/|/home/|/tmp/"
    # PyMC's sampling diagnostics: a page samples enough for none of them to fire.
    r"|We recommend running at least|effective sample size per chain is smaller"
    r"|rhat statistic is larger|There were \d+ divergences"
)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Text nodes outside code, math and scripts, with TeX still in them.
_RAW_TEX_SCRIPT = """(pattern) => {
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "MJX-CONTAINER", "TEXTAREA"]);
  const found = [];
  const walker = document.createTreeWalker(
    document.querySelector("article") || document.body, NodeFilter.SHOW_TEXT);
  const regex = new RegExp(pattern);
  while (walker.nextNode()) {
    let node = walker.currentNode, parent = node.parentElement, skipped = false;
    while (parent) {
      if (skip.has(parent.tagName)) { skipped = true; break; }
      parent = parent.parentElement;
    }
    if (!skipped && regex.test(node.textContent)) found.push(node.textContent.trim().slice(0, 80));
  }
  return found;
}"""
_BROKEN_IMAGES_SCRIPT = """() => Array.from(document.images)
  .filter((image) => !image.complete || image.naturalWidth === 0)
  .map((image) => image.getAttribute("src"))"""
_CLIPPED_MATH_SCRIPT = """() => Array
  .from(document.querySelectorAll("mjx-container[display='true']"))
  .filter((math) => math.scrollWidth > math.clientWidth + 1)
  .map((math) => math.textContent.slice(0, 60))"""
_OUTPUTS_SCRIPT = """() => Array.from(document.querySelectorAll(".cell_output"))
  .map((output) => output.innerText)"""
_TYPESET_SCRIPT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  return document.querySelectorAll("mjx-merror").length;
}"""


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """The folder on an HTTP server on localhost, quietly, for the block's duration."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def page_problems(page: Page, url: str) -> list[str]:
    """What is wrong with the page at ``url`` as Chromium renders it in ``page`` (a tab
    that opens one page after another: a tab for each would start a renderer process
    each, three quarters of the check's CPU time)."""
    problems: list[str] = []

    def on_error(error: object) -> None:
        problems.append(f"JavaScript error: {error}")

    def on_failed(request: Request) -> None:
        problems.append(f"request failed: {request.url}")

    def on_request(request: Request) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            problems.append(f"request leaves the site: {request.url}")

    listeners = {"pageerror": on_error, "requestfailed": on_failed, "request": on_request}
    for event, listener in listeners.items():
        page.on(event, listener)
    try:
        return _rendered_problems(page, url) + problems
    finally:
        for event, listener in listeners.items():
            page.remove_listener(event, listener)


def _rendered_problems(page: Page, url: str) -> list[str]:
    """What the page at ``url`` shows broken once loaded and typeset."""
    problems: list[str] = []
    page.goto(url, wait_until="load")
    errors = page.evaluate(_TYPESET_SCRIPT)
    if errors:
        problems.append(f"{errors} MathJax error(s)")
    problems += [f"raw TeX: {text!r}" for text in page.evaluate(_RAW_TEX_SCRIPT, RAW_TEX.pattern)]
    problems += [f"broken image: {src}" for src in page.evaluate(_BROKEN_IMAGES_SCRIPT)]
    clipped = page.evaluate(_CLIPPED_MATH_SCRIPT)
    problems += [f"display math wider than the page: {text!r}" for text in clipped]
    for output in page.evaluate(_OUTPUTS_SCRIPT):
        match = BAD_OUTPUT.search(output)
        if match:
            start = max(match.start() - 60, 0)
            problems.append(f"cell output: ...{output[start : match.end() + 60]!r}...")
    return problems


def check(site: Path, chromium: str, quiet: bool = False) -> dict[str, list[str]]:
    """Every page's problems, by its path in the site (pages without any left out);
    each page's verdict printed as it comes unless ``quiet``."""
    pages = sorted(
        path
        for path in site.rglob("*.html")
        if not path.relative_to(site).parts[0].startswith(("_", "genindex", "search"))
    )
    found: dict[str, list[str]] = {}
    with served(site) as root, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        for path in pages:
            name = str(path.relative_to(site))
            problems = page_problems(page, f"{root}/{name}")
            if not quiet:
                print(f"{name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
            if problems:
                found[name] = problems
        browser.close()
    return found


#: A site with every kind of problem on one page between two clean ones, for
#: :func:`self_check`: what a check that runs must report, and where.
_PLANTED = {
    "a_clean.html": "<p>Nothing wrong here.</p>",
    "b_broken.html": (
        "<p>\\frac{a}{b}</p><img src='missing.png'>"
        "<div class='cell_output'>Traceback (most recent call last):</div>"
        "<script>undefinedFunction()</script>"
        "<script src='https://example.invalid/x.js'></script>"
    ),
    "c_clean.html": "<p>Nothing wrong here either.</p>",
}
_PLANTED_KINDS = ("raw TeX", "broken image", "cell output", "JavaScript error", "leaves the site")


def self_check(chromium: str) -> list[str]:
    """What the check fails to report, or reports where nothing is wrong, on a small
    site with problems planted on its middle page (empty when it works: a check that
    could not fail would pass every site)."""
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder)
        for name, body in _PLANTED.items():
            (site / name).write_text(f"<html><body><article>{body}</article></body></html>")
        found = check(site, chromium, quiet=True)
    missed = [
        f"missed the planted {kind}"
        for kind in _PLANTED_KINDS
        if not any(kind in problem for problem in found.get("b_broken.html", []))
    ]
    return missed + [
        f"reported problems on the clean page {name}" for name in found.keys() - {"b_broken.html"}
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="the built site (docs/_build/html)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium's binary")
    arguments = parser.parse_args()
    if not (arguments.site / "index.html").exists():
        parser.error(f"{arguments.site} holds no built site; run `make docs` first")
    broken = self_check(arguments.chromium)
    if broken:
        print("the check itself does not work:", *broken, sep="\n  ")
        return 1
    found = check(arguments.site, arguments.chromium)
    for name, problems in found.items():
        print(f"\n{name}:", *(f"  {problem}" for problem in problems), sep="\n")
    print(f"\n{len(found)} page(s) with problems" if found else "\nevery page renders cleanly")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
