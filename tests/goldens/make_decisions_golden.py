"""Writes the golden SQLite file read by test_decisions_golden.py:
`python tests/goldens/make_decisions_golden.py OUT`.

sqlite_schema3_paused.sqlite was made with schema version 3 (the index of open interrupts,
before the decision log existed), at commit edffb6f, with make_pending_golden.py's threads
(paused, finished, dropped by update_state, a subgraph's): the decision log starts empty when
it is first opened, whatever was decided before.
"""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("make_pending_golden.py")), run_name="__main__")
