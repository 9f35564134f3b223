"""The server's run span (`server/_tracing.py`): the library's run and node spans nest under it,
it carries the run's ids and the status its end recorded, an error of the worker's marks it,
and without `opentelemetry` installed it only awaits the work. Each case runs in its own
process: a tracer provider is process-wide and, once set, cannot be replaced."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

_ROW = """
def run_row(**changes):
    row = dict(run_id="r-1", thread_id="t-1", tenant="", assistant_id="as-1", graph_id="g",
               created_at="2026-01-01T00:00:00+00:00", updated_at="2026-01-01T00:00:00+00:00",
               status="running", metadata={}, kwargs={}, multitask_strategy="enqueue",
               fencing=1, attempt=1, cancel_action=None, output=None, error=None,
               temporary=False, on_completion="keep")
    row.update(changes)
    return RunRow(**row)
"""

_PRELUDE = """
import asyncio, json
from typing import TypedDict
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.server._tracing import ended, traced
from hitlgraph.server.store.base import RunRow

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

class S(TypedDict, total=False):
    x: int

b = StateGraph(S); b.add_node("a", lambda s: {"x": 1}); b.add_edge(START, "a")
graph = b.compile(checkpointer=InMemorySaver())

def dump():
    out = []
    ids = {s.context.span_id: s.name for s in exporter.get_finished_spans()}
    for s in exporter.get_finished_spans():
        out.append({"name": s.name, "parent": ids.get(s.parent.span_id) if s.parent else None,
                    "trace": s.context.trace_id, "attrs": dict(s.attributes),
                    "events": [e.name for e in s.events],
                    "status": s.status.status_code.name})
    print(json.dumps(out))
""" + _ROW


def _spans(script: str, prelude: str = _PRELUDE) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def _by_name(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in spans}


def test_the_graphs_run_and_nodes_nest_under_the_servers_run_span() -> None:
    spans = _spans("""
        async def work():
            await graph.ainvoke({}, {"configurable": {"thread_id": "t-1"}})
            ended("success", None)
        asyncio.run(traced(run_row(kwargs={"command": {"resume": 1}}), work()))
        dump()
    """)
    by = _by_name(spans)
    assert set(by) == {"hitlgraph.server.run g", "hitlgraph.run LangGraph", "hitlgraph.node a"}
    server = by["hitlgraph.server.run g"]
    assert server["parent"] is None
    assert by["hitlgraph.run LangGraph"]["parent"] == "hitlgraph.server.run g"
    assert by["hitlgraph.node a"]["parent"] == "hitlgraph.run LangGraph"
    assert len({s["trace"] for s in spans}) == 1
    assert server["attrs"] == {
        "hitlgraph.run_id": "r-1", "hitlgraph.thread_id": "t-1",
        "hitlgraph.assistant_id": "as-1", "hitlgraph.graph": "g", "hitlgraph.attempt": 1,
        "hitlgraph.resume": True, "hitlgraph.status": "success"}
    assert (server["status"], server["events"]) == ("UNSET", [])


def test_a_run_that_ended_in_error_marks_its_span_failed() -> None:
    spans = _spans("""
        async def work():
            ended("error", {"error": "ValueError", "message": "no"})
        asyncio.run(traced(run_row(tenant="acme"), work()))
        dump()
    """)
    [server] = spans
    assert (server["attrs"]["hitlgraph.status"], server["attrs"]["hitlgraph.tenant"],
            server["attrs"]["hitlgraph.resume"], server["status"]) == (
        "error", "acme", False, "ERROR")


def test_a_worker_that_stops_without_an_end_or_fails_says_so() -> None:
    spans = _spans("""
        async def left():
            pass
        async def broken():
            raise ConnectionError("database gone")
        asyncio.run(traced(run_row(run_id="r-left"), left()))
        try:
            asyncio.run(traced(run_row(run_id="r-broken"), broken()))
        except ConnectionError:
            pass
        dump()
    """)
    left, broken = spans
    assert (left["attrs"]["hitlgraph.run_id"], left["events"], left["status"]) == (
        "r-left", ["hitlgraph.left"], "UNSET")
    assert "hitlgraph.status" not in left["attrs"]
    assert (broken["attrs"]["hitlgraph.run_id"], broken["status"]) == ("r-broken", "ERROR")
    assert "exception" in broken["events"]


def test_without_opentelemetry_the_work_is_only_awaited() -> None:
    prelude = """
import asyncio, importlib, json, sys
from hitlgraph.server.store.base import RunRow  # (the server's dependencies may load otel)
sys.modules["opentelemetry"] = None  # from here, as if the extra were not installed
import hitlgraph.server._tracing
_tracing = importlib.reload(hitlgraph.server._tracing)
""" + _ROW
    done = _spans("""
        seen = []
        async def work():
            seen.append("ran")
            _tracing.ended("success", None)
        asyncio.run(_tracing.traced(run_row(), work()))
        print(json.dumps([{"no_otel": _tracing._trace is None, "seen": seen}]))
    """, prelude)
    assert done == [{"no_otel": True, "seen": ["ran"]}]
