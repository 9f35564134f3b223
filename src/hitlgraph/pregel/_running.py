"""Running a compiled graph for invoke(), stream() and their async twins: the options of one
call turned into RunParams and a way of showing chunks (written once for both twins), and
the run itself under either driver, with a subgraph's chunks forwarded to its parent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

from hitlgraph.constants import INTERRUPT
from hitlgraph.errors import GraphInterrupt
from hitlgraph.pregel._drive import Listen, Outcome, drive_async, drive_sync
from hitlgraph.pregel._effects import Emit, RunResult
from hitlgraph.pregel._invocation import run_params
from hitlgraph.pregel._loop import run_loop
from hitlgraph.pregel._output import Collected, OutputKeys, View
from hitlgraph.pregel._params import RunParams
from hitlgraph.pregel._stream import STREAM_MODES_FROM_TASKS
from hitlgraph.types import All, Durability, StreamMode

if TYPE_CHECKING:
    from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = [
    "CallArgs", "invoke_result", "invoke_values", "invoked", "run_async", "run_quiet",
    "run_sync", "streamed",
]

_ALL_MODES = frozenset(get_args(StreamMode))
_NO_MODES: frozenset[str] = frozenset()
_VALUES = frozenset(["values"])


@dataclass(slots=True)
class CallArgs:
    """The run options of one invoke/stream call, as the caller gave them."""

    stream_mode: StreamMode | Sequence[StreamMode] | None
    output_keys: str | Sequence[str] | None
    interrupt_before: All | Sequence[str] | None
    interrupt_after: All | Sequence[str] | None
    durability: Durability | None
    subgraphs: bool = False
    context: Any = None


def _modes(stream_mode: StreamMode | Sequence[StreamMode] | None, default: str
           ) -> tuple[frozenset[str], bool]:
    chosen: Any = default if stream_mode is None else stream_mode
    single = isinstance(chosen, str)
    modes: frozenset[str] = frozenset([chosen] if single else chosen)
    for mode in modes:
        if mode not in _ALL_MODES:
            raise ValueError(
                f"Unknown stream_mode {mode!r}; expected one of {sorted(_ALL_MODES)}."
            )
    return modes, single


def _output_keys(graph: CompiledStateGraph, given: str | Sequence[str] | None
                 ) -> OutputKeys | None:
    return None if given is None else OutputKeys.parse(given, graph.spec.channels)


def streamed(graph: CompiledStateGraph, input: Any, config: dict[str, Any] | None,
             a: CallArgs) -> tuple[RunParams, View]:
    """stream() and astream(): the run, and how its chunks are shown."""
    modes, single = _modes(a.stream_mode, graph.stream_mode)
    out = _output_keys(graph, a.output_keys)
    p = run_params(graph, input, config, modes, a.interrupt_before, a.interrupt_after,
                   a.durability, a.subgraphs, a.context)
    # as LangGraph: all keys, not the output's
    p.stream_keys = (out.keys if out is not None and out.keys
                     else graph.shape.stream_keys or tuple(graph.spec.channels))
    return p, View(single, a.subgraphs, out, graph.spec.node_names)


def invoked(graph: CompiledStateGraph, input: Any, config: dict[str, Any] | None,
            a: CallArgs) -> tuple[RunParams, Collected]:
    """invoke() and ainvoke(): the run, and where its chunks are gathered."""
    out = None if a.output_keys is None else OutputKeys.parse(a.output_keys, graph.spec.channels)
    if a.stream_mode == "values":
        modes = _NO_MODES if out is None else _VALUES
    else:
        modes = _modes(a.stream_mode, "values")[0]
    p = run_params(graph, input, config, modes, a.interrupt_before, a.interrupt_after,
                   a.durability, context=a.context)
    if out is not None and out.keys:
        p.stream_keys = out.keys
    return p, Collected(View(True, False, out, graph.spec.node_names))


def invoke_values(graph: CompiledStateGraph, input: Any, config: dict[str, Any] | None,
                  before: All | Sequence[str] | None, after: All | Sequence[str] | None,
                  durability: Durability | None, context: Any) -> Any:
    """invoke() with stream_mode "values" and no output_keys (the usual call): the run has no
    chunks to gather, so neither CallArgs nor Collected is made; same result as
    invoked + invoke_result."""
    p = run_params(graph, input, config, _NO_MODES, before, after, durability,
                   context=context)
    if p.scope.trace is None:
        result = run_quiet(p)
    else:  # (no modes: the run yields no chunk)
        run = run_sync(p, _NO_MODES)
        while True:
            try:
                next(run)
            except StopIteration as stop:
                result = stop.value
                break
    out = dict(result.values)
    if result.interrupts:
        out[INTERRUPT] = list(result.interrupts)
    return out


def invoke_result(a: CallArgs, collected: Collected, result: RunResult | None) -> Any:
    """What invoke() and ainvoke() return once their run ended."""
    assert result is not None
    if a.stream_mode != "values":
        return collected.chunks
    if collected.view.out is not None:
        return collected.values(result.interrupts)
    out = dict(result.values)
    if result.interrupts:
        out[INTERRUPT] = list(result.interrupts)
    return out


def _listen(p: RunParams) -> Listen | None:
    """What the drivers must listen to while tasks run, for this run's consumer."""
    if p.parent is not None and p.parent.sink is not None:
        return Listen(p.modes, True)
    if p.listens:
        return Listen(p.modes, p.subgraphs)
    return None


