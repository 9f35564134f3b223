"""Tenant isolation over every route, generated from the app's route table.

Every APIRoute of `create_app()` is walked: each id it takes (in the path, the query or the
body) must have an id kind in ID_KINDS, QUERY_IDS or BODY_IDS, and each route taking an id
must have requests in CALLS. Then, on a real server with two tenants, tenant B calls every
route with tenant A's real ids ("foreign") and with ids nobody has ("missing"): the status
and the body (with the ids themselves written as placeholders) must be the same, a foreign id
in the path must answer 404, no answer to B may hold any of A's ids or data, and A's threads
must be exactly as they were. A route added without its tenant check fails here; a route
added with an id this file does not know fails with a message saying what to add.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from hitlgraph.server import ServerSettings, create_app

KEY_A = "tenancy-key-a"
KEY_B = "tenancy-key-b"
HERE = "tests/server/test_server_tenancy_routes.py"

both_backends = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
"""For the tests that start a server: once on SQLite, once on PostgreSQL (a fresh schema;
skipped without HITLGRAPH_TEST_POSTGRES_DSN, failed in CI), as conftest's BOTH_BACKENDS."""


# -- the id kinds ------------------------------------------------------------------------------

@dataclass(frozen=True)
class IdKind:
    """What an id names, and whether it belongs to one tenant."""

    owned: bool
    """True: one tenant's (another tenant's must look missing). False: every tenant sees
    the same ones (a subgraph's namespace)."""
    what: str


ID_KINDS: dict[str, IdKind] = {
    "thread_id": IdKind(owned=True, what="a thread (POST /threads)"),
    "run_id": IdKind(owned=True, what="a finished run on that thread"),
    "checkpoint_id": IdKind(owned=True, what="an older checkpoint of that thread"),
    "assistant_id": IdKind(owned=True, what="an assistant made with POST /assistants (a "
                           "served graph's own assistant is every tenant's: see "
                           "test_shared_assistants_answer_every_tenant_alike)"),
    "namespace": IdKind(owned=False, what="a subgraph's namespace (node names: no tenant's)"),
    "cron_id": IdKind(owned=True, what="a cron on that thread (POST .../runs/crons)"),
    "interrupt_id": IdKind(owned=True, what="an open interrupt of that thread"),
}
"""Path parameter name -> its kind. A World (below) holds one real id of each kind."""

QUERY_IDS: dict[str, str | None] = {
    "before": "checkpoint_id", "limit": None, "offset": None, "status": None,
    "subgraphs": None, "stream_mode": None, "cancel_on_disconnect": None, "wait": None,
    "action": None, "xray": None, "recurse": None, "delete_threads": None,
    "stream_modes": None, "namespace": None, "key": None, "refresh_ttl": None, "since": None,
    "select": None,
}
"""Query parameter name -> the id kind it carries, or None when it carries no id."""

BODY_IDS: dict[str, str | None] = {
    "assistant_id": "assistant_id", "thread_id": "thread_id", "ids": "thread_id",
    "checkpoint_id": "checkpoint_id", "before": "checkpoint_id", "checkpoint": "checkpoint_id",
    "thread_ids": "thread_id",
    "graph_id": None, "as_node": None, "metadata": None, "values": None, "config": None,
    "context": None,
}
"""Body field name (at any depth) -> the id kind it carries, or None when it carries no
tenant's id. Only fields whose name looks like an id (see `_looks_like_id`) must be listed."""


def _looks_like_id(name: str) -> bool:
    return name.endswith(("_id", "_ids")) or name in ("ids", "before", "checkpoint")


# -- the requests ------------------------------------------------------------------------------

Ids = dict[str, str]


@dataclass(frozen=True)
class Call:
    """A request a route accepts from the owner of the ids. `slots` are the ids it sends
    outside the path (slot name -> id kind); body and query get every id by slot or path
    parameter name."""

    method: str
    path: str
    body: Callable[[Ids], Any] | None = None
    query: Callable[[Ids], dict[str, Any]] | None = None
    slots: dict[str, str] = field(default_factory=dict)
    label: str = ""
    not_lookups: frozenset[str] = frozenset({"cp_thread"})
    """Slots whose id the server does not look up, so a foreign one needs no 404: a
    checkpoint's own thread_id (the path names the thread), history's `before` (an order:
    "older than this id", whoever's it is)."""
    headers: Callable[[Ids], dict[str, str]] | None = None
    stream: bool = False
    """The route answers a stream that stays open (a thread's): only its status is read,
    and its body when it is an error."""


RESUME = {"assistant_id": "review", "command": {"resume": {"approved": True}}}
YEARLY = "0 0 1 1 *"
T, TS, TSC = "/threads/{thread_id}", "/threads/{thread_id}/state", "/threads/{thread_id}/runs"
RUN = "/threads/{thread_id}/runs/{run_id}"
CP = {"cp": "checkpoint_id"}
CP_T = {"cp": "checkpoint_id", "cp_thread": "thread_id"}
ORDER = frozenset({"cp", "cp_thread"})


def _run_calls(path: str) -> list[Call]:
    return [
        Call("POST", path, body=lambda i: RESUME, label="resume"),
        Call("POST", path, slots={"asst": "assistant_id"}, label="a made assistant",
             body=lambda i: {"assistant_id": i["asst"], "input": {"topic": "mine"}}),
        Call("POST", path, slots=CP, label="fork at checkpoint_id", body=lambda i: {
            "assistant_id": "review", "input": {"topic": "fork"}, "checkpoint_id": i["cp"]}),
        Call("POST", path, slots=CP_T, label="fork at checkpoint", body=lambda i: {
            "assistant_id": "review", "input": {"topic": "fork"},
            "checkpoint": {"thread_id": i["cp_thread"], "checkpoint_id": i["cp"]}}),
    ]


