"""The quickstart's review, served over HTTP: `hitlgraph serve` runs the graph, and the official
LangGraph SDK client (`pip install langgraph-sdk`) starts it, finds it waiting, and answers.

This script starts the server itself (a subprocess on a free port of 127.0.0.1, with its
SQLite file in a temporary directory), does what a web app or a reviewer's inbox would do,
and stops the server. It needs the server extra and the test extra (httpx and the
langgraph-sdk client); without them it says so and exits with status 1:

    pip install -e '.[server,test]'
    python examples/server_quickstart.py

The server it starts is, by hand:

    hitlgraph serve --config langgraph.json --db server.sqlite   # {"graphs": {"drafts": ...}}
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent

try:  # the client side needs the test extra; `hitlgraph serve` the server extra
    import fastapi  # noqa: F401
    import httpx
    import uvicorn  # noqa: F401
    from langgraph_sdk import get_sync_client
except ImportError as missing:
    sys.exit(f"{missing}: this example needs hitlgraph's server and test extras. Install them "
             f"with: pip install -e {shlex.quote(f'{HERE.parent}[server,test]')}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`hitlgraph serve` on the quickstart's graph; returns the process and its URL."""
    config = folder / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"drafts": f"{HERE / 'quickstart.py'}:build_graph"}}))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hitlgraph.cli", "serve", "--config", str(config),
         "--db", str(folder / "server.sqlite"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=1) as answer:
                if answer.status == 200:
                    return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, url = start_server(Path(tmp))
        try:
            client = get_sync_client(url=url)
            thread = client.threads.create(metadata={"team": "docs"})
            thread_id = thread["thread_id"]

            print("== a web app starts a run; it stops at the review")
            out = client.runs.wait(thread_id, "drafts", input={"topic": "code review"})
            print("waiting for:", out["__interrupt__"][0]["value"]["question"])

            print("== later, the reviewer's inbox lists what waits for a person")
            waiting = client.threads.search(status="interrupted", metadata={"team": "docs"})
            print("threads waiting:", len(waiting))
            state = client.threads.get_state(thread_id)
            print("next:", state["next"])

            print("== the reviewer answers")
            answer = {"approved": True, "text": "Three tips for code review: be kind, be quick."}
            out = client.runs.wait(thread_id, "drafts", command={"resume": answer})
            print("published:", out["published"])
            print("thread status:", client.threads.get(thread_id)["status"])

            print("== a second answer to the same question is refused")
            try:
                client.runs.wait(thread_id, "drafts", command={"resume": answer})
            except httpx.HTTPStatusError as exc:
                print("status:", exc.response.status_code)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
