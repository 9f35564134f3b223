"""The routers' routes added to the app itself, as FastAPI's include_router did up to 0.12x.

Newer FastAPI keeps an included router as one entry of the app's routes: a request's path is
then matched against every route of every router included before the one that serves it,
each through a layer of bookkeeping in the request's scope, and against the serving
router's routes twice (once to pick the router, once to pick the route). For
`POST /threads/{id}/runs/wait`, the sixth router, that was about fifty matches, a tenth of
a millisecond per request. Added to the app one by one, in the same order, each route is
matched once, by its own regular expression, and the OpenAPI schema, the order routes are
tried in and every answer stay as they were.

Most routes tried do not match: `_QuickRoute` answers those after one look at its regular
expression, before FastAPI's and Starlette's layers of `matches` (which would come to the
same answer after that same look). Its dependencies that only look at the request are
solved as one (`_request_deps.py`), unless the app overrides dependencies (tests may).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from hitlgraph.server._request_deps import request_only

__all__ = ["add_routes"]


class _QuickRoute(APIRoute):
    """An API route that tells a path it cannot match at once (see the module docstring)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and self.path_regex.match(get_route_path(scope)) is None:
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        general = super().get_route_handler()
        try:
            quick = request_only(self.dependant, has_body=self.body_field is not None)
        except (AttributeError, TypeError):  # a FastAPI whose Dependant differs: its own way
            quick = None
        if quick is None:
            return general
        dependant, self.dependant = self.dependant, quick.dependant
        try:  # (FastAPI's handler, built on the quick dependant; self.dependant stays)
            handler = super().get_route_handler()
        finally:
            self.dependant = dependant
        provider, before = self.dependency_overrides_provider, quick.before

        async def handle(request: Request) -> Response:
            if provider is not None and provider.dependency_overrides:
                return await general(request)
            if before is not None:
                await before(request)
            return await handler(request)
        return handle


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add `router`'s routes to `app` (its tags and dependencies are in each route already,
    as the router added them); a router holding anything but API routes is included."""
    if not all(isinstance(route, APIRoute) for route in router.routes):
        app.include_router(router)
        return
    for route in router.routes:
        assert isinstance(route, APIRoute)
        app.router.add_api_route(
            route.path, route.endpoint, response_model=route.response_model,
            status_code=route.status_code, tags=route.tags, dependencies=route.dependencies,
            summary=route.summary, description=route.description,
            response_description=route.response_description, responses=route.responses,
            deprecated=route.deprecated, methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema, response_class=route.response_class,
            name=route.name, callbacks=route.callbacks,
            route_class_override=_QuickRoute if type(route) is APIRoute else type(route),
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function)