CALLS: list[Call] = [
    Call("GET", "/assistants/{assistant_id}"),
    Call("GET", "/assistants/{assistant_id}/graph"),
    Call("GET", "/assistants/{assistant_id}/schemas"),
    Call("GET", "/assistants/{assistant_id}/subgraphs", query=lambda i: {"recurse": "true"}),
    Call("GET", "/assistants/{assistant_id}/subgraphs/{namespace}"),
    Call("PATCH", "/assistants/{assistant_id}", body=lambda i: {"metadata": {"patched": True}}),
    Call("POST", "/assistants/{assistant_id}/versions", body=lambda i: {"limit": 100}),
    Call("POST", "/assistants/{assistant_id}/latest", body=lambda i: {"version": 1}),
    Call("DELETE", "/assistants/{assistant_id}", query=lambda i: {"delete_threads": "true"}),
    Call("GET", T),
    Call("PATCH", T, body=lambda i: {"metadata": {"patched": True}}),
    Call("DELETE", T),
    Call("POST", T + "/copy"),
    Call("GET", TS),
    Call("GET", TS + "/{checkpoint_id}"),
    Call("POST", TS + "/checkpoint", slots=CP_T, body=lambda i: {
        "checkpoint": {"thread_id": i["cp_thread"], "checkpoint_id": i["cp"]}}),
    Call("POST", TS, body=lambda i: {"values": {"draft": "edited"}}, label="values"),
    Call("POST", TS, slots=CP, label="at checkpoint_id", body=lambda i: {
        "values": {"draft": "edited"}, "checkpoint_id": i["cp"]}),
    Call("POST", TS, slots=CP_T, label="at checkpoint", body=lambda i: {
        "values": {"draft": "edited"},
        "checkpoint": {"thread_id": i["cp_thread"], "checkpoint_id": i["cp"]}}),
    Call("POST", T + "/history", slots=CP, label="before id", not_lookups=ORDER,
         body=lambda i: {"limit": 50, "before": i["cp"]}),
    Call("POST", T + "/history", slots=CP_T, label="before and checkpoint", not_lookups=ORDER,
         body=lambda i: {
             "limit": 50, "before": {"thread_id": i["cp_thread"], "checkpoint_id": i["cp"]},
             "checkpoint": {"thread_id": i["cp_thread"], "checkpoint_id": ""}}),
    Call("GET", T + "/history", slots=CP, not_lookups=ORDER,
         query=lambda i: {"limit": 50, "before": i["cp"]}),
    Call("GET", T + "/decisions"),
    Call("POST", T + "/interrupts/{interrupt_id}/claim", body=lambda i: {}),
    Call("POST", T + "/interrupts/{interrupt_id}/reassign", body=lambda i: {"to": "someone"}),
    Call("POST", T + "/interrupts/{interrupt_id}/release", body=lambda i: {"force": True}),
    *_run_calls(TSC), *_run_calls(TSC + "/wait"), *_run_calls(TSC + "/stream"),
    Call("GET", TSC, query=lambda i: {"status": "success", "limit": 100}),
    Call("GET", RUN),
    Call("GET", RUN + "/join"),
    Call("GET", RUN + "/stream"),
    Call("POST", RUN + "/cancel", query=lambda i: {"wait": "true"}),
    Call("DELETE", RUN),
    Call("GET", T + "/stream", query=lambda i: {"stream_modes": "lifecycle"}, stream=True),
    Call("GET", T + "/stream", slots={"run": "run_id"}, stream=True, label="resumed",
         headers=lambda i: {"Last-Event-ID": f"{i['run']}:done"}),
    Call("POST", TSC + "/crons", body=lambda i: {"assistant_id": "review", "schedule": YEARLY}),
    Call("POST", TSC + "/crons", slots={"asst": "assistant_id"}, label="a made assistant",
         body=lambda i: {"assistant_id": i["asst"], "schedule": YEARLY}),
    Call("GET", "/runs/crons/{cron_id}"),
    Call("PATCH", "/runs/crons/{cron_id}", body=lambda i: {"enabled": False}),
    Call("DELETE", "/runs/crons/{cron_id}"),
]
"""Requests for every route that takes an id (a route may have several)."""

