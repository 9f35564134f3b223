"""Error answers: request validation errors as LangGraph's server answers them (422 with
`detail` a string that names each field at fault and what was wrong with it), and a database
that cannot be reached (503 with Retry-After, never a 500)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["database_unavailable", "describe_errors", "unavailable_errors", "validation_error"]

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


RETRY_AFTER_SECONDS = 2
"""What a 503 tells clients to wait before trying again."""


@functools.cache
def unavailable_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the database cannot be reached now: the store's own, psycopg's
    OperationalError (lost connections, shutdowns, pool timeouts) where psycopg is installed,
    and the fault suite's injected lost connection. (Found once: a run asks several times.)"""
    from hitlgraph._faults import InjectedFault
    from hitlgraph.server.store import StoreUnavailable

    found: list[type[BaseException]] = [StoreUnavailable, InjectedFault]
    try:
        import psycopg
    except ImportError:  # a server on SQLite without the postgres extra
        pass
    else:
        found.append(psycopg.OperationalError)
    return tuple(found)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After for a request that failed because the database could not be
    reached: the client may send it again (nothing is known to be written), instead of a 500
    that reads as a bug."""
    return JSONResponse(
        {"detail": "The server's database is not reachable right now; try again in "
                   f"{RETRY_AFTER_SECONDS} seconds."},
        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
