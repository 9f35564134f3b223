"""What the server tests share besides fixtures (test modules import it; importing
`conftest` by name would find another folder's conftest when several folders run at once):
the graphs every test server serves, and handles on running servers."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

GRAPHS = {
    "review": "./graphs.py:review_builder",
    "steps": "./graphs.py:build_steps",
    "slow": "./graphs.py:slow_builder",
    "chat": "./graphs.py:chat_builder",
    "slow_review": "./graphs.py:slow_review_builder",
}


@dataclass
class RunningServer:
    """A server started for a test."""

    url: str
    db: Path | str
    clients: list[SyncLangGraphClient]

    def client(self, api_key: str | None = None) -> SyncLangGraphClient:
        """An SDK client of this server (with `api_key` in x-api-key), closed after the test."""
        made = get_sync_client(url=self.url, api_key=api_key, timeout=30)
        self.clients.append(made)
        return made


@dataclass
class ServerProcess:
    """`hitlgraph serve` running in a subprocess."""

    process: subprocess.Popen[str]
    url: str
    log: list[str] = field(default_factory=list)
    """Its stderr lines so far."""
    reader: threading.Thread | None = None

    def wait_for(self, text: str, timeout: float = 30) -> str:
        """The first stderr line holding `text`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((line for line in list(self.log) if text in line), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no line with {text!r} in the server's stderr:\n"
                                     + "".join(self.log))
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, leaving its runs to their leases."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.close()

    def close(self) -> None:
        """Once the process has ended: read the rest of its stderr and close the pipe."""
        if self.reader is not None:
            self.reader.join(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()


def stopped(server: uvicorn.Server, thread: threading.Thread) -> bool:
    """Stop a test server running on `thread`; whether it stopped within 30 s (a server that
    waits on a request or a connection that does not end is made to exit after 15 s)."""
    server.should_exit = True
    thread.join(timeout=15)
    if thread.is_alive():
        server.force_exit = True
        thread.join(timeout=15)
    return not thread.is_alive()
