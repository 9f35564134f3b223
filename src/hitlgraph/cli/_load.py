"""Finding the graph a `MODULE:GRAPH` argument names, and binding it to the CLI's saver."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

try:  # the same digest as hashlib.sha1 without loading hashlib's OpenSSL (~12 M instructions,
    # a tenth of the first prompt's start-up beyond the engine)
    from _sha1 import sha1  # type: ignore[import-not-found]  # not in typeshed
except ImportError:  # a CPython built without its own hash modules
    from hashlib import sha1

from hitlgraph._rebind import with_checkpointer
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.func import EntrypointGraph
from hitlgraph.graph.state import StateGraph
from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = ["Loaded", "Target", "bind", "load_object", "resolvable_spec"]

_EXAMPLE = "e.g. my_app.agent:graph or path/to/agent.py:graph"
_WHAT = ("a compiled graph (builder.compile()), a StateGraph builder, an @entrypoint "
         "function, or a factory function that returns one")
_GRAPH_CLASSES = (CompiledStateGraph, StateGraph, EntrypointGraph)
_GRAPH_NAMES = frozenset(cls.__name__ for cls in _GRAPH_CLASSES)
_FACTORY_RULE = ("A factory is a function without arguments whose return annotation names a "
                 "graph type (StateGraph, CompiledStateGraph or EntrypointGraph), e.g. "
                 "`def build_graph() -> StateGraph[State]:`.")
_ANNOTATION = re.compile(r"\s*['\"]?(?:\w+\.)*(\w+)\s*(?:\[.*\])?['\"]?\s*", re.DOTALL)


class Loaded(NamedTuple):
    """What a MODULE:GRAPH argument names. (This module's records are NamedTuples: a frozen
    dataclass costs the first prompt five times as much to build at import.)

    Attributes:
        spec: the MODULE:GRAPH text.
        value: the graph: a CompiledStateGraph, a StateGraph builder or an @entrypoint.
        found: what it was, for people, e.g. "build_graph(), a factory that returned a
            StateGraph builder (compiled here)".
    """

    spec: str
    value: Any
    found: str


class Target(NamedTuple):
    """A graph ready to run from the command line.

    Attributes:
        spec: the MODULE:GRAPH text it was loaded from.
        runnable: what runs: a CompiledStateGraph or an @entrypoint, using the CLI's saver.
        compiled: the CompiledStateGraph underneath (for drawing).
    """

    spec: str
    runnable: Any
    compiled: CompiledStateGraph


def _split(spec: str) -> tuple[str, str]:
    module, sep, attr = spec.rpartition(":")
    if not sep or not module or not attr:
        raise CliError(
            f"'{spec}' is not MODULE:GRAPH: name the module (or .py file) and the variable that "
            f"holds the graph, separated by a colon, {_EXAMPLE}.",
            ExitCode.USAGE,
        )
    return module, attr


def _is_path(module: str) -> bool:
    return module.endswith(".py") or os.sep in module or "/" in module


def resolvable_spec(spec: str) -> str:
    """`spec` as another folder can load it: a .py file's path made absolute (a module name
    stays as it is)."""
    module, attr = _split(spec)
    if not _is_path(module):
        return spec
    return f"{Path(module).expanduser().resolve()}:{attr}"


def _import_file(text: str, spec: str) -> ModuleType:
    path = Path(text).expanduser()
    if not path.is_file():
        raise CliError(
            f"No file '{text}' (from '{spec}'), looked for at {path.resolve()}. Check the path; "
            "a relative one starts from the current folder.",
            ExitCode.NOT_FOUND,
        )
    path = path.resolve()
    folder = str(path.parent)
    if folder not in sys.path:  # so that the file can import its neighbours
        sys.path.insert(0, folder)
    digest = sha1(str(path).encode()).hexdigest()[:8]
    name = f"_hitlgraph_cli_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    found = importlib.util.spec_from_file_location(name, path)
    if found is None or found.loader is None:
        raise CliError(f"Cannot import '{text}' as Python code (from '{spec}').", ExitCode.USAGE)
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _import(module: str, spec: str) -> ModuleType:
    try:
        if _is_path(module):
            return _import_file(module, spec)
        cwd = os.getcwd()
        if cwd not in sys.path and "" not in sys.path:
            sys.path.insert(0, cwd)
        return importlib.import_module(module)
    except CliError:
        raise
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module == missing or module.startswith(missing + ".")):
            raise CliError(
                f"No module named '{module}' (from '{spec}'). Run hitlgraph from the folder that "
                "holds it (the current folder is on the import path), install its package, or "
                "give the path of a .py file, e.g. ./agent.py:graph.",
                ExitCode.NOT_FOUND,
            ) from None
        raise CliError(
            f"Importing '{module}' failed: it imports '{missing}', which is not installed "
            f"({exc}).", ExitCode.GRAPH_ERROR,
        ) from exc
    except Exception as exc:
        raise CliError(
            f"Importing '{module}' (from '{spec}') failed: {type(exc).__name__}: {exc}",
            ExitCode.GRAPH_ERROR,
        ) from exc


def _is_graph(value: Any) -> bool:
    return isinstance(value, _GRAPH_CLASSES)


def _kind(value: Any) -> str:
    if isinstance(value, StateGraph):
        return "a StateGraph builder (compiled here)"
    if isinstance(value, EntrypointGraph):
        return "an @entrypoint"
    return "a compiled graph"


def _graphs_hint(module: ModuleType) -> str:
    graphs = sorted(k for k, v in vars(module).items() if not k.startswith("_") and _is_graph(v))
    return f"graphs it has: {', '.join(graphs)}" if graphs else "it has no graph at module level"


def _attribute(module: ModuleType, module_name: str, attr: str, spec: str) -> Any:
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            import difflib  # for this error only: it would cost every run its import

            close = difflib.get_close_matches(part, [k for k in dir(value)
                                                      if not k.startswith("_")], n=1)
            maybe = f" (did you mean '{close[0]}'?)" if close else ""
            raise CliError(
                f"'{module_name}' has no attribute '{attr}'{maybe} (from '{spec}'); "
                f"{_graphs_hint(module)}.", ExitCode.NOT_FOUND,
            )
        value = getattr(value, part)
    return value


def load_object(spec: str) -> Loaded:
    """The graph `spec` ("module:attr", "file.py:attr", attr may be dotted) names.

    The attribute is a graph (compiled, builder or @entrypoint), or a factory: a function
    without arguments whose return annotation names a graph type, which is called. Any other
    function is not called (a script's main() would parse sys.argv).

    Raises:
        CliError: naming the bad part and what to do; the exit code says which kind.
    """
    module_name, attr = _split(spec)
    module = _import(module_name, spec)
    value = _attribute(module, module_name, attr, spec)
    if _is_graph(value):
        return Loaded(spec, value, _kind(value))
    if inspect.isfunction(value):
        return _call_factory(value, attr, spec, module)
    raise CliError(
        f"'{spec}' is {_describe(value)}, not a graph: point at {_WHAT}.", ExitCode.USAGE
    )


def _call_factory(function: Any, attr: str, spec: str, module: ModuleType) -> Loaded:
    refusal = _not_a_factory(function)
    if refusal is not None:
        raise CliError(
            f"'{spec}' is a function, not a graph, and hitlgraph does not call it to make one: "
            f"{attr}() {refusal}. {_FACTORY_RULE} Or point at a graph; {_graphs_hint(module)}.",
            ExitCode.USAGE,
        )
    try:
        value = function()
    except Exception as exc:
        raise CliError(f"Calling {attr}() (from '{spec}') to make the graph failed: "
                       f"{type(exc).__name__}: {exc}", ExitCode.GRAPH_ERROR) from exc
    if not _is_graph(value):
        raise CliError(f"{attr}() (from '{spec}') returned {_describe(value)}, not a graph: "
                       f"it should return {_WHAT}.", ExitCode.USAGE)
    return Loaded(spec, value, f"{attr}(), a factory that returned {_kind(value)}")


def _not_a_factory(function: Any) -> str | None:
    """Why `function` is not called to make a graph, or None when it is a factory."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return "has no signature to inspect"
    needed = [p.name for p in signature.parameters.values()
              if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if needed:
        return f"takes arguments ({', '.join(needed)})"
    returns = signature.return_annotation
    if returns is signature.empty:
        return "has no return annotation"
    if not _names_a_graph(returns):
        shown = returns if isinstance(returns, str) else getattr(returns, "__name__", returns)
        return f"is annotated to return '{shown}'"
    return None


def _names_a_graph(annotation: Any) -> bool:
    """Whether a return annotation is a graph type: a class (or its string, as with
    `from __future__ import annotations`, read by name, not evaluated)."""
    if isinstance(annotation, str):
        head = _ANNOTATION.fullmatch(annotation)
        return head is not None and head.group(1) in _GRAPH_NAMES
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, _GRAPH_CLASSES)


def _describe(value: Any) -> str:
    if isinstance(value, ModuleType):
        return f"the module {value.__name__}"
    kind = type(value).__name__
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"


def bind(loaded: Loaded, saver: BaseCheckpointSaver | None) -> Target:
    """The graph load_object found, made runnable with `saver` as checkpointer.

    A builder is compiled; a compiled graph or entrypoint is copied with its checkpointer
    replaced, so its breakpoints, name and config stay and the thread lives in the CLI's file.
    """
    from hitlgraph.errors import GraphValidationError

    try:
        runnable, compiled = with_checkpointer(loaded.value, saver)
    except GraphValidationError as exc:
        raise CliError(f"Compiling '{loaded.spec}' failed: {exc}",
                       ExitCode.GRAPH_ERROR) from exc
    return Target(loaded.spec, runnable, compiled)

