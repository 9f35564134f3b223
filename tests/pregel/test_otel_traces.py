"""OpenTelemetry spans: a span per run and per node, a subgraph's run under its node, interrupts
and resumes as events, a failing node's error. Each case runs in its own process: a tracer
provider is process-wide and, once set, cannot be replaced."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_PRELUDE = """
import asyncio, json
from typing import TypedDict
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))

class S(TypedDict, total=False):
    x: int

def dump():
    out = []
    ids = {s.context.span_id: s.name for s in exporter.get_finished_spans()}
    for s in exporter.get_finished_spans():
        out.append({"name": s.name, "parent": ids.get(s.parent.span_id) if s.parent else None,
                    "attrs": {k: v for k, v in s.attributes.items()},
                    "events": [e.name for e in s.events],
                    "status": s.status.status_code.name})
    print(json.dumps(out))
"""


def _spans(script: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_a_tracer_provider_no_span_is_made() -> None:
    spans = _spans("""
        b = StateGraph(S); b.add_node("a", lambda s: {"x": 1}); b.add_edge(START, "a")
        b.compile().invoke({})
        trace.set_tracer_provider(provider)   # set after the run: it saw none
        dump()
    """)
    assert spans == []


def test_a_run_and_its_nodes_are_spans_and_a_pause_and_a_resume_are_events() -> None:
    spans = _spans("""
        trace.set_tracer_provider(provider)
        b = StateGraph(S)
        b.add_node("a", lambda s: {"x": 1})
        b.add_node("ask", lambda s: {"x": interrupt("ok?")})
        b.add_edge(START, "a"); b.add_edge("a", "ask")
        g = b.compile(checkpointer=InMemorySaver(), name="review")
        c = {"configurable": {"thread_id": "t1"}}
        g.invoke({}, c)
        g.invoke(Command(resume=2), c)
        dump()
    """)
    runs = [s for s in spans if s["name"] == "hitlgraph.run review"]
    assert [r["attrs"]["hitlgraph.thread_id"] for r in runs] == ["t1", "t1"]
    paused, resumed = runs
    assert paused["attrs"]["hitlgraph.paused"] is True
    assert "hitlgraph.interrupt" in paused["events"]
    assert resumed["events"] == ["hitlgraph.resume"]
    assert resumed["attrs"]["hitlgraph.paused"] is False
    nodes = [(s["name"], s["parent"], s["events"]) for s in spans
             if s["name"].startswith("hitlgraph.node")]
    assert nodes == [("hitlgraph.node a", "hitlgraph.run review", []),
                     ("hitlgraph.node ask", "hitlgraph.run review", ["hitlgraph.interrupt"]),
                     ("hitlgraph.node ask", "hitlgraph.run review", [])]


def test_a_subgraph_run_nests_under_its_node_and_user_spans_under_the_node_async() -> None:
    spans = _spans("""
        trace.set_tracer_provider(provider)
        tracer = trace.get_tracer("app")
        def inner_node(s):
            with tracer.start_as_current_span("user work"):
                return {"x": 2}
        sb = StateGraph(S); sb.add_node("inner", inner_node); sb.add_edge(START, "inner")
        b = StateGraph(S); b.add_node("sub", sb.compile(name="child")); b.add_edge(START, "sub")
        g = b.compile(name="parent")
        asyncio.run(g.ainvoke({}))
        dump()
    """)
    parent_of = {s["name"]: s["parent"] for s in spans}
    assert parent_of == {"user work": "hitlgraph.node inner",
                         "hitlgraph.node inner": "hitlgraph.run child",
                         "hitlgraph.run child": "hitlgraph.node sub",
                         "hitlgraph.node sub": "hitlgraph.run parent",
                         "hitlgraph.run parent": None}


def test_a_failing_node_marks_its_span_and_the_run_span_as_errors() -> None:
    spans = _spans("""
        trace.set_tracer_provider(provider)
        def boom(s):
            raise KeyError("nope")
        b = StateGraph(S); b.add_node("boom", boom); b.add_edge(START, "boom")
        try:
            b.compile(name="g").invoke({})
        except KeyError:
            pass
        dump()
    """)
    status = {s["name"]: (s["status"], s["events"]) for s in spans}
    assert status == {"hitlgraph.node boom": ("ERROR", ["exception"]),
                      "hitlgraph.run g": ("ERROR", ["exception"])}
