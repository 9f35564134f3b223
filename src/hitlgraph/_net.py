"""Whether an address the server listens on is reachable only from this machine.

Both the CLI (which refuses to listen elsewhere without authentication) and the server (whose
CORS default depends on it) ask, so it lives below both.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
