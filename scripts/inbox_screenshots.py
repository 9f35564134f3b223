#!/usr/bin/env python
"""Take the README's screenshots of the reviewer inbox: docs/inbox-list.png (the list beside a
thread) and docs/inbox-detail.png (one thread in detail: its question, the graph with the
paused node marked, values, history and decision log).

    python scripts/inbox_screenshots.py [--out docs]

It starts a server on 127.0.0.1 (a free port, a SQLite file in a temporary folder) serving
three graphs of tests/server/inbox_graphs.py with two reviewers' API keys, pauses a few
threads, answers one question of one of them as bob (so its decision log is not empty), signs
in as alice and drives Debian's Chromium (/usr/bin/chromium) headless through
Playwright. Needs the server and dev extras (`pip install -e '.[server,dev]'`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
KEYS = {"acme/alice": "key-of-alice", "acme/bob": "key-of-bob"}
"""Two reviewers of one tenant: bob answers a first question, alice signs in to the page."""
VIEWPORT = {"width": 1320, "height": 900}

GRAPHS = Path(__file__).resolve().parent.parent / "tests" / "server" / "inbox_graphs.py"
"""The inbox tests' graphs; the screenshots show three of them (see _server)."""


@contextmanager
def _server(folder: Path) -> Iterator[str]:
    """A server of three inbox test graphs on 127.0.0.1 (a free port), stopped on exit; its
    URL."""
    import uvicorn

    from hitlgraph.server import ServerSettings, create_app

    shutil.copyfile(GRAPHS, folder / "inbox_graphs.py")
    config = folder / "langgraph.json"
    config.write_text(json.dumps({"graphs": {
        "refund": "./inbox_graphs.py:refund_review_builder",
        "email": "./inbox_graphs.py:email_builder",
        "trip": "./inbox_graphs.py:twice_builder"}}), encoding="utf-8")
    app = create_app(ServerSettings(config=config, db=folder / "inbox.sqlite", workers=2,
                                    poll_seconds=0.2, read_env=False, api_keys=KEYS))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           loop="asyncio", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("The inbox server did not start; see the messages above.")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _pause_threads(url: str) -> str:
    """Threads waiting in each demo graph; the refund thread's id (shown in detail)."""
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=url, api_key=KEYS["acme/bob"], timeout=30)

    def paused(graph: str, values: dict[str, object]) -> str:
        thread_id: str = client.threads.create()["thread_id"]
        client.runs.wait(thread_id, graph, input=values)
        return thread_id

    trip = paused("trip", {})
    client.runs.wait(trip, "trip", command={"resume": "Lyon"})
    paused("email", {"to": "ann@example.com", "subject": "Your invoice"})
    paused("email", {"to": "bo@example.com", "subject": "Welcome aboard"})
    refund = paused("refund", {"order": "1042", "amount": 120,
                               "reason": "the parcel arrived damaged"})
    client.runs.wait(refund, "refund", command={"resume": True})
    return refund


def take(out: Path) -> list[Path]:
    """Write the two screenshots into `out`; their paths."""
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots = [out / "inbox-list.png", out / "inbox-detail.png"]
    with tempfile.TemporaryDirectory() as tmp, _server(Path(tmp)) as url, sync_playwright() as pw:
        refund = _pause_threads(url)
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--headless=new", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=VIEWPORT, color_scheme="light")
        page.goto(f"{url}/inbox")
        page.get_by_role("textbox", name="API key").fill(KEYS["acme/alice"])
        page.get_by_role("button", name="Use this key").click()
        expect(page.locator("#items li")).to_have_count(4, timeout=15_000)
        page.locator(f'#items li[data-thread-id="{refund}"] button').click()
        detail = page.locator(f'#detail article[data-thread-id="{refund}"]')
        expect(detail.locator("svg.graph-svg")).to_be_visible(timeout=15_000)
        expect(detail.locator(".loading")).to_have_count(0, timeout=15_000)
        page.screenshot(path=str(shots[0]))
        detail.screenshot(path=str(shots[1]))
        browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent
                        / "docs", help="folder for the two PNG files (default: docs/)")
    args = parser.parse_args(argv)
    for shot in take(args.out):
        print(f"wrote {shot} ({shot.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