BODY_ID_PROBES: dict[tuple[str, str], str] = {
    ("POST", "/threads"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/threads/search"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/runs"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/runs/wait"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/runs/stream"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/assistants"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/assistants/search"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/assistants/count"): "test_ids_in_bodies_and_filters_never_reach_another_tenant",
    ("POST", "/threads/prune"): "test_pruning_and_batches_never_reach_another_tenant",
    ("POST", "/runs/batch"): "test_pruning_and_batches_never_reach_another_tenant",
    ("POST", "/runs/crons"): "test_cron_bodies_never_reach_another_tenant",
    ("POST", "/runs/crons/search"): "test_cron_bodies_never_reach_another_tenant",
    ("POST", "/runs/crons/count"): "test_cron_bodies_never_reach_another_tenant",
    ("POST", "/decisions/search"):
        "tests/server/test_decisions_server.py::test_two_keys_decide_and_each_sees_its_own",
}
"""Routes without an id in the path whose body carries ids, and the test probing them."""


# -- walking the route table -------------------------------------------------------------------

@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    body_fields: tuple[str, ...]
    """Dotted names of the body model's fields, at every depth."""


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every APIRoute, looking inside included routers (FastAPI keeps
    them as one node per router since 0.16x)."""
    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, APIRoute]]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield prefix + route.path, route
            elif hasattr(route, "effective_route_contexts"):
                for ctx in route.effective_route_contexts():
                    if isinstance(ctx.original_route, APIRoute):
                        yield ctx.path, ctx.original_route
            elif hasattr(route, "original_router"):
                context = getattr(route, "include_context", None)
                yield from walk(route.original_router.routes,
                                prefix + getattr(context, "prefix", ""))
    yield from walk(list(app.routes), "")


def _model_fields(model: Any, prefix: str = "") -> Iterator[str]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return
    for name, info in model.model_fields.items():
        yield prefix + name
        for arg in _type_args(info.annotation):
            yield from _model_fields(arg, f"{prefix}{name}.")


def _type_args(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _type_args(arg)


def route_table(app: FastAPI) -> list[RouteInfo]:
    """Every (method, path) the app serves, with the names of the ids it can take."""
    out: list[RouteInfo] = []
    for path, route in _api_routes(app):
        body = route.body_field.field_info.annotation if route.body_field else None
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            out.append(RouteInfo(
                method=method, path=path,
                path_params=tuple(p.name for p in route.dependant.path_params),
                query_params=tuple(p.name for p in route.dependant.query_params),
                body_fields=tuple(dict.fromkeys(_model_fields(body)))))
    return out


def coverage_problems(app: FastAPI) -> list[str]:
    """What the tables above do not cover, each problem with how to cover it."""
    problems: list[str] = []
    table = route_table(app)
    walked = {(r.method, r.path) for r in table}
    for path, item in app.openapi().get("paths", {}).items():
        for method in item:
            if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE") and (
                    method.upper(), path) not in walked:
                problems.append(f"{method.upper()} {path} is in the OpenAPI schema but the "
                                "route walk did not find it: fix _api_routes() in " + HERE)
    calls = {(c.method, c.path) for c in CALLS}
    sent = {(c.method, c.path, kind) for c in CALLS for kind in c.slots.values()}
    for r in table:
        where = f"{r.method} {r.path}"
        for name in r.path_params:
            if name not in ID_KINDS:
                problems.append(
                    f"{where} takes the path parameter '{name}', which {HERE} has no id kind "
                    f"for. Add '{name}' to ID_KINDS (owned=True if it is one tenant's), give "
                    "World a real id of that kind made by tenant A (make_world), and add a "
                    f"Call('{r.method}', '{r.path}', ...) to CALLS that its owner's request "
                    "passes with.")
        if r.path_params and (r.method, r.path) not in calls:
            problems.append(
                f"{where} takes {list(r.path_params)} but has no request in CALLS: add "
                f"Call('{r.method}', '{r.path}', body=..., query=...) to {HERE}, a request "
                "its owner gets a 2xx for; the test then calls it with another tenant's ids.")
        for name in r.query_params:
            if name not in QUERY_IDS:
                problems.append(
                    f"{where} takes the query parameter '{name}', unknown to {HERE}: add it "
                    "to QUERY_IDS, with the id kind it carries or None.")
            elif QUERY_IDS[name] is not None and ID_KINDS[QUERY_IDS[name] or ""].owned and (
                    r.method, r.path, QUERY_IDS[name]) not in sent:
                problems.append(
                    f"{where} takes '{name}' (a {QUERY_IDS[name]}) in its query, but no Call "
                    f"in CALLS sends one: add a Call with slots={{'x': '{QUERY_IDS[name]}'}}.")
        for dotted in r.body_fields:
            name = dotted.rsplit(".", 1)[-1]
            if not _looks_like_id(name):
                continue
            if name not in BODY_IDS:
                problems.append(
                    f"{where} takes the body field '{dotted}', which looks like an id and is "
                    f"unknown to {HERE}: add '{name}' to BODY_IDS with the id kind it carries "
                    "(or None), and probe it.")
                continue
            kind = BODY_IDS[name]
            if kind is None or not ID_KINDS[kind].owned:
                continue
            if r.path_params and (r.method, r.path, kind) not in sent:
                problems.append(
                    f"{where} takes '{dotted}' (a {kind}) in its body, but no Call in CALLS "
                    f"sends one there: add a Call with slots={{'x': '{kind}'}} sending it.")
            if not r.path_params and (r.method, r.path) not in BODY_ID_PROBES:
                problems.append(
                    f"{where} takes '{dotted}' (a {kind}) in its body: probe it with "
                    f"another tenant's ids in a test of {HERE} and list the route in "
                    "BODY_ID_PROBES.")
    return problems


def _settings(config_file: Path, tmp_path: Path) -> ServerSettings:
    return ServerSettings(config=config_file, db=tmp_path / "walk.sqlite", read_env=False)


def test_every_route_taking_an_id_is_covered(config_file: Path, tmp_path: Path) -> None:
    problems = coverage_problems(create_app(_settings(config_file, tmp_path)))
    assert not problems, "\n".join(problems)


class _Gadget(BaseModel):
    """The body of a route the test below adds."""

    gadget_id: str


def test_an_uncovered_route_fails_with_how_to_cover_it(config_file: Path,
                                                       tmp_path: Path) -> None:
    app = create_app(_settings(config_file, tmp_path))

    @app.get("/threads/{thread_id}/widgets/{widget_id}")
    async def widget(thread_id: str, widget_id: str, owner_id: str | None = None) -> None:
        """A route someone adds without telling this file."""

    @app.post("/gadgets")
    async def gadget(body: _Gadget) -> None:
        """Another."""

    problems = "\n".join(coverage_problems(app))
    assert "path parameter 'widget_id'" in problems and "Add 'widget_id' to ID_KINDS" in problems
    assert "GET /threads/{thread_id}/widgets/{widget_id} takes ['thread_id', 'widget_id'] " \
           "but has no request in CALLS" in problems
    assert "query parameter 'owner_id'" in problems
    assert "body field 'gadget_id'" in problems


# -- the two tenants' data ---------------------------------------------------------------------

@dataclass
class World:
    """One tenant's data: an interrupted thread with a finished run and checkpoints, a
    finished thread, and an assistant with two versions. `secret` is in the first thread's
    values and metadata, and in the assistant's metadata."""

    tenant: str
    http: httpx.Client
    secret: str
    thread_id: str
    run_id: str
    checkpoint_id: str
    interrupt_id: str
    done_thread_id: str
    all_ids: set[str]
    assistant_id: str = ""
    cron_id: str = ""

    def ids(self) -> Ids:
        return {"thread_id": self.thread_id, "run_id": self.run_id,
                "checkpoint_id": self.checkpoint_id, "assistant_id": self.assistant_id,
                "namespace": "inner", "cron_id": self.cron_id,
                "interrupt_id": self.interrupt_id}


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 400, (response.request.method, response.request.url,
                                         response.status_code, response.text)
    return response.json() if response.content else None


def make_world(http: httpx.Client, tenant: str, secret: str) -> World:
    """Tenant data made through the API, as a client would."""
    tid = _ok(http.post("/threads", json={"metadata": {"owner": tenant, "secret": secret}})
              )["thread_id"]
    paused = _ok(http.post(f"/threads/{tid}/runs/wait", json={
        "assistant_id": "review", "input": {"topic": secret}}))
    (asked,) = paused["__interrupt__"]
    _ok(http.post(f"/threads/{tid}/interrupts/{asked['id']}/claim", json={}))
    (run,) = _ok(http.get(f"/threads/{tid}/runs"))
    history = _ok(http.get(f"/threads/{tid}/history", params={"limit": 100}))
    checkpoints = [h["checkpoint"]["checkpoint_id"] for h in history]
    done = _ok(http.post("/threads", json={"metadata": {"owner": tenant}}))["thread_id"]
    _ok(http.post(f"/threads/{done}/runs/wait", json={"assistant_id": "steps",
                                                      "input": {"value": secret}}))
    done_runs = _ok(http.get(f"/threads/{done}/runs"))
    done_history = _ok(http.get(f"/threads/{done}/history", params={"limit": 100}))
    assistant = _ok(http.post("/assistants", json={
        "graph_id": "review", "name": f"assistant of {tenant}",
        "metadata": {"owner": tenant, "secret": secret}}))["assistant_id"]
    _ok(http.patch(f"/assistants/{assistant}", json={"context": {"tone": secret}}))
    cron = _ok(http.post(f"/threads/{tid}/runs/crons", json={
        "assistant_id": assistant, "schedule": YEARLY, "input": {"topic": secret},
        "metadata": {"owner": tenant, "secret": secret}}))["cron_id"]
    all_ids = {tenant, tid, done, run["run_id"], asked["id"], secret, assistant, cron,
               *checkpoints,
               *(r["run_id"] for r in done_runs),
               *(h["checkpoint"]["checkpoint_id"] for h in done_history)}
    for h in history + done_history:
        all_ids.update(t["id"] for t in h["tasks"])
    return World(tenant=tenant, http=http, secret=secret, thread_id=tid, run_id=run["run_id"],
                 checkpoint_id=checkpoints[1], interrupt_id=asked["id"], done_thread_id=done,
                 all_ids=all_ids, assistant_id=assistant, cron_id=cron)


def snapshot(world: World) -> list[Any]:
    """Everything the owner can read about its threads."""
    out: list[Any] = []
    for tid in (world.thread_id, world.done_thread_id):
        out.append(_ok(world.http.get(f"/threads/{tid}")))
        out.append(_ok(world.http.get(f"/threads/{tid}/state")))
        out.append(_ok(world.http.get(f"/threads/{tid}/history", params={"limit": 100})))
        out.append(_ok(world.http.get(f"/threads/{tid}/runs", params={"limit": 100})))
    out.append(_ok(world.http.post("/threads/search", json={"limit": 1000})))
    out.append(_ok(world.http.get(f"/assistants/{world.assistant_id}")))
    out.append(_ok(world.http.post(f"/assistants/{world.assistant_id}/versions",
                                   json={"limit": 100})))
    out.append(_ok(world.http.post("/assistants/search", json={"limit": 1000})))
    out.append(_ok(world.http.post("/runs/crons/search", json={"limit": 1000})))
    return out


def _same_shape(value: str) -> str:
    """An id nobody has, written like `value` and sorting like it among other ids: its last
    8 hex digits are new. (Checkpoint ids are ordered by time, and history's `before` is an
    order, not a lookup: "before an id" must mean the same for a foreign and a missing id.)"""
    digits = "0123456789abcdef"
    head, tail = value[:-8], value[-8:]
    return head + "".join(random.choice(digits) if c in digits else c for c in tail.lower())


# -- comparing answers -------------------------------------------------------------------------

_GENERATED = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{16,64}\b")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")


