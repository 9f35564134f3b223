"""Tools: plain functions, `@tool` objects, and (when installed) langchain_core tools, behind one
small interface that ToolNode runs."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import sys
import textwrap
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Union, overload

from hitlgraph.messages import ToolCall
from hitlgraph.prebuilt._arguments import Arguments, ToolInvocationError, error_lines
from hitlgraph.prebuilt._injection import Injection, injected_of

__all__ = ["Tool", "ToolInvocationError", "ToolLike", "as_runner", "current_tool_call", "tool"]


@dataclass(frozen=True, kw_only=True)
class Tool:
    """A function the model can call by name, with a description and an argument schema.

    Calling the object calls the function. Make one with `@tool`. ToolNode (and `invoke`)
    check and convert a call's arguments to the parameters' types first, as LangChain's tools
    do: "3" for an int parameter arrives as 3.

    Attributes:
        name: the name the model calls it by.
        description: what it does, for the model.
        func: the function; sync or async; called with the call's arguments as keywords.
        args_schema: a JSON schema of the arguments ({"type": "object", "properties": ...}).
    """

    name: str
    description: str
    func: Callable[..., Any]
    args_schema: dict[str, Any] = field(default_factory=dict)
    _arguments: Arguments = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_arguments",
                           Arguments(self.name, self.func, injected_of(self.func)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    @property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function."""
        return inspect.iscoroutinefunction(self.func)

    def invoke(self, args: dict[str, Any]) -> Any:
        """Run the tool with `args` (a dict of keyword arguments, or a whole tool call).

        Raises:
            ToolInvocationError: the arguments do not fit the function's signature or types
                (a TypeError).
        """
        kwargs = self._bind(args)
        result = self.func(**kwargs)
        if inspect.isawaitable(result):
            return _run_awaitable(result)
        return result

    async def ainvoke(self, args: dict[str, Any]) -> Any:
        """Run the tool from async code (a sync function runs in a worker thread)."""
        kwargs = self._bind(args)
        if self.is_async:
            return await self.func(**kwargs)
        return await asyncio.to_thread(self.func, **kwargs)

    def _bind(self, args: dict[str, Any]) -> dict[str, Any]:
        if {"name", "args", "id"} <= args.keys() and isinstance(args["args"], dict):
            args = args["args"]  # a whole tool call
        return self._arguments.convert(args)


_JSON_TYPES: dict[Any, str] = {
    str: "string", int: "integer", float: "number", bool: "boolean", list: "array",
    tuple: "array", dict: "object", type(None): "null",
}


def _json_type(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint) or hint
    if origin is typing.Annotated:
        return _json_type(typing.get_args(hint)[0])
    if origin is Union or type(hint).__name__ == "UnionType":
        options = [_json_type(a) for a in typing.get_args(hint)]
        return {"anyOf": options} if all(options) else {}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(hint))}
    kind = _JSON_TYPES.get(origin)
    return {"type": kind} if kind else {}


def _arg_docs(doc: str) -> dict[str, str]:
    """Argument descriptions from a Google-style "Args:" section."""
    found: dict[str, str] = {}
    section = re.search(r"^\s*Args:\s*$(.*?)(?:^\s*\w+:\s*$|\Z)", doc, re.M | re.S)
    if section:
        for line in section.group(1).splitlines():
            m = re.match(r"\s*(\w+)(?:\s*\([^)]*\))?:\s*(.+)", line)
            if m:
                found[m.group(1)] = m.group(2).strip()
    return found


def args_schema_of(func: Callable[..., Any], *, described: bool = True) -> dict[str, Any]:
    """A JSON schema of `func`'s keyword arguments (the injected ones left out): pydantic's,
    as LangChain words it, when pydantic is installed and can write one; else one read from
    the type hints. `described`: with each argument's text from the docstring's "Args:"."""
    hidden = injected_of(func)  # (filled in by ToolNode: the model never sees them)
    schema = Arguments(getattr(func, "__name__", "tool"), func, hidden).json_schema()
    if schema is None:
        schema = _hinted_schema(func, hidden)
    docs = _arg_docs(inspect.getdoc(func) or "") if described else {}
    for name, prop in schema["properties"].items():
        if name in docs:
            prop["description"] = docs[name]
    return schema


