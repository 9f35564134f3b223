"""The checkpoint thread a server thread is stored under names its tenant unambiguously.

A thread of tenant "A" is checkpointed as "A/<thread id>"; with authentication off the tenant
is "" and the key is the bare thread id. Two rules keep the keys apart: a tenant name cannot
hold "/" (`auth.check_tenant`), and a thread id must be a UUID (as on LangGraph's server), so
a thread id can never be "A/<id>". These tests prove both through a real server sharing one
database with an authenticated one, and the key function itself.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from _reliability_graph import review_builder
from _servers import serve

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.auth import check_tenant


def test_a_key_with_a_tenant_never_equals_a_key_without() -> None:
    thread = str(uuid.uuid4())
    keyed = Runtime.checkpoint_thread("A", thread)
    assert keyed == f"A/{thread}" and "/" not in Runtime.checkpoint_thread("", thread)
    with pytest.raises(ValueError, match="'/'"):
        check_tenant("A/B")


def test_without_auth_a_thread_id_cannot_reach_a_tenants_checkpoints(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    graphs = {"review": review_builder}
    with serve(db=db, graphs=graphs, api_keys={"A": "key-a"}) as url:
        with httpx.Client(base_url=url, headers={"x-api-key": "key-a"}, timeout=30) as a:
            thread = a.post("/threads", json={}).json()["thread_id"]
            done = a.post(f"/threads/{thread}/runs/wait",
                          json={"assistant_id": "review", "input": {"topic": "secret"}})
            assert done.status_code == 200, done.text
    with SqliteSaver.from_conn_string(str(db)) as saver:  # the tenant's thread is stored
        key = {"configurable": {"thread_id": f"A/{thread}"}}
        assert saver.get_tuple(key) is not None

    with serve(db=db, graphs=graphs) as url, httpx.Client(base_url=url, timeout=30) as anon:
        spelled = f"A/{thread}"
        made = anon.post("/threads", json={"thread_id": spelled})
        assert made.status_code == 422, made.text
        for path in (f"/threads/{quote(spelled, safe='')}", f"/threads/{spelled}",
                     f"/threads/{quote(spelled, safe='')}/state", f"/threads/{spelled}/state",
                     f"/threads/{spelled}/history"):
            answer = anon.get(path)
            assert answer.status_code in (404, 422), (path, answer.text)
            assert "secret" not in answer.text
        ran = anon.post(f"/threads/{quote(spelled, safe='')}/runs/wait",
                        json={"assistant_id": "review", "input": None})
        assert ran.status_code in (404, 422), ran.text
        assert anon.get(f"/threads/{thread}").status_code == 404  # not the anonymous one's
        listed = anon.post("/threads/search", json={"limit": 100}).json()
        assert all("secret" not in str(item) for item in listed)
