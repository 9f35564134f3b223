"""The server's OpenTelemetry span of a run: "hitlgraph.server.run <graph>", open while a
worker carries a claimed run (one made by a create or a resume request) to its end, with the
run id, thread id, tenant, assistant, graph, claim number and whether it resumes, and the
status the run ended with. It is the current span while the graph runs, so the library's
spans of the run and of each node (`pregel/_trace.py`) nest under it: a trace shows the run
the request made, the graph's run and its nodes.

The worker makes one call, `traced(run, work)`; the run's end (`_notify.run_ended`) calls
`ended`. Without `opentelemetry-api`, `traced` only awaits the work; with it, the span comes
from the tracer provider the application set (while it has set none, no span is made).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, Final

from hitlgraph.server.store.base import RunRow

try:
    from opentelemetry import trace as _trace
except ImportError:  # the "otel" extra is not installed
    _trace = None  # type: ignore[assignment]

__all__ = ["ended", "traced"]

_SCOPE: Final = "hitlgraph.server"
_PROVIDER_FROM_ENV: Final = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
_tracer: Any = None
"""The tracer, once the application set a real provider (once set, it cannot be replaced)."""


def _find_tracer() -> Any:
    """The server's tracer, or None while no provider is set: OpenTelemetry's own stand-in
    would make a span that records nothing, for a cost per run (as pregel/_trace.py, the
    provider is read from the API's global: its public getter looks the environment up on
    every call, unless the provider is named there)."""
    global _tracer
    if _tracer is None and _trace is not None:
        provider = (_trace.get_tracer_provider() if _PROVIDER_FROM_ENV
                    else getattr(_trace, "_TRACER_PROVIDER", None))
        if provider is not None and not isinstance(
                provider, (_trace.ProxyTracerProvider, _trace.NoOpTracerProvider)):
            _tracer = provider.get_tracer(_SCOPE)
    return _tracer


class _RunSpan:
    """The span of the run a task carries, and the status its end recorded."""

    __slots__ = ("span", "status")

    def __init__(self, span: Any) -> None:
        self.span = span
        self.status: str | None = None


_CURRENT: ContextVar[_RunSpan | None] = ContextVar("hitlgraph_server_run_span", default=None)
"""The span of the run the current task carries (None: no span)."""


def _attributes(run: RunRow) -> dict[str, Any]:
    command = run.kwargs.get("command")
    resumes = isinstance(command, dict) and command.get("resume") is not None
    attrs: dict[str, Any] = {
        "hitlgraph.run_id": run.run_id, "hitlgraph.thread_id": run.thread_id,
        "hitlgraph.assistant_id": run.assistant_id, "hitlgraph.graph": run.graph_id,
        "hitlgraph.attempt": run.attempt, "hitlgraph.resume": resumes}
    if run.tenant:
        attrs["hitlgraph.tenant"] = run.tenant
    return attrs


async def traced(run: RunRow, work: Awaitable[None]) -> None:
    """Await `work`, the worker's carrying of `run`, under the run's span (see the module
    docstring). An error `work` raises (the run is tried again) is recorded on the span; a
    worker that stops without recording the run's end (another took the run over) leaves
    the event "hitlgraph.left"."""
    tracer = _find_tracer()
    if tracer is None:
        await work
        return
    with tracer.start_as_current_span(f"hitlgraph.server.run {run.graph_id}",
                                      attributes=_attributes(run)) as span:
        current = _RunSpan(span)
        token = _CURRENT.set(current)
        try:
            await work
        finally:
            _CURRENT.reset(token)
        if current.status is None:
            span.add_event("hitlgraph.left")


def ended(status: str, error: dict[str, Any] | None) -> None:
    """Record on the current run's span how the run ended (its status; its error, which
    marks the span failed)."""
    current = _CURRENT.get()
    if current is None or _trace is None:
        return
    current.status = status
    current.span.set_attribute("hitlgraph.status", status)
    if error is not None:
        current.span.set_status(_trace.Status(
            _trace.StatusCode.ERROR, f"{error.get('error')}: {error.get('message')}"))