def normalised(text: str, names: dict[str, str]) -> str:
    """The answer with each id we sent written as its name, then ids the server made (in
    order of appearance) and times as placeholders."""
    for value, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(value, f"<{name}>")
    seen: dict[str, str] = {}
    text = _GENERATED.sub(lambda m: seen.setdefault(m.group(0), f"<new{len(seen)}>"), text)
    return _TIMESTAMP.sub("<time>", text)


@dataclass
class Answer:
    status: int
    text: str


def send(http: httpx.Client, call: Call, ids: Ids) -> Answer:
    path = call.path.format(**{k: v for k, v in ids.items()
                               if "{" + k + "}" in call.path})
    request = http.build_request(
        call.method, path, json=call.body(ids) if call.body is not None else None,
        params=call.query(ids) if call.query is not None else None,
        headers=call.headers(ids) if call.headers is not None else None)
    response = http.send(request, stream=call.stream)
    try:
        if call.stream and response.status_code < 400:
            return Answer(response.status_code, "")
        return Answer(response.status_code, response.read().decode())
    finally:
        response.close()


def _path_params(call: Call) -> list[str]:
    return re.findall(r"{(\w+)}", call.path)


def _slots(call: Call) -> dict[str, str]:
    """Every id the call sends (path parameter or slot) -> its kind."""
    return {**{p: p for p in _path_params(call)}, **call.slots}


