"""Checks shared by the SQL saver tests (SQLite and PostgreSQL) beyond the conformance suite."""

from __future__ import annotations

from typing import Any

from hitlgraph.checkpoint.conformance import EVIL, chain, conf, ids


def store_and_delete_evil_thread(saver: Any) -> None:
    """Store SQL-looking ids, metadata keys and values, filter on them, delete the thread."""
    chain(saver, EVIL, 2, metadata=[{"source": EVIL, EVIL: "k"}, {"step": 1}])
    assert ids(saver.list(None, filter={"source": EVIL})) != []
    saver.delete_thread(EVIL)


def check_list_reads_in_pages(saver: Any) -> None:
    """list() over several pages (the caller sets the backend's page size to 3)."""
    metadata = [{"source": "loop", "step": i, "even": i % 2 == 0} for i in range(11)]
    configs = chain(saver, "t", 11, metadata=metadata)
    chain(saver, "u", 4)
    all_ids = [c["configurable"]["checkpoint_id"] for c in configs][::-1]
    assert ids(saver.list(conf("t"))) == all_ids
    assert ids(saver.list(conf("t"), limit=7)) == all_ids[:7]
    assert ids(saver.list(conf("t"), filter={"even": True})) == all_ids[::2]
    assert ids(saver.list(conf("t"), filter={"even": True}, limit=4)) == all_ids[::2][:4]
    assert ids(saver.list(conf("t"), filter={"step": [1]})) == []
    assert len(list(saver.list(None))) == 15
    # A listing started before a write goes on reading pages after it.
    iterator = saver.list(conf("t"))
    assert next(iterator).checkpoint["id"] == all_ids[0]
    chain(saver, "late", 1)
    assert ids(iterator) == all_ids[1:]
