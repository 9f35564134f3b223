"""Keys, tenants, body limits, validation, and `hitlgraph serve` refusing to listen openly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _harness import RunningServer, ServerProcess
from click.testing import CliRunner
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import AuthenticationError, NotFoundError

from hitlgraph.cli import cli
from hitlgraph.server.auth import ApiKeyAuth, hash_key

KEY_A = "key-of-team-a"
KEY_B = "key-of-team-b"


@pytest.fixture
def keyed(start_server: Callable[..., RunningServer]) -> RunningServer:
    """A server with two tenants; team-b's key is configured as a hash."""
    return start_server(api_keys={"team-a": KEY_A, "team-b": hash_key(KEY_B)})


def test_request_without_key_is_401_except_ok(keyed: RunningServer) -> None:
    assert httpx.get(f"{keyed.url}/ok").status_code == 200
    assert httpx.post(f"{keyed.url}/threads", json={}).status_code == 401
    assert httpx.get(f"{keyed.url}/openapi.json").status_code == 401
    wrong = httpx.post(f"{keyed.url}/threads", json={}, headers={"x-api-key": "nope"})
    assert wrong.status_code == 401
    with pytest.raises(AuthenticationError):
        keyed.client().threads.create()
    assert keyed.client(api_key=KEY_B).threads.create()["thread_id"]


def test_another_tenants_thread_and_run_ids_answer_404(keyed: RunningServer) -> None:
    a, b = keyed.client(api_key=KEY_A), keyed.client(api_key=KEY_B)
    thread = a.threads.create()
    tid = thread["thread_id"]
    run = a.runs.create(tid, "review", input={"topic": "secrets"})
    a.runs.join(tid, run["run_id"])

    with pytest.raises(NotFoundError):
        b.threads.get(tid)
    with pytest.raises(NotFoundError):
        b.threads.get_state(tid)
    with pytest.raises(NotFoundError):
        b.runs.get(tid, run["run_id"])
    with pytest.raises(NotFoundError):
        b.runs.list(tid)
    with pytest.raises(NotFoundError):
        b.runs.create(tid, "review", command={"resume": {"approved": True}})
    with pytest.raises(NotFoundError):
        b.threads.update(tid, metadata={"stolen": True})
    with pytest.raises(NotFoundError):
        b.threads.delete(tid)
    assert b.threads.search() == []
    assert b.threads.search(ids=[tid]) == []
    # The same thread id is free for the other tenant, and holds its own checkpoints.
    mine = b.threads.create(thread_id=tid)
    assert mine["thread_id"] == tid and mine["values"] is None
    assert b.threads.get_state(tid)["values"] == {}
    assert a.threads.get_state(tid)["values"]["topic"] == "secrets"


def test_errors_name_the_thread_as_its_tenant_knows_it(keyed: RunningServer) -> None:
    a = keyed.client(api_key=KEY_A)
    tid = a.threads.create()["thread_id"]
    a.runs.wait(tid, "review", input={"topic": "t"})
    answer = {"command": {"resume": {"approved": True}}}
    first = a.runs.create(tid, "review", **answer)
    second = a.runs.create(tid, "review", **answer)  # queued behind the first
    a.runs.join(tid, first["run_id"])
    with pytest.raises(httpx.HTTPStatusError) as caught:
        a.runs.join(tid, second["run_id"])
    message = caught.value.response.text
    assert f"'{tid}'" in message and "team-a/" not in message


def test_a_tenant_name_with_a_slash_is_refused() -> None:
    # "team/a" names user 'a' of tenant 'team' (test_principals.py); a second "/" is refused.
    with pytest.raises(ValueError, match=r"'team/a/b'.*contain no '/'"):
        ApiKeyAuth({"team/a/b": KEY_A})


def test_invalid_run_body_is_422_naming_the_field(server: RunningServer) -> None:
    tid = server.client().threads.create()["thread_id"]
    bad = httpx.post(f"{server.url}/threads/{tid}/runs",
                     json={"assistant_id": "review", "stream_mode": "everything"})
    assert bad.status_code == 422
    # As on LangGraph's server, the detail is a string; ours names the field at fault.
    assert isinstance(bad.json()["detail"], str) and "stream_mode" in bad.json()["detail"]
    unknown = httpx.post(f"{server.url}/threads/{tid}/runs",
                         json={"assistant_id": "review", "surprise": 1})
    assert unknown.status_code == 422 and "surprise" in unknown.text
    both = httpx.post(f"{server.url}/threads/{tid}/runs",
                      json={"assistant_id": "review", "input": {"topic": "x"},
                            "command": {"resume": 1}})
    assert both.status_code == 422
    node = httpx.post(f"{server.url}/threads/{tid}/runs",
                      json={"assistant_id": "steps", "interrupt_before": ["nope"]})
    assert node.status_code == 422 and "nope" in node.text


def test_body_over_the_limit_is_413(start_server: Callable[..., RunningServer]) -> None:
    small = start_server(max_body_bytes=1000)
    big = {"metadata": {"blob": "x" * 2000}}
    assert httpx.post(f"{small.url}/threads", json=big).status_code == 413

    def chunked() -> object:
        yield b'{"metadata": {"blob": "'
        yield b"y" * 2000
        yield b'"}}'

    streamed = httpx.post(f"{small.url}/threads", content=chunked(),
                          headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert httpx.post(f"{small.url}/threads", json={"metadata": {"a": 1}}).status_code == 200


def test_serve_refuses_a_public_host_without_keys(config_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(config_file.parent)
    result = CliRunner().invoke(cli, ["serve", "--config", str(config_file), "--host",
                                      "0.0.0.0"])
    assert result.exit_code == 2
    assert "Refusing to listen on 0.0.0.0" in result.output
    assert "HITLGRAPH_API_KEYS" in result.output


def test_serve_keeps_runs_in_sqlite_or_postgres(
        database: str, start_process: Callable[..., ServerProcess]) -> None:
    served = start_process(database)  # --db PATH, or --postgres URL
    with get_sync_client(url=served.url, timeout=60) as client:
        tid = client.threads.create()["thread_id"]
        paused = client.runs.wait(tid, "review", input={"topic": "serving"})
        assert paused["__interrupt__"][0]["value"]["draft"] == "Tips for serving"
        final = client.runs.wait(tid, "review", command={"resume": {"approved": True}})
        assert final["published"] == "TIPS FOR SERVING"
    where = "PostgreSQL" if database.startswith("postgresql://") else database
    assert any(f"data in {where}" in line for line in served.log)


def test_custom_auth_callable_picks_the_tenant(
        start_server: Callable[..., RunningServer]) -> None:
    async def by_header(request: object) -> str | None:
        user = request.headers.get("x-user")  # type: ignore[attr-defined]
        return f"user-{user}" if user else None

    running = start_server(auth=by_header)
    assert httpx.post(f"{running.url}/threads", json={}).status_code == 401
    made = httpx.post(f"{running.url}/threads", json={}, headers={"x-user": "ann"}).json()
    other = httpx.get(f"{running.url}/threads/{made['thread_id']}", headers={"x-user": "bob"})
    assert other.status_code == 404
    mine = httpx.get(f"{running.url}/threads/{made['thread_id']}", headers={"x-user": "ann"})
    assert mine.status_code == 200
