"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis): requests that follow the
schema and requests that break it (wrong types, missing fields, odd strings), against a real
server on 127.0.0.1, on a SQLite file and on the real PostgreSQL. Properties: no answer is a
5xx, none takes longer than ANSWER_SECONDS to start, and every 4xx is a JSON object whose
`detail` is a non-empty text naming what was wrong, not one of the frameworks' bare phrases
(BARE).

Event streams (`text/event-stream`) stay open by design (a thread's stream sends heartbeats
until the client leaves): only their status and headers are awaited.
"""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from _rel_schema import fresh_schema
from _reliability_graph import review_builder
from _servers import serve
from _tiers import tier
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

FULL_EXAMPLES = 200
"""Examples per operation and mode in the full tier (8 in the fast one)."""
FULL_INVALID_EXAMPLES = 480
"""Examples per operation of invalid requests in the full tier: 21 operations take them, so
about 10,000 malformed bodies, queries and ids per database."""
ANSWER_SECONDS = 10.0
"""Longest wait for an answer's status line (a hang is anything longer)."""

BARE = frozenset({"There was an error parsing the body", "Not Found", "Bad Request",
                  "Method Not Allowed", "Unprocessable Entity"})
"""Starlette's and FastAPI's own details, which name nothing the client sent."""

SEEN: collections.Counter[tuple[str, str, int]] = collections.Counter()
"""(operation, status) of every request sent, reported at the end."""


def _schema(url: str) -> Any:
    spec = httpx.get(f"{url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(spec)
    schema.config.update(base_url=url)
    return schema


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[str, Any]]:
    """(URL, schema) of a server serving the `review` graph, on a SQLite file or on a fresh
    schema of the real PostgreSQL."""
    with contextlib.ExitStack() as stack:
        db = (stack.enter_context(fresh_schema()) if request.param == "postgres"
              else str(Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.sqlite"))
        url = stack.enter_context(serve(db=db, graphs={"review": review_builder}))
        yield url, _schema(url)


def test_a_store_ttl_past_the_calendar_is_refused(api: tuple[str, Any]) -> None:
    url, _ = api
    answer = httpx.put(f"{url}/store/items", timeout=30, json={
        "namespace": ["a"], "key": "k", "value": {}, "ttl": 1e300})
    assert answer.status_code == 422 and "ttl" in answer.json()["detail"], answer.text


def _check(case: Any, answer: requests.Response) -> None:
    where = f"{case.method} {case.formatted_path}"
    assert answer.status_code < 500, (where, case.body, answer.status_code, answer.text[:500])
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        return
    if 400 <= answer.status_code < 500:
        assert answer.headers.get("content-type", "").startswith("application/json"), \
            (where, answer.status_code, answer.text[:300])
        detail = answer.json().get("detail")
        assert isinstance(detail, str) and detail.strip(), (where, answer.text[:300])
        assert detail not in BARE, (where, case.body, detail)


def _send(case: Any, url: str) -> int:
    with requests.Session() as session:
        answer = session.request(**case.as_transport_kwargs(base_url=url), stream=True,
                                 timeout=(5, ANSWER_SECONDS))
        try:
            _check(case, answer)
        finally:
            answer.close()
    return answer.status_code


def _fuzz(operation: Any, mode: GenerationMode, url: str, examples: int) -> None:
    @given(operation.as_strategy(generation_mode=mode))
    # The fast tier's cases are the same at every run (CI stays repeatable); the full
    # tier draws new ones each time.
    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              derandomize=examples < FULL_EXAMPLES,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def one(case: Any) -> None:
        SEEN[(case.method, case.path, _send(case, url))] += 1

    one()


def _reason(exc: BaseException) -> str:
    """What failed, for the report: a group's (Hypothesis's FlakyFailure holds the first
    call's error) each of its own, not the repr of the case that carries them."""
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "; ".join(_reason(e) for e in inner)
    return repr(exc)[:600]


def _targets(schema: Any, mode: GenerationMode) -> list[Any]:
    """Every operation for valid requests; for invalid ones, those without path parameters
    (schemathesis cannot break a request there without breaking its route: it finds no
    input, and its filters spend seconds per operation; their bodies' and queries' invalid
    values reach the same validation through the operations kept)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    if mode == GenerationMode.NEGATIVE:
        return [op for op in operations if not list(op.path_parameters)
                and (list(op.body) or list(op.query))]
    return operations


@pytest.mark.parametrize("examples", tier(8, FULL_EXAMPLES))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_no_request_from_the_schema_gets_a_5xx_a_hang_or_a_bare_4xx(
        api: tuple[str, Any], mode: GenerationMode, examples: int) -> None:
    url, schema = api
    if mode == GenerationMode.NEGATIVE and examples == FULL_EXAMPLES:
        examples = FULL_INVALID_EXAMPLES
    SEEN.clear()
    failures = []
    started = time.monotonic()
    targets = _targets(schema, mode)
    for operation in targets:
        try:
            _fuzz(operation, mode, url, examples)
        except Exception as exc:
            failures.append(f"{operation.label}: {_reason(exc)}"[:3000])
    assert not failures, "\n".join(failures)
    statuses = collections.Counter(status for (*_, status), n in SEEN.items() for _ in range(n))
    print(f"\n{mode.value}: {sum(SEEN.values())} requests to {len(targets)} operations in "
          f"{time.monotonic() - started:.0f} s; statuses {dict(sorted(statuses.items()))}")
