"""Names with a fixed meaning in every graph: the virtual START and END nodes, reserved channels."""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["END", "START", "TAG_HIDDEN", "TAG_NOSTREAM"]

START: Final = sys.intern("__start__")
"""The virtual node a graph's input comes from; edges from START choose the first nodes."""
END: Final = sys.intern("__end__")
"""The virtual node that ends a branch; nothing runs after it."""

TAG_NOSTREAM: Final = "nostream"
TAG_HIDDEN: Final = "langsmith:hidden"

# Reserved channel and write names (private).
INTERRUPT: Final = "__interrupt__"
RESUME: Final = "__resume__"
ERROR: Final = "__error__"
NO_WRITES: Final = "__no_writes__"
TASK_RESULT: Final = "__task_result__"
TASKS: Final = "__pregel_tasks"
PUSH: Final = "__pregel_push"
PULL: Final = "__pregel_pull"
NULL_TASK_ID: Final = "00000000-0000-0000-0000-000000000000"
TRIGGER_PREFIX: Final = "branch:to:"
JOIN_PREFIX: Final = "join:"
"""Channels of edges that wait for several nodes: "join:<a>+<b>:<target>"."""
RESERVED_KEYS: Final = frozenset({START, END, INTERRUPT, RESUME, ERROR, NO_WRITES, TASKS})