@dataclass
class Checker:
    a: World
    b: World
    new_b: Callable[[], World]
    missing: Ids
    failures: list[str] = field(default_factory=list)

    def leak(self, where: str, answer: Answer, sent: set[str]) -> None:
        for value in self.a.all_ids - sent:
            if value in answer.text:
                self.failures.append(f"{where}: tenant B's answer holds tenant A's "
                                     f"'{value}': {answer.text[:300]}")

    def compare(self, call: Call, role: Callable[[str, str], str]) -> None:
        """B sends `call` twice: with the foreign ids `role` picks (the others B's own),
        then with missing ids in their place; both answers must match."""
        slots = _slots(call)
        fresh = call.method != "GET"
        answers: list[tuple[Answer, dict[str, str]]] = []
        picked: dict[str, str] = {}
        for side in ("foreign", "missing"):
            owner = self.new_b() if fresh else self.b
            ids: Ids = {}
            names: dict[str, str] = {}
            for slot, kind in slots.items():
                picked[slot] = role(slot, kind)
                if picked[slot] == "own":
                    ids[slot] = owner.ids()[kind]
                elif side == "foreign" or not ID_KINDS[kind].owned:
                    ids[slot] = self.a.ids()[kind]
                else:
                    ids[slot] = self.missing[kind]
                names[ids[slot]] = f"{kind}:{picked[slot]}"
            answer = send(owner.http, call, ids)
            where = f"{call.method} {call.path} [{call.label}] {picked} as B, {side}"
            self.leak(where, answer, set(ids.values()))
            answers.append((answer, names))
        (foreign, f_names), (missing, m_names) = answers
        where = f"{call.method} {call.path} [{call.label}] with {picked}"
        left, right = normalised(foreign.text, f_names), normalised(missing.text, m_names)
        if (foreign.status, left) != (missing.status, right):
            self.failures.append(f"{where}: tenant A's ids answer {foreign.status} {left[:400]}"
                                 f" but missing ids answer {missing.status} {right[:400]}")
        looked_up = any(picked[s] == "foreign" and ID_KINDS[kind].owned
                        and s not in call.not_lookups for s, kind in slots.items())
        if looked_up and foreign.status != 404:
            self.failures.append(f"{where}: a foreign id answered {foreign.status}, not 404: "
                                 f"{foreign.text[:300]}")


def _variants(call: Call) -> Iterator[Callable[[str, str], str]]:
    """All ids foreign; then, with several, each owned id foreign alone, the others B's."""
    slots = _slots(call)
    yield lambda slot, kind: "foreign"
    owned = [s for s, k in slots.items() if ID_KINDS[k].owned]
    if len(owned) > 1:
        for alone in owned:
            yield _alone(alone)


def _alone(foreign_slot: str) -> Callable[[str, str], str]:
    def role(slot: str, kind: str) -> str:
        return "foreign" if slot == foreign_slot else "own"
    return role


@pytest.fixture
def tenants(start_server: Callable[..., RunningServer]
            ) -> Iterator[tuple[World, World, Callable[[], World]]]:
    running = start_server(api_keys={"team-a": KEY_A, "team-b": KEY_B})
    clients = [httpx.Client(base_url=running.url, headers={"x-api-key": key}, timeout=30)
               for key in (KEY_A, KEY_B)]
    try:
        http_a, http_b = clients
        a = make_world(http_a, "team-a", f"secret-{uuid.uuid4().hex[:12]}")
        b = make_world(http_b, "team-b", "b-topic")

        def new_b() -> World:
            return make_world(http_b, "team-b", "b-topic")

        yield a, b, new_b
    finally:
        for client in clients:
            client.close()


def _missing(a: World) -> Ids:
    return {"thread_id": str(uuid.uuid4()), "run_id": str(uuid.uuid4()),
            "checkpoint_id": _same_shape(a.checkpoint_id), "assistant_id": str(uuid.uuid4()),
            "cron_id": str(uuid.uuid4()), "interrupt_id": _same_shape(a.interrupt_id)}


