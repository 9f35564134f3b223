"""One process applying due policies, for the test of several at once:
`python _expire_worker.py sqlite|postgres TARGET NOW GO_FILE` prints "ready", waits until
GO_FILE exists, runs apply_expired(now=NOW) and prints what it did as JSON lines."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from _expire_graphs import build

from hitlgraph.review import apply_expired


def _saver(kind: str, target: str):  # type: ignore[no-untyped-def]
    if kind == "sqlite":
        from hitlgraph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver.from_conn_string(target)
    from hitlgraph.checkpoint.postgres import PostgresSaver

    return PostgresSaver.from_conn_string(target)


def main(kind: str, target: str, now: str, go: str) -> None:
    with _saver(kind, target) as saver:
        app = build("answer").compile(checkpointer=saver)
        print("ready", flush=True)
        deadline = time.monotonic() + 60
        while not Path(go).exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        for done in apply_expired(app, now=now, limit=100):
            print(json.dumps([done.thread_id, done.result]), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
