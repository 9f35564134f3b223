"""`hitlgraph threads --pending` (cli._threads.paused_threads): the threads that wait for an
answer, read from the saver's index of open interrupts, agree with what decoding every thread's
latest checkpoint finds; the command lists them newest question first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _two_questions import two_questions

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._threads import paused_threads, thread_page
from hitlgraph.types import Command


def _config(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "metadata": {"hitlgraph_graph": "flows:g"}}


def test_paused_threads_from_the_index_match_the_decoded_ones(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "cli.db")) as saver:
        app = two_questions(saver)
        for thread in ("first", "done", "half", "last"):
            app.invoke({}, _config(thread))
        asked = app.get_state(_config("done")).interrupts
        app.invoke(Command(resume={i.id: "yes" for i in asked}), _config("done"))
        half = {i.value: i.id for i in app.get_state(_config("half")).interrupts}
        app.invoke(Command(resume={half["left?"]: "ok"}), _config("half"))
        indexed = paused_threads(saver).threads
        decoded = [s for s in thread_page(saver).threads if s.status == "paused"]
        assert {s.thread_id for s in indexed} == {s.thread_id for s in decoded} == {
            "first", "half", "last"}
        for s in decoded:
            found = next(i for i in indexed if i.thread_id == s.thread_id)
            assert sorted(i.id for i in found.interrupts) == sorted(i.id for i in s.interrupts)
            assert (found.status, found.graph) == ("paused", "flows:g")
        assert [i.node for i in next(
            i for i in indexed if i.thread_id == "half").interrupts] == ["right"]
        times = [s.created_at or "" for s in indexed]
        assert times == sorted(times, reverse=True)  # newest question first
        assert len(paused_threads(saver, limit=2).threads) == 2


def test_threads_pending_lists_the_paused_threads_newest_question_first(hitlgraph: Any) -> None:
    """`hitlgraph threads --pending`: paused threads only (not the finished one, not the one
    resumed to its end, not the one stopped at a breakpoint), newest question first."""
    for thread in ("old", "answered", "new"):
        hitlgraph.json("run", "flows:review_graph", "--input", '{"topic": "t"}', "--no-input",
                       "--thread", thread, code=3)
    hitlgraph.json("run", "flows:plain", "--input", '{"log": []}', "--thread", "finished")
    hitlgraph.json("run", "flows:breaks", "--input", '{"log": []}', "--no-input",
                   "--thread", "breakpoint", code=3)
    hitlgraph.json("resume", "answered", "--value", '{"approved": true}', "--no-input")
    rows = hitlgraph.json("threads", "--pending")
    assert [r["thread_id"] for r in rows] == ["new", "old"]
    assert {r["status"] for r in rows} == {"paused"}
    assert rows[0]["interrupts"][0]["node"] == "review"
    assert rows[0]["interrupts"][0]["value"]["question"] == "Publish this draft?"
    assert rows[0]["graph"] == "flows:review_graph"
    assert [r["thread_id"] for r in hitlgraph.json("threads", "--pending", "--limit", "1")] == [
        "new"]
    assert len(hitlgraph.json("threads", "--limit", "2")) == 2
    text = hitlgraph("threads", "--pending").stdout
    assert "2 paused thread(s)" in text and "waits at review" in text
    assert "step" not in text  # the index does not know the step: no "step None"


def test_threads_pending_with_nothing_waiting(hitlgraph: Any) -> None:
    hitlgraph.json("run", "flows:plain", "--input", '{"log": []}')
    assert hitlgraph.json("threads", "--pending") == []
    assert "No paused threads in hitlgraph.sqlite" in hitlgraph("threads", "--pending").stdout
