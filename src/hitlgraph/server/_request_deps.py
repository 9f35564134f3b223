"""A route's dependencies that only look at the request, solved as one.

FastAPI solves each dependency of a route through the same general machinery: a recursive
call that builds the dependency's path, query, header and cookie parameters (none, here), a
cache key, and three looks at what kind of callable it is, per dependency per request. The
routes here depend on `async def f(request)` lookups only (the runtime, the caller's tenant
and principal, the check of the ids in the path), three or four per route: FastAPI's solving
was half the cost of a GET /threads/{id}/state outside its database read.

`request_only(dependant)` gives the route's dependant with those lookups replaced by one
dependency that calls them in the same order (each callable once, as FastAPI's per-request
cache does) and an endpoint that takes their values from it. They still run where FastAPI
ran them: after the body is parsed and before the parameters are validated, so a request
with two faults is refused for the same one. A dependant with any other kind of dependency
is left to FastAPI (None)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import fastapi.routing
from fastapi.dependencies.models import Dependant
from starlette.requests import Request

__all__ = ["Quick", "request_only"]

_VALUES = "_hitlgraph_request_deps"
"""The name the one dependency's values are passed to the endpoint under (and their key
in the request's scope, for a route without a body)."""
_REQUEST = "_hitlgraph_request"
"""The name the request is passed to the endpoint under, when the endpoint takes none."""

Lookup = Callable[[Request], Awaitable[Any]]


def _lookup_of(sub: Dependant) -> Lookup | None:
    """The call of a dependency that only takes the request (or nothing), else None."""
    call = sub.call
    if (call is None or sub.dependencies or sub.path_params or sub.query_params
            or sub.header_params or sub.cookie_params or sub.body_params
            or sub.websocket_param_name or sub.http_connection_param_name
            or sub.response_param_name or sub.background_tasks_param_name
            or sub.security_scopes_param_name or sub.own_oauth_scopes
            or sub.concurrency is not None or not sub.use_cache
            or not inspect.iscoroutinefunction(call)):
        return None
    name = sub.request_param_name
    if name is None:
        async def no_args(request: Request) -> Any:
            return await call()
        return no_args
    if name == "request":
        lookup: Lookup = call
        return lookup

    async def named(request: Request) -> Any:
        return await call(**{name: request})
    return named


def _solver(steps: list[tuple[str | None, Any, Lookup]]
            ) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    async def solve(request: Request) -> dict[str, Any]:
        values: dict[str, Any] = {}
        done: dict[Any, Any] = {}
        for name, key, lookup in steps:
            value = done[key] if key in done else await lookup(request)
            done[key] = value
            if name is not None:
                values[name] = value
        return values
    return solve


def _endpoint(call: Callable[..., Awaitable[Any]], request_name: str | None
              ) -> Callable[..., Awaitable[Any]]:
    """`call`, taking the lookups' values from the one dependency's (`request_name` None),
    else from the request's scope (where `Quick.before` left them), the request being
    passed as `request_name` (and kept when the endpoint takes it)."""
    if request_name is None:
        async def endpoint(**values: Any) -> Any:
            values.update(values.pop(_VALUES))
            return await call(**values)
    else:
        async def endpoint(**values: Any) -> Any:
            request = values.pop(_REQUEST) if request_name == _REQUEST else values[request_name]
            values.update(request.scope.pop(_VALUES))
            return await call(**values)
    endpoint = functools.wraps(call)(endpoint)
    # FastAPI names the endpoint's file and line in its validation errors' text (logs):
    # the endpoint's, not this wrapper's.
    contexts = getattr(fastapi.routing, "_endpoint_context_cache", None)
    context_of = getattr(fastapi.routing, "_extract_endpoint_context", None)
    if isinstance(contexts, dict) and context_of is not None:
        contexts[id(endpoint)] = context_of(call)
    return endpoint


@dataclasses.dataclass(frozen=True, slots=True)
class Quick:
    """What a route's handler is built on instead of its dependant."""

    dependant: Dependant
    """For FastAPI's handler: the route's, with the lookups taken out."""
    before: Callable[[Request], Awaitable[None]] | None
    """For a route without a body: solves the lookups (into the request's scope), to be
    awaited before FastAPI's handler, which does nothing before them for such a route. None:
    the dependant holds them as one dependency (a route with a body: FastAPI parses it
    first, and its JSON errors come before theirs)."""


def request_only(dependant: Dependant, *, has_body: bool) -> Quick | None:
    """`dependant` (a route's) with its request-only dependencies solved as one (see the
    module docstring), or None when it has none or has any other kind."""
    call = dependant.call
    if not dependant.dependencies or call is None or not inspect.iscoroutinefunction(call):
        return None
    steps: list[tuple[str | None, Any, Lookup]] = []
    for sub in dependant.dependencies:
        lookup = _lookup_of(sub)
        if lookup is None:
            return None
        steps.append((sub.name, sub.call, lookup))  # (FastAPI's cache key, scopes aside)
    solve = _solver(steps)
    if has_body:
        one = Dependant(call=solve, name=_VALUES, request_param_name="request",
                        path=dependant.path, use_cache=False)
        return Quick(dataclasses.replace(dependant, dependencies=[one],
                                         call=_endpoint(call, None)), None)

    async def before(request: Request) -> None:
        request.scope[_VALUES] = await solve(request)

    name = dependant.request_param_name or _REQUEST
    return Quick(dataclasses.replace(dependant, dependencies=[], request_param_name=name,
                                     call=_endpoint(call, name)), before)