def _hinted_schema(func: Callable[..., Any], hidden: Mapping[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {"type": "object", "properties": {}}
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or name in hidden:
            continue
        prop = _json_type(hints[name]) if name in hints else {}
        if param.default is param.empty:
            required.append(name)
        else:
            prop["default"] = param.default
        properties[name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _summary(func: Callable[..., Any]) -> str:
    doc = inspect.getdoc(func) or ""
    return doc.split("\n\n", 1)[0].strip().replace("\n", " ")


def _make_tool(func: Callable[..., Any], name: str | None, description: str | None, *,
               plain: bool = False) -> Tool:
    """A Tool of `func`. `plain` (a function given to ToolNode as it is): described as
    LangChain describes it for LangGraph, by its whole docstring, no argument's own text."""
    if not callable(func):
        raise TypeError(f"@tool needs a function, got {func!r}.")
    tool_name = name or getattr(func, "__name__", None)
    if not isinstance(tool_name, str) or tool_name == "<lambda>":
        raise ValueError(f"Cannot name the tool {func!r}: pass one, e.g. @tool('search').")
    if plain:
        description = textwrap.dedent(getattr(func, "__doc__", None) or "").strip()
    return Tool(name=tool_name, description=description or _summary(func), func=func,
                args_schema=args_schema_of(func, described=not plain))


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...
@overload
def tool(name: str, /, *, description: str | None = None) -> Callable[[Callable[..., Any]], Tool]:
    ...
@overload
def tool(*, name: str | None = None,
         description: str | None = None) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    func_or_name: Callable[..., Any] | str | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a Tool of a function: named after it, described by its docstring's first paragraph,
    its argument schema read from its signature.

    Use as `@tool`, `@tool("name")` or `@tool(name=..., description=...)`.

    Example:
        >>> @tool
        ... def add(a: int, b: int) -> int:
        ...     '''Add two numbers.'''
        ...     return a + b
        >>> add.name, add.description, add.args_schema["required"]
        ('add', 'Add two numbers.', ['a', 'b'])
    """
    if callable(func_or_name):
        return _make_tool(func_or_name, name, description)
    given = func_or_name if isinstance(func_or_name, str) else name

    def decorate(func: Callable[..., Any]) -> Tool:
        return _make_tool(func, given, description)

    return decorate


ToolLike = Any
"""What ToolNode accepts as a tool: a function, a `Tool`, or a langchain_core BaseTool."""


_current_call: ContextVar[ToolCall | None] = ContextVar("hitlgraph_tool_call", default=None)


def current_tool_call() -> ToolCall | None:
    """The tool call ToolNode is running in this context, or None outside ToolNode."""
    return _current_call.get()


def _run_awaitable(awaitable: Awaitable[Any]) -> Any:
    """Run an awaitable from sync code, on a private event loop (in a helper thread when this
    thread already runs one: never on the caller's loop)."""
    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    import concurrent.futures
    import contextvars

    context = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(context.run, asyncio.run, wait()).result()


def is_langchain_tool(obj: Any) -> bool:
    """Whether `obj` is a langchain_core BaseTool (False when langchain_core is not loaded)."""
    module = sys.modules.get("langchain_core.tools")
    return module is not None and isinstance(obj, module.BaseTool)


@dataclass(frozen=True)
class Runner:
    """How ToolNode runs one kind of tool: `run(call)` / `arun(call)` return its raw result."""

    name: str
    description: str
    is_async: bool
    run: Callable[[ToolCall], Any]
    arun: Callable[[ToolCall], Awaitable[Any]]
    source: Any
    injected: dict[str, Injection] = field(default_factory=dict)
    """The arguments ToolNode fills in (InjectedState, InjectedStore, ToolRuntime)."""


def _langchain_call(call: ToolCall) -> dict[str, Any]:
    # A whole tool call (with "type"), so that the tool answers with a ToolMessage of its own.
    return {"name": call["name"], "args": call["args"], "id": call["id"], "type": "tool_call"}


def as_runner(obj: ToolLike) -> Runner:
    """The Runner of a tool, whatever kind it is.

    Raises:
        TypeError: `obj` is not a function, a Tool or a langchain_core BaseTool.
    """
    if isinstance(obj, Runner):
        return obj
    own = getattr(obj, "as_runner", None)
    if callable(own) and not is_langchain_tool(obj):
        runner = own()
        if isinstance(runner, Runner):
            return runner
    if is_langchain_tool(obj):
        lc_tool = obj
        coroutine_only = getattr(obj, "func", 1) is None and getattr(obj, "coroutine", None)

        def lc_run(call: ToolCall) -> Any:
            with _invalid_arguments(call):
                if coroutine_only:
                    return _run_awaitable(lc_tool.ainvoke(_langchain_call(call)))
                return lc_tool.invoke(_langchain_call(call))

        async def lc_arun(call: ToolCall) -> Any:
            with _invalid_arguments(call):
                return await lc_tool.ainvoke(_langchain_call(call))

        func = getattr(obj, "func", None) or getattr(obj, "coroutine", None)
        return Runner(name=obj.name, description=obj.description or "",
                      is_async=bool(coroutine_only), run=lc_run, arun=lc_arun, source=obj,
                      injected=injected_of(func) if callable(func) else {})
    if not isinstance(obj, Tool):
        if not callable(obj):
            raise TypeError(
                f"A tool must be a function, a @tool object or a langchain_core tool, got {obj!r}."
            )
        obj = _make_tool(obj, None, None, plain=True)
    own_tool = obj

    def run(call: ToolCall) -> Any:
        return own_tool.invoke(call["args"])

    async def arun(call: ToolCall) -> Any:
        return await own_tool.ainvoke(call["args"])

    return Runner(name=own_tool.name, description=own_tool.description,
                  is_async=own_tool.is_async, run=run, arun=arun, source=own_tool,
                  injected=injected_of(own_tool.func))


@contextlib.contextmanager
def _invalid_arguments(call: ToolCall) -> Iterator[None]:
    """A LangChain tool's argument validation error as a ToolInvocationError, worded as
    LangGraph's ToolNode words it for the model ("loc: msg" per problem)."""
    try:
        yield
    except Exception as exc:
        errors = getattr(exc, "errors", None)
        if type(exc).__name__ != "ValidationError" or not callable(errors):
            raise
        text = "\n".join(error_lines(errors()))
        raise ToolInvocationError(call["name"], dict(call["args"]), text) from exc
