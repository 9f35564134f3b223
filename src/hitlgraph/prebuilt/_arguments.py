"""A tool function's arguments, checked and converted before it runs, as LangGraph's ToolNode
does: LangGraph wraps a plain function in a LangChain tool, which validates the model's
arguments through a pydantic model built from the signature. So an int given as "3" arrives
as 3, a dict given for a pydantic-model parameter arrives as that model, and an argument of
the wrong type or a missing one is a ToolInvocationError worded as LangGraph's ("a: Field
required"), which ToolNode turns into the error ToolMessage the model can correct.

pydantic is imported when a tool is made (its schema for the model comes from the same
shape), not when hitlgraph is; without pydantic installed, only missing and unexpected
arguments are caught."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from typing_extensions import NotRequired, TypedDict

from hitlgraph.prebuilt._arg_schema import arguments_schema

__all__ = ["Arguments", "ToolInvocationError", "error_lines"]


class ToolInvocationError(TypeError):
    """A tool call's arguments do not fit the tool: the model's mistake, which ToolNode
    answers with an error ToolMessage by default (other errors propagate, as in LangGraph).

    Attributes:
        tool_name: the tool called.
        tool_kwargs: the arguments the model gave.
        message: the text the model is shown.
    """

    def __init__(self, tool_name: str, tool_kwargs: dict[str, Any], error: str) -> None:
        self.tool_name = tool_name
        self.tool_kwargs = tool_kwargs
        self.message = (f"Error invoking tool '{tool_name}' with kwargs {tool_kwargs} with "
                        f"error:\n {error}\n Please fix the error and try again.")
        super().__init__(self.message)


def error_lines(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """pydantic's validation errors as LangGraph shows them to the model: "loc: msg" each."""
    return [".".join(str(part) for part in e.get("loc", ())) + ": "
            + str(e.get("msg", "Unknown error")) for e in errors]


class Arguments:
    """How one tool function takes the arguments of a call: checked, converted to the
    parameters' types, the arguments ToolNode injects passed through as they are."""

    def __init__(self, name: str, func: Callable[..., Any], injected: Collection[str]) -> None:
        self.name = name
        self._func = func
        self._injected = frozenset(injected)
        try:
            params = dict(inspect.signature(func).parameters)
            self._checked = True
        except (TypeError, ValueError):  # no signature to check (a builtin): the call decides
            params, self._checked = {}, False
        self._takes_extra = any(p.kind is p.VAR_KEYWORD for p in params.values())
        self._params = {n: p for n, p in params.items() if n not in self._injected
                        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        self._validator: Any = None

    def convert(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments to call the function with.

        Raises:
            ToolInvocationError: an argument is missing, unexpected or of the wrong type.
        """
        if not self._checked:
            return dict(args)
        own = {k: v for k, v in args.items() if k in self._params}
        problems, converted = self._validate(own)
        if not self._takes_extra:
            problems += [f"{k}: Unexpected argument" for k in args
                         if k not in self._params and k not in self._injected]
        if problems:
            raise ToolInvocationError(self.name, dict(args), "\n".join(problems))
        return {**args, **converted}

    def json_schema(self) -> dict[str, Any] | None:
        """The arguments' JSON schema from the same pydantic shape the call is checked with
        (None without pydantic, or when an argument's type has no JSON form)."""
        if not self._checked:
            return None
        validator = self._validator
        if validator is None:
            validator = self._validator = _validator_of(self._func, self._params)
        if validator is False:
            return None
        return arguments_schema(validator, self._params)

    def _validate(self, own: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        validator = self._validator
        if validator is None:
            validator = self._validator = _validator_of(self._func, self._params)
        if validator is False:  # (no pydantic: only missing arguments are found)
            return [f"{n}: Field required" for n, p in self._params.items()
                    if p.default is p.empty and n not in own], own
        from pydantic import ValidationError

        try:
            return [], validator.validate_python(own)
        except ValidationError as exc:
            return error_lines(exc.errors()), own


def _validator_of(func: Callable[..., Any], params: Mapping[str, inspect.Parameter]) -> Any:
    """A pydantic TypeAdapter over a TypedDict of the parameters (False without pydantic).

    A TypedDict rather than a model: a parameter may be named as a BaseModel attribute
    ("json", "schema") without a clash, and one left out keeps the function's default."""
    try:
        from pydantic import ConfigDict, PydanticUserError, TypeAdapter
    except ImportError:
        return False
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:  # (a hint names something not importable here: check presence only)
        hints = {}
    fields: dict[str, Any] = {}
    for name, param in params.items():
        hint = hints.get(name, Any)
        fields[name] = hint if param.default is param.empty else NotRequired[hint]
    make: Any = TypedDict  # (mypy accepts only a literal class statement)
    shape = make(f"{getattr(func, '__name__', 'tool')}_arguments", fields)
    shape.__pydantic_config__ = ConfigDict(arbitrary_types_allowed=True)
    try:
        return TypeAdapter(shape)
    except PydanticUserError:  # (a hint pydantic cannot check: check presence only)
        return False