@both_backends
def test_another_tenants_ids_in_every_route_answer_as_missing_ones(
        tenants: tuple[World, World, Callable[[], World]]) -> None:
    a, b, new_b = tenants
    before = snapshot(a)
    check = Checker(a=a, b=b, new_b=new_b, missing=_missing(a))
    for call in CALLS:
        if not any(ID_KINDS[k].owned for k in _slots(call).values()):
            continue
        for role in _variants(call):
            check.compare(call, role)
    assert not check.failures, "\n".join(check.failures)
    assert snapshot(a) == before, "tenant B's requests changed tenant A's threads"


@both_backends
def test_owners_get_an_answer_from_every_call(
        tenants: tuple[World, World, Callable[[], World]]) -> None:
    """The requests of CALLS are valid: with its own ids the owner gets neither 404 nor 422
    (so B's 404s above come from the tenant check, not from a bad request)."""
    _, b, new_b = tenants
    failures: list[str] = []
    for call in CALLS:
        owner = new_b() if call.method != "GET" else b
        answer = send(owner.http, call, {slot: owner.ids()[kind]
                                         for slot, kind in _slots(call).items()})
        if answer.status >= 400:
            failures.append(f"{call.method} {call.path} [{call.label}]: {answer.status} "
                            f"{answer.text[:300]}")
    assert not failures, "\n".join(failures)


@both_backends
def test_shared_assistants_answer_every_tenant_alike(
        tenants: tuple[World, World, Callable[[], World]]) -> None:
    """A served graph's own assistant (by graph id or its id): every tenant reads the same,
    and none may change it (409)."""
    a, b, _ = tenants
    review = _ok(a.http.get("/assistants/review"))["assistant_id"]
    for call in CALLS:
        if set(_slots(call).values()) - {"namespace"} != {"assistant_id"}:
            continue
        for name in ("review", review):
            ids = {"assistant_id": name, "namespace": "inner"}
            seen_a, seen_b = send(a.http, call, ids), send(b.http, call, ids)
            assert (seen_a.status, seen_a.text) == (seen_b.status, seen_b.text), (call, name)
            assert seen_a.status == (409 if call.method in ("PATCH", "DELETE") else 200), \
                (call, name, seen_a)
        missing = send(b.http, call, {"assistant_id": "no-such-graph", "namespace": "inner"})
        assert missing.status == 404, (call, missing)


