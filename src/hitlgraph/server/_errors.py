"""Request validation errors as LangGraph's server answers them: 422 with `detail` a string
that names each field at fault and what was wrong with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["describe_errors", "validation_error"]

_SHOWN = 10
"""Errors named in one detail; the rest are counted."""


def _one(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    message = str(error.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """One line per error (field path: message), at most _SHOWN of them. The values sent are
    not repeated, so any body can be described (NaN, deep nesting, huge strings)."""
    lines = [_one(error) for error in errors[:_SHOWN]]
    if len(errors) > _SHOWN:
        lines.append(f"... and {len(errors) - _SHOWN} more errors")
    return "Invalid request body: " + "; ".join(lines) if lines else "Invalid request."


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """The 422 answer of a request FastAPI could not validate."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": describe_errors(errors)}, status_code=422)
