"""Open pages in headless Chromium (Debian's ``/usr/bin/chromium``) through Playwright, offline.

Every request is routed: ``file://``, ``data:``, ``blob:`` and localhost go through, anything else is
aborted and recorded, so a page that reaches for a CDN fails its test. Console errors, page errors
and dialogs (``alert``: the script-injection probes) are recorded too.

Playwright never downloads a browser here: it drives the system Chromium via ``executable_path``
(install it with ``apt-get install -y chromium``). :func:`running_server` serves an ASGI app on a free
localhost port for the duration of a block.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("MATCHGRAPH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

__all__ = ["PageReport", "browser", "open_page", "canvas_drawn", "require_chromium", "running_server"]


def require_chromium() -> None:
    """Fail the calling test, saying what to install, when Chromium or playwright is missing.

    The README's test block installs both, so a missing one is a broken setup, never a skip.
    """
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail('the playwright package is missing: pip install -e ".[test]"', pytrace=False)


@dataclass
class PageReport:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """Fail on any console error, page error, dialog or request that left localhost."""
        assert not self.blocked, f"requests left localhost: {self.blocked}"
        assert not self.dialogs, f"a dialog opened (script injection?): {self.dialogs}"
        assert not self.page_errors, f"uncaught page errors: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"


def is_local(url: str) -> bool:
    """Whether a request stays on this machine (a file, inline data or a localhost server)."""
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about"):
        return True
    return parts.scheme in ("http", "https", "ws") and (parts.hostname or "") in LOCAL_HOSTS


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium browser for the duration of the block."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def open_page(browser_: Any, url: str, *, wait_until: str = "load",
              viewport: tuple[int, int] = (1200, 800)) -> Iterator[tuple[Any, PageReport]]:
    """Open ``url`` in a fresh context, recording errors, dialogs and every request.

    Yields
    ------
    (playwright Page, PageReport)
    """
    report = PageReport()
    context = browser_.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                   service_workers="block")
    page = context.new_page()

    def route(route_: Any) -> None:
        request_url = route_.request.url
        report.requests.append(request_url)
        if is_local(request_url):
            route_.continue_()
        else:
            report.blocked.append(request_url)
            route_.abort()

    def on_dialog(dialog: Any) -> None:
        report.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    context.route("**/*", route)
    page.on("console", lambda msg: report.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
    page.on("dialog", on_dialog)
    try:
        page.goto(url, wait_until=wait_until)
        yield page, report
    finally:
        context.close()


def canvas_drawn(page: Any, selector: str = "canvas") -> int:
    """Count the non-blank pixels on the first canvas matching ``selector`` (0 when there is none)."""
    return int(page.evaluate("""(sel) => {
        const canvas = document.querySelector(sel);
        if (!canvas || !canvas.width || !canvas.height) return 0;
        const ctx = canvas.getContext('2d');
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0;
        for (let i = 0; i < data.length; i += 4) {
            const blank = data[i + 3] === 0 || (data[i] > 250 && data[i + 1] > 250 && data[i + 2] > 250);
            if (!blank) drawn++;
        }
        return drawn;
    }""", selector))


@contextmanager
def running_server(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free localhost port; yield its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
