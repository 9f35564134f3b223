"""The server log's line about a run that ended in an error: which run, thread and node, and
the traceback. The run's `error` field tells the client; this tells whoever runs the server.
"""

from __future__ import annotations

import logging
import re

from hitlgraph.server.store.base import RunRow

__all__ = ["failed_nodes", "log_run_error"]

log = logging.getLogger("hitlgraph.server")

# The note the step loop adds to a node's exception (LangGraph's wording); a subgraph's
# failure carries one per level, innermost first.
_TASK_NOTE = re.compile(r"During task with name '(.+)' and id '")


def failed_nodes(exc: BaseException) -> list[str]:
    """The nodes `exc` came from, outermost first: ["parent", "inner"] for a subgraph's."""
    notes = getattr(exc, "__notes__", None) or []
    found = [m.group(1) for note in notes if (m := _TASK_NOTE.match(str(note)))]
    return found[::-1]


def log_run_error(run: RunRow, exc: BaseException, *, conflict: bool) -> None:
    """Log how `run` failed: a conflict (the thread moved on, nothing to resume: a 409 for the
    client) in one line; any other error with its traceback."""
    who = f"tenant '{run.tenant}', " if run.tenant else ""
    where = f"run {run.run_id} ({who}thread '{run.thread_id}', graph '{run.graph_id}')"
    if conflict:
        log.info("%s was refused: %s", where, exc)
        return
    nodes = failed_nodes(exc)
    at = f" in node {' > '.join(repr(n) for n in nodes)}" if nodes else ""
    log.error("%s failed%s: %s: %s", where, at, type(exc).__name__, exc, exc_info=exc)
