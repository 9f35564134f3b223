"""Tool arguments the model never sees: the graph's state (InjectedState), its store
(InjectedStore) and a ToolRuntime, filled in by ToolNode when it calls the tool, as LangGraph's
ToolNode does. They are left out of the tool's argument schema, and a value the model put
under their names is dropped (it could otherwise forge them).

A LangChain `@tool` hides the same arguments from the model (its tool_call_schema, what
`bind_tools` sends) when their markers derive from LangChain's InjectedToolArg, as
LangGraph's do. Ours cannot derive from it when defined: importing hitlgraph must not
import langchain_core. They take LangChain's bases once langchain_core.tools is loaded: at
import when it already is, else when pydantic first builds a schema holding one of them,
which is what LangChain's `@tool` does before anything reads the tool's schema."""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hitlgraph._running import current

__all__ = ["InjectedState", "InjectedStore", "ToolRuntime", "injected_args", "injected_of",
           "run_scope"]

ContextT = TypeVar("ContextT")
StateT = TypeVar("StateT")


class _Marker:
    """What pydantic asks a schema's marker for: the schema of what it marks, unchanged. The
    call is the moment our markers take LangChain's bases (see the module docstring)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Callable[[Any], Any]) -> Any:
        adopt_langchain_bases()
        return handler(source)


class InjectedState(_Marker):
    """Marks a tool argument that receives the graph's state, or one key of it.

    E.g. `state: Annotated[dict, InjectedState]` (the whole state) or
    `topic: Annotated[str, InjectedState("topic")]` (one key).
    """

    def __init__(self, field: str | None = None) -> None:
        self.field = field


class InjectedStore(_Marker):
    """Marks a tool argument that receives the graph's store, e.g.
    `store: Annotated[BaseStore, InjectedStore()]`."""


@dataclass(kw_only=True)
class ToolRuntime(Generic[ContextT, StateT]):
    """What a tool argument `runtime: ToolRuntime` receives: the state, the run's context,
    config, stream writer and store, and the id of the tool call being answered."""

    state: StateT
    context: ContextT
    config: dict[str, Any]
    stream_writer: Callable[[Any], None]
    tool_call_id: str | None
    store: Any
    tools: list[Any] = field(default_factory=list)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Callable[[Any], Any]) -> Any:
        # Any ToolRuntime is taken as it is: ToolNode made it (its fields hold functions).
        adopt_langchain_bases()
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)


def adopt_langchain_bases() -> None:
    """Make InjectedState and InjectedStore subclasses of LangChain's InjectedToolArg, and
    ToolRuntime of its directly injected argument type, so LangChain leaves them out of a
    tool's schema for the model, once langchain_core.tools is loaded (else nothing)."""
    tools = sys.modules.get("langchain_core.tools")
    if tools is None:
        return
    direct = getattr(sys.modules.get("langchain_core.tools.base"), "_DirectlyInjectedToolArg",
                     None)  # (langchain_core >= 1.0)
    for cls, base in ((InjectedState, getattr(tools, "InjectedToolArg", None)),
                      (InjectedStore, getattr(tools, "InjectedToolArg", None)),
                      (ToolRuntime, direct)):
        if isinstance(base, type) and not issubclass(cls, base):
            cls.__bases__ = (*cls.__bases__, base)


adopt_langchain_bases()


Injection = tuple[str, str | None]
"""What one argument receives: ("state", key or None), ("store", None) or ("runtime", None)."""


def _injection(hint: Any) -> Injection | None:
    if hint is ToolRuntime or typing.get_origin(hint) is ToolRuntime:
        return ("runtime", None)
    if typing.get_origin(hint) is not typing.Annotated:
        return None
    for meta in hint.__metadata__:
        if meta is InjectedState or isinstance(meta, InjectedState):
            return ("state", getattr(meta, "field", None))
        if meta is InjectedStore or isinstance(meta, InjectedStore):
            return ("store", None)
    return _injection(typing.get_args(hint)[0])


def injected_of(func: Callable[..., Any]) -> dict[str, Injection]:
    """The arguments of `func` that ToolNode fills in, by name."""
    try:
        hints = typing.get_type_hints(func, include_extras=True)
        params = inspect.signature(func).parameters
    except Exception:  # (no signature or unresolvable hints: nothing to inject)
        return {}
    found = {name: _injection(hints[name]) for name in params if name in hints}
    return {name: how for name, how in found.items() if how is not None}


@dataclass(frozen=True, slots=True)
class RunScope:
    """What a ToolNode call can give its tools: the node's input and the run around it."""

    state: Any
    context: Any = None
    config: dict[str, Any] = field(default_factory=dict)
    stream_writer: Callable[[Any], None] = lambda _chunk: None
    store: Any = None


def run_scope(state: Any) -> RunScope:
    """The scope of a ToolNode call with input `state` (outside a running graph: the state
    alone)."""
    task = current.get()
    if task is None:
        return RunScope(state)
    runtime = task.runtime
    return RunScope(state, runtime.context, task.config, runtime.stream_writer, runtime.store)


def _state_value(state: Any, key: str, tool: str) -> Any:
    if isinstance(state, Mapping):
        if key in state:
            return state[key]
    elif hasattr(state, key):
        return getattr(state, key)
    raise KeyError(f"Tool '{tool}' takes state key '{key}' (InjectedState('{key}')), which "
                   "the state does not have. Add it to the state or drop the argument.")


def injected_args(injected: Mapping[str, Injection], call: Mapping[str, Any], scope: RunScope,
                  messages_key: str) -> dict[str, Any]:
    """The call's arguments with the injected ones filled in (any the model sent dropped).

    Raises:
        ValueError: a tool asks for the store and the graph has none.
    """
    args = {k: v for k, v in call["args"].items() if k not in injected}
    state = scope.state
    if isinstance(state, list):  # (ToolNode called with a list of messages)
        state = {messages_key: state}
    for name, (kind, key) in injected.items():
        if kind == "state":
            args[name] = state if key is None else _state_value(state, key, call["name"])
        elif kind == "store":
            if scope.store is None:
                raise ValueError(
                    f"Tool '{call['name']}' takes the store (InjectedStore), but the graph has "
                    "none. Compile it with one, e.g. builder.compile(store=InMemoryStore())."
                )
            args[name] = scope.store
        else:
            args[name] = ToolRuntime(state=state, context=scope.context, config=scope.config,
                                     stream_writer=scope.stream_writer,
                                     tool_call_id=call.get("id"), store=scope.store)
    return args
