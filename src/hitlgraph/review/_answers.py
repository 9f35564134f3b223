"""Typed answers: interrupt(value, response_schema=...) stores the schema as JSON Schema (never
as a class, so a paused thread stays loadable in a process that lacks the class), a resume is
checked against it before any node runs, and the node gets the answer as the schema's type.

A schema is a pydantic model class, a TypedDict, a dataclass (all turned into JSON Schema by
pydantic) or a JSON Schema dict (checked to be a valid schema). Answers are validated with the
`jsonschema` library, which works from the stored schema alone. Both come with the "review"
extra.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from hitlgraph._install import install_command
from hitlgraph.errors import InvalidAnswerError

__all__ = ["answer_errors", "check_answer", "schema_of", "typed_answer"]

_MAX_ERRORS = 20
"""At most this many problems are reported for one answer."""


def _needs(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise ImportError(
            f"interrupt(..., response_schema=...) needs {module}: install it with "
            f"{install_command('review')}"
        ) from exc


def schema_of(spec: Any) -> dict[str, Any] | None:
    """The JSON Schema of `spec` (None for None)."""
    if spec is None:
        return None
    jsonschema = _needs("jsonschema")
    if isinstance(spec, dict):
        try:
            jsonschema.validators.validator_for(spec).check_schema(spec)
        except jsonschema.SchemaError as exc:
            raise TypeError(f"response_schema is not a valid JSON Schema: {exc.message}") from exc
        return spec
    if isinstance(spec, type):
        return copy.deepcopy(_class_schema(spec))  # (the cached one stays as made)
    raise TypeError(
        "response_schema must be a pydantic model class, a TypedDict, a dataclass or a JSON "
        f"Schema dict, got {type(spec).__name__}: {spec!r}."
    )


@lru_cache(maxsize=256)
def _class_schema(cls: type) -> dict[str, Any]:
    """A class's JSON Schema, made once per class (interrupt() asks for it on every run of the
    node, and building it is the costly part)."""
    pydantic = _needs("pydantic")
    try:
        return dict(pydantic.TypeAdapter(cls).json_schema())
    except pydantic.PydanticUserError as exc:
        raise TypeError(f"response_schema {cls.__name__} has no JSON Schema: {exc}") from exc


def answer_errors(schema: dict[str, Any], answer: Any) -> list[dict[str, Any]]:
    """What is wrong with `answer` for `schema`: [{"loc": [...], "msg": ...}], empty if nothing."""
    jsonschema = _needs("jsonschema")
    validator = jsonschema.validators.validator_for(schema)(schema)
    found = sorted(validator.iter_errors(answer), key=lambda e: list(e.absolute_path))
    return [{"loc": list(e.absolute_path), "msg": e.message} for e in found[:_MAX_ERRORS]]


def check_answer(interrupt_id: str, schema: dict[str, Any] | None, answer: Any) -> None:
    """Raise InvalidAnswerError when `answer` does not match the interrupt's schema."""
    if schema is None:
        return
    errors = answer_errors(schema, answer)
    if errors:
        listed = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(answer)'}: {e['msg']}"
                           for e in errors)
        raise InvalidAnswerError(
            f"The answer to interrupt '{interrupt_id}' does not match its response_schema: "
            f"{listed}. Nothing ran; answer it again with Command(resume=...).",
            interrupt_id=interrupt_id, errors=errors,
        )


def typed_answer(spec: Any, answer: Any) -> Any:
    """The answer as the node asked for it: a model instance for a pydantic model class, the
    answer itself otherwise (already checked against the schema)."""
    if isinstance(spec, type) and hasattr(spec, "model_validate"):
        return spec.model_validate(answer)
    return answer