@both_backends
def test_ids_in_bodies_and_filters_never_reach_another_tenant(
        tenants: tuple[World, World, Callable[[], World]]) -> None:
    a, b, _ = tenants
    before = snapshot(a)
    check = Checker(a=a, b=b, new_b=lambda: b, missing=_missing(a))
    lost = str(uuid.uuid4())

    def both(method: str, path: str, foreign: Any, missing: Any, *, sent: set[str],
             names: dict[str, str]) -> tuple[Answer, Answer]:
        out = []
        for side, body in (("foreign", foreign), ("missing", missing)):
            response = b.http.request(method, path, json=body)
            answer = Answer(response.status_code, response.text)
            check.leak(f"{method} {path} as B, {side}: {json.dumps(body)[:200]}", answer, sent)
            out.append(answer)
        f, m = out
        left, right = normalised(f.text, names), normalised(m.text, names)
        assert (f.status, left) == (m.status, right), (method, path, f.status, left,
                                                       m.status, right)
        return f, m

    # Search and count filters: ids, metadata and values of A's threads find nothing.
    names = {a.thread_id: "thread", lost: "thread", a.secret: "secret", "nothing": "secret"}
    for body_of in (lambda t, s: {"ids": [t]}, lambda t, s: {"metadata": {"secret": s}},
                    lambda t, s: {"values": {"topic": s}},
                    lambda t, s: {"metadata": {"owner": "team-a"}}):
        f, _ = both("POST", "/threads/search", body_of(a.thread_id, a.secret),
                    body_of(lost, "nothing"), sent={a.thread_id, a.secret, a.tenant},
                    names=names)
        assert f.status == 200 and json.loads(f.text) == []
    for body_of in (lambda t, s: {"metadata": {"secret": s}},
                    lambda t, s: {"values": {"topic": s}}):
        f, _ = both("POST", "/threads/count", body_of(a.thread_id, a.secret),
                    body_of(lost, "nothing"), sent={a.secret}, names=names)
        assert f.status == 200 and json.loads(f.text) == 0
    for status in ("interrupted", "idle", None):
        mine = _ok(b.http.post("/threads/search", json={"status": status, "limit": 1000}))
        assert mine and {t["thread_id"] for t in mine} <= {b.thread_id, b.done_thread_id}
        assert _ok(b.http.post("/threads/count", json={"status": status})) == len(mine)
    runs = _ok(b.http.get(f"/threads/{b.thread_id}/runs", params={"limit": 1000}))
    assert [r["run_id"] for r in runs] == [b.run_id]

    # Stateless runs take no thread; a thread id in their config names their own temporary
    # thread, never A's, even when resuming.
    for path in ("/runs", "/runs/wait", "/runs/stream"):
        for extra in ({"thread_id": a.thread_id}, {"checkpoint_id": a.checkpoint_id}):
            body = {**RESUME, **extra}
            refused = b.http.post(path, json=body)
            assert refused.status_code == 422 and a.secret not in refused.text
        names = {a.thread_id: "thread", lost: "thread", a.checkpoint_id: "cp",
                 check.missing["checkpoint_id"]: "cp"}
        confs: list[Callable[[str, str], dict[str, str]]] = [
            lambda t, c: {"thread_id": t}, lambda t, c: {"thread_id": t, "checkpoint_id": c}]
        for conf in confs:
            both("POST", path, {**RESUME, "config": {"configurable": conf(
                    a.thread_id, a.checkpoint_id)}},
                 {**RESUME, "config": {"configurable": conf(
                     lost, check.missing["checkpoint_id"])}},
                 sent={a.thread_id, a.checkpoint_id}, names=names)
            both("POST", path, {"assistant_id": "review", "input": {"topic": "x"},
                                "context": conf(a.thread_id, a.checkpoint_id)},
                 {"assistant_id": "review", "input": {"topic": "x"},
                  "context": conf(lost, check.missing["checkpoint_id"])},
                 sent={a.thread_id, a.checkpoint_id}, names=names)
    assert snapshot(a) == before, "stateless runs of tenant B changed tenant A's threads"

    # Assistants: A's assistant in a run body, or as the id of one B makes, is B's business
    # only; searching and counting by A's metadata find nothing.
    fresh = str(uuid.uuid4())
    names = {a.assistant_id: "assistant", fresh: "assistant", a.secret: "secret",
             "nothing": "secret"}
    for path in ("/runs", "/runs/wait", "/runs/stream"):
        f, _ = both("POST", path, {"assistant_id": a.assistant_id, "input": {"topic": "x"}},
                    {"assistant_id": fresh, "input": {"topic": "x"}},
                    sent={a.assistant_id}, names=names)
        assert f.status == 404
    for if_exists in ("raise", "do_nothing"):
        f, _ = both("POST", "/assistants", {"assistant_id": a.assistant_id,
                                           "graph_id": "steps", "if_exists": if_exists},
                    {"assistant_id": fresh, "graph_id": "steps", "if_exists": if_exists},
                    sent={a.assistant_id}, names=names)
        assert f.status == 200 and json.loads(f.text)["version"] == 1
        for made in (a.assistant_id, fresh):
            _ok(b.http.delete(f"/assistants/{made}"))
    for body_of in (lambda s: {"metadata": {"secret": s}},
                    lambda s: {"metadata": {"owner": "team-a"}}, lambda s: {"name": "team-a"}):
        f, _ = both("POST", "/assistants/search", body_of(a.secret), body_of("nothing"),
                    sent={a.secret, a.tenant}, names=names)
        assert f.status == 200 and json.loads(f.text) == []
        f, _ = both("POST", "/assistants/count", body_of(a.secret), body_of("nothing"),
                    sent={a.secret, a.tenant}, names=names)
        assert f.status == 200 and json.loads(f.text) == 0
    mine = _ok(b.http.post("/assistants/search", json={"limit": 1000}))
    assert b.assistant_id in {x["assistant_id"] for x in mine}
    assert _ok(b.http.post("/assistants/count", json={})) == len(mine)
    assert snapshot(a) == before, "tenant B's assistant requests changed tenant A's"

    # A's thread id as the id of a thread B creates (directly, or by a run with
    # if_not_exists "create"): B gets a thread of its own, empty, and A's is untouched.
    twin_names = {a.done_thread_id: "thread", a.thread_id: "thread"}
    for if_exists in ("raise", "do_nothing"):
        fresh = str(uuid.uuid4())
        f, _ = both("POST", "/threads", {"thread_id": a.done_thread_id, "if_exists": if_exists},
                    {"thread_id": fresh, "if_exists": if_exists},
                    sent={a.done_thread_id}, names={**twin_names, fresh: "thread"})
        assert f.status == 200 and json.loads(f.text)["values"] is None
        _ok(b.http.delete(f"/threads/{a.done_thread_id}"))
        _ok(b.http.delete(f"/threads/{fresh}"))
    for command in (RESUME, {"assistant_id": "review", "input": {"topic": "mine"}}):
        fresh = str(uuid.uuid4())
        answers = []
        for tid in (a.thread_id, fresh):
            made = b.http.post(f"/threads/{tid}/runs/wait",
                               json={**command, "if_not_exists": "create"})
            answer = Answer(made.status_code, made.text)
            check.leak(f"runs/wait if_not_exists create on {tid}", answer, {tid})
            answers.append(normalised(answer.text, {tid: "thread"}) + str(answer.status))
        assert answers[0] == answers[1], answers
        for tid in (a.thread_id, fresh):
            _ok(b.http.delete(f"/threads/{tid}"))
    assert snapshot(a) == before, "threads B made with A's ids changed A's threads"
    assert not check.failures, "\n".join(check.failures)


