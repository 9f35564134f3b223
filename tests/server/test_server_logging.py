"""A run that fails reaches the server's log, not only its `error` field: run, thread, graph,
node and traceback, on `hitlgraph serve`'s stderr beside uvicorn's own lines."""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import httpx
import pytest
from _harness import RunningServer, ServerProcess

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.server._run_log import failed_nodes


def _paused_review(http: httpx.Client) -> str:
    """A thread of the review graph, waiting at its question; its id."""
    thread_id: str = http.post("/threads", json={}).json()["thread_id"]
    paused = http.post(f"/threads/{thread_id}/runs/wait",
                       json={"assistant_id": "review", "input": {"topic": "logs"}})
    assert paused.json()["__interrupt__"], paused.text
    return thread_id


def test_a_node_error_reaches_the_serve_log_with_run_thread_node_and_traceback(
        start_process: Callable[..., ServerProcess], database: str) -> None:
    served = start_process(database)
    with httpx.Client(base_url=served.url, timeout=60) as http:
        thread_id = _paused_review(http)
        failed = http.post(f"/threads/{thread_id}/runs/wait",  # the node raises on this answer
                           json={"assistant_id": "review", "command": {"resume": "yes"}})
        assert failed.json()["__error__"]["error"] == "ValueError", failed.text
        run_id = http.get(f"/threads/{thread_id}/runs").json()[0]["run_id"]
    line = served.wait_for(f"run {run_id} ")
    assert line.startswith("ERROR:")
    assert f"thread '{thread_id}', graph 'review'" in line
    assert "failed in node 'review': ValueError: The answer must be" in line
    rest = "".join(served.log[served.log.index(line):])
    assert "Traceback (most recent call last)" in rest
    assert 'graphs.py", line' in rest and "in review" in rest  # the node's own frame


def test_a_resume_refused_in_the_worker_is_one_line_without_traceback(
        server: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    # The second answer is queued while the first one runs, so the worker refuses it (409).
    caplog.set_level(logging.INFO, logger="hitlgraph.server")
    with httpx.Client(base_url=server.url, timeout=60) as http:
        thread_id = http.post("/threads", json={}).json()["thread_id"]
        runs = f"/threads/{thread_id}/runs"
        http.post(f"{runs}/wait", json={"assistant_id": "slow_review", "input": {"seconds": 1}})
        answers = [http.post(runs, json={"assistant_id": "slow_review",
                                         "command": {"resume": text}}) for text in "ab"]
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        second = answers[1].json()["run_id"]
        assert http.get(f"{runs}/{second}/join").status_code == 409
    refused = [r for r in caplog.records if r.getMessage().startswith(f"run {second} ")]
    assert len(refused) == 1, [r.getMessage() for r in caplog.records]
    assert refused[0].levelno == logging.INFO and refused[0].exc_info is None
    assert "was refused" in refused[0].getMessage()


class _State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _raise(state: _State) -> dict[str, Any]:
    raise RuntimeError("inner trouble")


def test_failed_nodes_name_a_subgraphs_node_inside_its_parent() -> None:
    inner = StateGraph(_State)
    inner.add_node("deep", _raise)
    inner.add_edge(START, "deep")
    inner.add_edge("deep", END)
    outer = StateGraph(_State)
    outer.add_node("outer", inner.compile())
    outer.add_edge(START, "outer")
    outer.add_edge("outer", END)
    with pytest.raises(RuntimeError, match="inner trouble") as raised:
        outer.compile().invoke({"log": []})
    assert failed_nodes(raised.value) == ["outer", "deep"]
    assert failed_nodes(ValueError("no notes")) == []
