"""Writes a golden SQLite checkpoint file: `python tests/goldens/make_sqlite_golden.py OUT`.

Run once per schema version, with that version of hitlgraph, to make the file the tests keep
reading (sqlite_schema0.sqlite was made by hitlgraph 0.1.0 at commit 682706d).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _review_graph import build

from hitlgraph.checkpoint.sqlite import SqliteSaver

if __name__ == "__main__":
    with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
        app = build().compile(checkpointer=saver)
        app.invoke({"log": []}, {"configurable": {"thread_id": "golden"}})
    print(f"wrote {sys.argv[1]}")