def _route(p: RunParams, effect: Emit, wanted: frozenset[str]) -> bool:
    """Forward a chunk of a subgraph's run to its parent's stream; say whether the caller
    of this run wants it too."""
    forward = p.parent.sink if p.parent is not None else None
    if forward is not None and effect.mode in forward.modes and (
        forward.subgraphs or effect.mode in STREAM_MODES_FROM_TASKS
    ):
        forward.put(effect.mode, effect.chunk, (p.segment, *effect.ns))
        if effect.mode == "messages" and forward.subgraphs:
            # Shown with the subgraph's namespace: the enclosing node that returns the
            # same message does not show it again.
            msg_id = getattr(effect.chunk[0], "id", None)
            if isinstance(msg_id, str) and msg_id and p.parent is not None:
                p.parent.streamed = p.parent.streamed | {msg_id}
    return effect.mode in wanted and (p.subgraphs or not effect.ns)


def _finished(p: RunParams, result: RunResult | None) -> RunResult:
    assert result is not None
    if p.parent is not None and result.paused:  # a subgraph's pause pauses its parent
        raise GraphInterrupt(result.interrupts)
    return result


def run_sync(p: RunParams, wanted: frozenset[str]) -> Generator[Emit, None, RunResult]:
    """The run under the sync driver: the chunks its caller wants, then how it ended."""
    # (an untraced run is _run_sync itself: no generator in between to pass each chunk on)
    return _run_sync(p, wanted) if p.scope.trace is None else _traced_sync(p, wanted)


def _traced_sync(p: RunParams, wanted: frozenset[str]) -> Generator[Emit, None, RunResult]:
    trace = p.scope.trace
    error: BaseException | None = None
    result: RunResult | None = None
    try:
        result = yield from _run_sync(p, wanted)
        return result
    except BaseException as exc:
        error = exc
        raise
    finally:
        trace.end(result, error)


def _run_sync(p: RunParams, wanted: frozenset[str]) -> Generator[Emit, None, RunResult]:
    outcome: Outcome[RunResult] = Outcome()
    for effect in drive_sync(run_loop(p), p.spec, p.saver, outcome, _listen(p)):
        if _route(p, effect, wanted):
            yield effect
    return _finished(p, outcome.value)


def run_quiet(p: RunParams) -> RunResult:
    """An untraced run under the sync driver whose caller wants no chunks (invoke() without
    output_keys or stream modes): how it ended, without a generator passing on chunks or a
    StopIteration to carry the result out (a subgraph's chunks still reach its parent)."""
    outcome: Outcome[RunResult] = Outcome()
    # (no modes here: only a subgraph's run has anything to listen to, for its parent)
    listen = _listen(p) if p.parent is not None or p.subgraphs else None
    for effect in drive_sync(run_loop(p), p.spec, p.saver, outcome, listen):
        _route(p, effect, _NO_MODES)
    if p.parent is None and outcome.value is not None:  # (_finished's usual case)
        return outcome.value
    return _finished(p, outcome.value)


async def run_async(p: RunParams, wanted: frozenset[str], outcome: Outcome[RunResult]
                    ) -> AsyncIterator[Emit]:
    """The run under the async driver; how it ended is left in `outcome`."""
    trace = p.scope.trace
    try:
        async for effect in drive_async(run_loop(p), p.spec, p.saver, outcome, _listen(p)):
            if _route(p, effect, wanted):
                yield effect
        outcome.value = _finished(p, outcome.value)
    except BaseException as exc:
        if trace is not None:
            trace.end(None, exc)
        raise
    if trace is not None:
        trace.end(outcome.value, None)
