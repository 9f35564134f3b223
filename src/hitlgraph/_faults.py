"""Named crash sites for the fault suite (tests/reliability): test-only hooks at persistence
boundaries, off in production.

A site is a call `if _faults.ARMED: _faults.hit("site.name")` at a boundary (before a
checkpoint is written, at a lease renewal, ...). Unless $HITLGRAPH_FAULTS is set when this
module is first imported, ARMED is False and a site costs one global read and a branch.

$HITLGRAPH_FAULTS names the faults, comma-separated, each `SITE:ACTION[@N]`:

- ACTION `kill`: the process sends itself SIGKILL (a crash: nothing is flushed or closed);
- `raise`: raise InjectedFault, a ConnectionError (a lost database connection, as a caller
  sees it);
- `sleep=SECONDS`: block the calling thread that long (a stall, a frozen disk).

`@N` acts on the site's Nth occurrence in this process only (counting from 1); without it,
on every occurrence. Sites: see `SITES`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Final, NamedTuple

__all__ = ["ARMED", "SITES", "InjectedFault", "hit"]

ENV: Final = "HITLGRAPH_FAULTS"

SITES: Final = {
    "checkpoint.before_put": "a checkpoint is encoded, no lock or connection taken yet",
    "checkpoint.before_writes": "a task's writes are encoded, not yet stored",
    "checkpoint.before_commit": "a write's statements ran in its transaction, not yet committed",
    "checkpoint.after_commit": "a write is committed; its caller has not heard back yet",
    "checkpoint.after_writes": "a task's writes are committed; its caller has not heard back yet",
    "server.lease_renewal": "a worker is about to renew the lease of a run it holds",
    "server.finish": "a run ended; its end and its thread's new state are not yet recorded",
    "server.resume_claim": "a worker holds a resume run and recorded its start; the answer is "
                           "not yet claimed on the thread (the compare-and-set)",
    "server.outbox_delivery": "a notification is in its outbox, not yet sent to its webhook",
}
"""Every site, and the moment it stands for."""


class InjectedFault(ConnectionError):
    """Raised at a site by the `raise` action: what a lost connection looks like to a caller."""


class _Fault(NamedTuple):
    action: str
    seconds: float
    occurrence: int | None


def _parse(text: str) -> dict[str, _Fault]:
    faults: dict[str, _Fault] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        site, _, spec = entry.partition(":")
        spec, _, nth = spec.partition("@")
        action, _, seconds = spec.partition("=")
        if site not in SITES or action not in ("kill", "raise", "sleep"):
            raise ValueError(f"${ENV}: {entry!r} is not SITE:kill|raise|sleep=SECONDS[@N] "
                             f"with SITE one of {', '.join(sorted(SITES))}.")
        faults[site] = _Fault(action, float(seconds or 0), int(nth) if nth else None)
    return faults


_FAULTS: Final = _parse(os.environ.get(ENV, ""))
ARMED: Final = bool(_FAULTS)
"""Whether any fault is set: sites test this before calling `hit`."""

_seen: dict[str, int] = {}
_lock = threading.Lock()


def hit(site: str) -> None:
    """Carry out the fault set for `site`, if this is the occurrence it names."""
    fault = _FAULTS.get(site)
    if fault is None:
        return
    with _lock:
        count = _seen[site] = _seen.get(site, 0) + 1
    if fault.occurrence is not None and count != fault.occurrence:
        return
    if fault.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif fault.action == "raise":
        raise InjectedFault(f"fault injected at {site} (occurrence {count})")
    else:
        time.sleep(fault.seconds)
