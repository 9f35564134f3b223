"""Where hitlgraph's own stored types are registered, so a process can decode them without
having imported those modules first.

hitlgraph's modules register their classes when they are imported (`hitlgraph.messages` its
messages, `hitlgraph.prebuilt` its review answers, ...). A process that only opened a saver
(`hitlgraph threads`, a worker reading a thread) has imported none of them, yet its checkpoints
hold those classes. On a miss, the registry asks `load_own`, which imports the one module of this
fixed table that registers that name. The table is ours: a stored name only selects one of its
entries, and no module is ever imported by a name found in stored data.
"""

from __future__ import annotations

import importlib
from typing import Final

__all__ = ["OWN_TYPE_MODULES", "load_own"]

OWN_TYPE_MODULES: Final[tuple[tuple[str, str], ...]] = (
    ("hitlgraph.messages.", "hitlgraph.messages"),
    ("hitlgraph.prebuilt.", "hitlgraph.prebuilt._review"),
    ("hitlgraph.review.", "hitlgraph.review._approvals"),
    ("hitlgraph.types.", "hitlgraph.channels._overwrite"),
    # hitlgraph.messages registers decoders of langchain_core's messages (when it is installed).
    ("langchain_core.messages.", "hitlgraph.messages"),
)
"""(registry name prefix, the hitlgraph module whose import registers the names under it)."""


def load_own(name: str) -> bool:
    """Import the hitlgraph module that registers the stored type name `name`, if the table
    has one.

    Returns:
        Whether a module was imported (it may still not know `name`: the data may name a class
        that no longer exists, or langchain_core may not be installed).
    """
    for prefix, module in OWN_TYPE_MODULES:
        if name.startswith(prefix):
            importlib.import_module(module)
            return True
    return False
