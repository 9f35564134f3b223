"""Finding the graph a `MODULE:GRAPH` argument names, and binding it to the CLI's saver."""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from hitlgraph._rebind import with_checkpointer
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.func import EntrypointGraph
from hitlgraph.graph.state import StateGraph
from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = ["Target", "bind", "load_object", "load_target"]

_EXAMPLE = "e.g. my_app.agent:graph or path/to/agent.py:graph"
_WHAT = ("a compiled graph (builder.compile()), a StateGraph builder, an @entrypoint "
         "function, or a function without arguments that returns one")


@dataclass(frozen=True, slots=True)
class Target:
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
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
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
    return isinstance(value, (CompiledStateGraph, StateGraph, EntrypointGraph))


def load_object(spec: str) -> Any:
    """The object `spec` ("module:attr", "file.py:attr", attr may be dotted) names.

    Raises:
        CliError: naming the bad part and what to do; the exit code says which kind.
    """
    module_name, attr = _split(spec)
    module = _import(module_name, spec)
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            graphs = sorted(k for k, v in vars(module).items()
                            if not k.startswith("_") and _is_graph(v))
            hint = (f"graphs it has: {', '.join(graphs)}" if graphs
                    else "it has no graph at module level (a function without arguments that "
                    "returns one works too)")
            close = difflib.get_close_matches(part, [k for k in dir(value)
                                                      if not k.startswith("_")], n=1)
            maybe = f" (did you mean '{close[0]}'?)" if close else ""
            raise CliError(
                f"'{module_name}' has no attribute '{attr}'{maybe} (from '{spec}'); {hint}.",
                ExitCode.NOT_FOUND,
            )
        value = getattr(value, part)
    if not _is_graph(value) and _is_factory(value):
        try:
            value = value()
        except Exception as exc:
            raise CliError(f"Calling {attr}() (from '{spec}') to make the graph failed: "
                           f"{type(exc).__name__}: {exc}", ExitCode.GRAPH_ERROR) from exc
        if not _is_graph(value):
            raise CliError(f"{attr}() (from '{spec}') returned {_describe(value)}, not a graph: "
                           f"it should return {_WHAT}.", ExitCode.USAGE)
    if not _is_graph(value):
        raise CliError(
            f"'{spec}' is {_describe(value)}, not a graph: point at {_WHAT}.", ExitCode.USAGE
        )
    return value


def _is_factory(value: Any) -> bool:
    """A plain function that takes no argument: called to make the graph (build_graph)."""
    if not inspect.isfunction(value):
        return False
    try:
        params = inspect.signature(value).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def _describe(value: Any) -> str:
    if isinstance(value, ModuleType):
        return f"the module {value.__name__}"
    kind = type(value).__name__
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"


def bind(value: Any, saver: BaseCheckpointSaver | None, spec: str) -> Target:
    """`value` (a graph as load_object returns it) made runnable with `saver` as checkpointer.

    A builder is compiled; a compiled graph or entrypoint is copied with its checkpointer
    replaced, so its breakpoints, name and config stay and the thread lives in the CLI's file.
    """
    from hitlgraph.errors import GraphValidationError

    try:
        runnable, compiled = with_checkpointer(value, saver)
    except GraphValidationError as exc:
        raise CliError(f"Compiling '{spec}' failed: {exc}", ExitCode.GRAPH_ERROR) from exc
    return Target(spec, runnable, compiled)


def load_target(spec: str, saver: BaseCheckpointSaver | None) -> Target:
    """load_object(spec), bound to `saver`."""
    return bind(load_object(spec), saver, spec)
