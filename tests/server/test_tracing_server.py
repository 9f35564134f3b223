"""OpenTelemetry through a real server app (its lifespan, workers and routes): a run created
over HTTP and its resume are each a "hitlgraph.server.run" span with the run's ids and final
status, and the library's run and node spans nest under it. In its own process: a tracer
provider is process-wide and, once set, cannot be replaced."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_SCRIPT = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from fastapi.testclient import TestClient
from hitlgraph.server.app import create_app
from hitlgraph.server.config import ServerSettings

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
config, db = sys.argv[1], sys.argv[2]
app = create_app(ServerSettings(config=config, db=db, workers=1, poll_seconds=0.2,
                                read_env=False))
with TestClient(app) as http:
    thread = http.post("/threads", json={}).json()["thread_id"]
    first = http.post(f"/threads/{thread}/runs", json={
        "assistant_id": "review", "input": {"topic": "traces"}}).json()
    http.get(f"/threads/{thread}/runs/{first['run_id']}/join")
    second = http.post(f"/threads/{thread}/runs", json={
        "assistant_id": "review", "command": {"resume": {"approved": True}}}).json()
    http.get(f"/threads/{thread}/runs/{second['run_id']}/join")
ids = {s.context.span_id: s for s in exporter.get_finished_spans()}
print(json.dumps({"thread": thread, "runs": [first["run_id"], second["run_id"]], "spans": [
    {"name": s.name, "id": s.context.span_id,
     "parent": s.parent.span_id if s.parent and s.parent.span_id in ids else None,
     "trace": s.context.trace_id, "attrs": dict(s.attributes),
     "events": [e.name for e in s.events]} for s in ids.values()]}))
"""


def _traced_server(config_file: Path, db: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(config_file), str(db)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _below(spans: list[dict[str, Any]], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in spans if s["parent"] == parent["id"]]


def test_each_http_run_is_a_span_over_the_graphs_run_and_its_nodes(
        config_file: Path, tmp_path: Path) -> None:
    got = _traced_server(config_file, tmp_path / "traced.sqlite")
    spans = got["spans"]
    servers = [s for s in spans if s["name"] == "hitlgraph.server.run review"]
    assert [s["attrs"]["hitlgraph.run_id"] for s in servers] == got["runs"]
    for server, resumes in zip(servers, (False, True), strict=True):
        assert server["parent"] is None
        attrs = server["attrs"]
        assert (attrs["hitlgraph.thread_id"], attrs["hitlgraph.graph"],
                attrs["hitlgraph.status"], attrs["hitlgraph.resume"]) == (
            got["thread"], "review", "success", resumes)
        assert attrs["hitlgraph.assistant_id"]
        [run] = _below(spans, server)
        assert run["name"].startswith("hitlgraph.run ")  # (named after the compiled graph)
        assert run["attrs"]["hitlgraph.run_id"] == attrs["hitlgraph.run_id"]
        assert "hitlgraph.node review" in [n["name"] for n in _below(spans, run)]
        assert {s["trace"] for s in (server, run, *_below(spans, run))} == {server["trace"]}
    first_run, second_run = (_below(spans, s)[0] for s in servers)
    assert "hitlgraph.interrupt" in first_run["events"]
    assert "hitlgraph.resume" in second_run["events"]