@both_backends
def test_a_thread_id_both_tenants_use_keeps_their_data_apart(
        tenants: tuple[World, World, Callable[[], World]]) -> None:
    """B makes a thread whose id is A's; then every route given that id, with A's run and
    checkpoint ids beside it, answers as it does for ids B's twin does not have."""
    a, b, _ = tenants
    before = snapshot(a)
    _ok(b.http.post("/threads", json={"thread_id": a.thread_id}))
    _ok(b.http.post(f"/threads/{a.thread_id}/runs/wait",
                    json={"assistant_id": "review", "input": {"topic": "twin"}}))
    twin = World(tenant="team-b", http=b.http, secret="twin", thread_id=a.thread_id,
                 run_id=_ok(b.http.get(f"/threads/{a.thread_id}/runs"))[0]["run_id"],
                 checkpoint_id=_ok(b.http.get(f"/threads/{a.thread_id}/history"))[1][
                     "checkpoint"]["checkpoint_id"],
                 interrupt_id="", done_thread_id=b.done_thread_id, all_ids=set(),
                 assistant_id=b.assistant_id)
    state = _ok(b.http.get(f"/threads/{a.thread_id}/state"))
    assert state["values"]["topic"] == "twin" and a.secret not in json.dumps(state)
    check = Checker(a=a, b=twin, new_b=lambda: twin, missing=_missing(a))
    a.all_ids.discard(a.thread_id)  # B's twin carries it too
    for call in CALLS:
        if call.method != "GET" or "{thread_id}" not in call.path:
            continue
        inner = [k for k in _slots(call).values() if k in ("run_id", "checkpoint_id")]
        if not inner:
            continue
        check.compare(call, lambda slot, kind: "own" if kind == "thread_id" else "foreign")
    copied = _ok(b.http.post(f"/threads/{a.thread_id}/copy"))
    assert copied["values"]["topic"] == "twin"
    history = _ok(b.http.get(f"/threads/{copied['thread_id']}/history", params={"limit": 100}))
    assert not {h["checkpoint"]["checkpoint_id"] for h in history} & a.all_ids
    _ok(b.http.delete(f"/threads/{a.thread_id}"))
    assert not check.failures, "\n".join(check.failures)
    assert snapshot(a) == before, "B's twin thread changed A's"


@both_backends
def test_pruning_and_batches_never_reach_another_tenant(
        tenants: tuple[World, World, Callable[[], World]]) -> None:
    """B prunes A's thread ids (both strategies), and sends A's assistant in a batch: the
    answers are those of ids nobody has, and A's threads stay as they were."""
    a, b, _ = tenants
    before = snapshot(a)
    check = Checker(a=a, b=b, new_b=lambda: b, missing=_missing(a))

    def same(path: str, foreign: Any, missing: Any, names: dict[str, str]) -> tuple[int, str]:
        seen = []
        for side, body in (("foreign", foreign), ("missing", missing)):
            response = b.http.post(path, json=body)
            answer = Answer(response.status_code, response.text)
            check.leak(f"POST {path} as B, {side}", answer, set(names))
            seen.append((answer.status, normalised(answer.text, names)))
        assert seen[0] == seen[1], seen
        return seen[0]

    lost = [str(uuid.uuid4()), str(uuid.uuid4())]
    names = {a.thread_id: "t1", lost[0]: "t1", a.done_thread_id: "t2", lost[1]: "t2"}
    for strategy in ("keep_latest", "delete"):
        assert same("/threads/prune", {"thread_ids": [a.thread_id, a.done_thread_id],
                                       "strategy": strategy},
                    {"thread_ids": lost, "strategy": strategy}, names) == (
            200, '{"pruned_count":0}')
    fresh = str(uuid.uuid4())

    def batch(assistant: str) -> list[dict[str, Any]]:
        return [{"assistant_id": "steps", "input": {"value": "x"}},
                {"assistant_id": assistant, "input": {"topic": "x"}}]

    status, _ = same("/runs/batch", batch(a.assistant_id), batch(fresh),
                     {a.assistant_id: "assistant", fresh: "assistant"})
    assert status == 404
    assert snapshot(a) == before, "tenant B's prunes and batches changed tenant A's threads"
    assert not check.failures, "\n".join(check.failures)


@both_backends
def test_cron_bodies_never_reach_another_tenant(
        tenants: tuple[World, World, Callable[[], World]]) -> None:
    """A's assistant in the body of a cron B makes is 404 like a missing one; B's searches
    and counts by A's thread, assistant or metadata find nothing; A's crons stay as they
    were."""
    a, b, _ = tenants
    before = snapshot(a)
    check = Checker(a=a, b=b, new_b=lambda: b, missing=_missing(a))
    lost, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    names = {a.thread_id: "thread", lost: "thread", a.assistant_id: "assistant",
             fresh: "assistant", a.secret: "secret", "nothing": "secret"}

    def both(path: str, foreign: Any, missing: Any, sent: set[str]) -> Answer:
        out = []
        for side, body in (("foreign", foreign), ("missing", missing)):
            response = b.http.post(path, json=body)
            answer = Answer(response.status_code, response.text)
            check.leak(f"POST {path} as B, {side}: {json.dumps(body)[:200]}", answer, sent)
            out.append(answer)
        f, m = out
        assert (f.status, normalised(f.text, names)) == (m.status, normalised(m.text, names))
        return f

    made = both("/runs/crons", {"assistant_id": a.assistant_id, "schedule": YEARLY},
                {"assistant_id": fresh, "schedule": YEARLY}, {a.assistant_id})
    assert made.status == 404
    for path, empty in (("/runs/crons/search", []), ("/runs/crons/count", 0)):
        for body_of in (lambda t, s, x: {"thread_id": t}, lambda t, s, x: {"assistant_id": x},
                        lambda t, s, x: {"metadata": {"secret": s}},
                        lambda t, s, x: {"metadata": {"owner": "team-a"}}):
            found = both(path, body_of(a.thread_id, a.secret, a.assistant_id),
                         body_of(lost, "nothing", fresh),
                         {a.thread_id, a.secret, a.assistant_id, a.tenant})
            assert found.status == 200 and json.loads(found.text) == empty
    mine = _ok(b.http.post("/runs/crons/search", json={"limit": 1000}))
    assert [c["cron_id"] for c in mine] == [b.cron_id]
    assert snapshot(a) == before, "tenant B's cron requests changed tenant A's crons"
    assert not check.failures, "\n".join(check.failures)
