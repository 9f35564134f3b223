"""OpenTelemetry spans for runs and nodes, so a paused run shows in the tracing tools a team
already uses: a span per run (`hitlgraph.run <graph>`: thread, namespace, run id; an event per
interrupt it stops at, one when it resumes) with a span per node run under it
(`hitlgraph.node <node>`: task id, step, checkpoint). A subgraph's run nests under its node.

Traces are made when `opentelemetry-api` is installed and the application set a tracer
provider (`opentelemetry.trace.set_tracer_provider`, or $OTEL_PYTHON_TRACER_PROVIDER); otherwise
nothing is made and a run pays one check.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from hitlgraph._control import Command
from hitlgraph.constants import START
from hitlgraph.errors import GraphInterrupt
from hitlgraph.pregel._effects import Abandoned

if TYPE_CHECKING:
    from hitlgraph.pregel._context import TaskContext
    from hitlgraph.pregel._effects import RunResult
    from hitlgraph.pregel._params import RunParams

__all__ = ["NodeSpan", "RunTrace", "node_span", "run_trace"]

_SCOPE = "hitlgraph"
_PROVIDER_FROM_ENV = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
_tracer: Any = None
"""The tracer, once a real provider was found (a provider, once set, cannot be replaced)."""
_trace: Any = None
_otel_context: Any = None


def _api() -> Any:
    """`opentelemetry.trace` once the application loaded it, else None. An application that set
    a provider imported it (or named the provider in the environment, then it is imported here):
    a process that does not trace does not pay for importing it."""
    global _trace, _otel_context
    if _trace is None and (_PROVIDER_FROM_ENV or "opentelemetry.trace" in sys.modules):
        try:
            from opentelemetry import context, trace
        except ImportError:  # the "otel" extra is not installed
            return None
        _trace, _otel_context = trace, context
    return _trace


def _provider() -> Any:
    """The tracer provider the application set, or None. Read from the API's module global:
    its public get_tracer_provider() looks the environment up on every call (a KeyError
    raised and caught: a tenth of a short run's cost), except when the provider is named
    there, which only it can load."""
    if _PROVIDER_FROM_ENV:
        return _trace.get_tracer_provider()
    return getattr(_trace, "_TRACER_PROVIDER", None)


def _find_tracer() -> Any:
    global _tracer
    if _tracer is None and _api() is not None:
        provider = _provider()
        if provider is not None and not isinstance(
                provider, (_trace.ProxyTracerProvider, _trace.NoOpTracerProvider)):
            _tracer = provider.get_tracer(_SCOPE)
    return _tracer


class RunTrace:
    """The span of one run, and the context its nodes' spans start from."""

    __slots__ = ("parent", "span", "tracer")

    def __init__(self, tracer: Any, span: Any) -> None:
        self.tracer, self.span = tracer, span
        self.parent = _trace.set_span_in_context(span)

    def end(self, result: RunResult | None, error: BaseException | None) -> None:
        """Close the run's span: its interrupts as events, or its error."""
        span = self.span
        if isinstance(error, GraphInterrupt):  # a subgraph's pause, raised to its parent
            span.set_attribute("hitlgraph.paused", True)
            for intr in error.interrupts:
                span.add_event("hitlgraph.interrupt", {"hitlgraph.interrupt_id": intr.id})
        elif isinstance(error, (GeneratorExit, Abandoned)):
            span.add_event("hitlgraph.abandoned")  # the caller stopped reading the stream
        elif error is not None:
            _failed(span, error)
        elif result is not None:
            for intr in result.interrupts:
                span.add_event("hitlgraph.interrupt", {"hitlgraph.interrupt_id": intr.id})
            span.set_attribute("hitlgraph.paused", bool(result.paused))
        span.end()


def run_trace(name: str, p: RunParams) -> RunTrace | None:
    """Open the span of a run of graph `name` (None when traces are not wanted). It starts
    under the caller's current span: a subgraph's run under its node's."""
    if _tracer is None and _trace is None and not (
            _PROVIDER_FROM_ENV or "opentelemetry.trace" in sys.modules):
        return None  # (the API is not loaded: the one check a run pays, without calls)
    tracer = _find_tracer()
    if tracer is None:
        return None
    attrs: dict[str, Any] = {"hitlgraph.graph": name, "hitlgraph.checkpoint_ns": p.ns}
    if p.thread_id:
        attrs["hitlgraph.thread_id"] = p.thread_id
    run_id = p.config.get("run_id") or p.config.get("configurable", {}).get("run_id")
    if run_id:
        attrs["hitlgraph.run_id"] = str(run_id)
    span = tracer.start_span(f"hitlgraph.run {name}", attributes=attrs)
    if isinstance(p.input, Command) and p.input.resume is not None:
        span.add_event("hitlgraph.resume")
    return RunTrace(tracer, span)


class NodeSpan:
    """The span of one run of a node, current while it runs (spans the node's code makes nest
    under it)."""

    __slots__ = ("span", "token")

    def __init__(self, run: RunTrace, task: TaskContext) -> None:
        self.span = run.tracer.start_span(
            f"hitlgraph.node {task.name}", context=run.parent,
            attributes={"hitlgraph.node": task.name, "hitlgraph.task_id": task.task_id,
                        "hitlgraph.step": task.step,
                        "hitlgraph.checkpoint_id": task.checkpoint_id})
        self.token = _otel_context.attach(_trace.set_span_in_context(self.span))

    def end(self, error: BaseException | None, paused: bool) -> None:
        """Close the span (in the context it was opened in): its error or its pause."""
        _otel_context.detach(self.token)
        if error is not None:
            _failed(self.span, error)
        elif paused:
            self.span.add_event("hitlgraph.interrupt")
        self.span.end()


def node_span(task: TaskContext) -> NodeSpan | None:
    """Open the span of a run of the task's node; None when its run is not traced (or the
    task is the input step's, which runs no code of the user's)."""
    run = task.scope.trace
    return None if run is None or task.name == START else NodeSpan(run, task)


def _failed(span: Any, error: BaseException) -> None:
    span.record_exception(error)
    span.set_status(_trace.Status(_trace.StatusCode.ERROR, f"{type(error).__name__}: {error}"))
