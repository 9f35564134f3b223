"""The store conformance suite over every store hitlgraph ships, sync and async."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _store_backends import BACKEND_NAMES

from hitlgraph.store import conformance


@pytest.mark.parametrize("check", list(conformance.CHECKS))
@pytest.mark.parametrize("backend_name", BACKEND_NAMES)
def test_store_conformance(make_backend: Callable[[str], conformance.Backend],
                           backend_name: str, check: str) -> None:
    backend = make_backend(backend_name)
    if not conformance.applies(backend, check):
        pytest.skip(f"{backend_name} has no similarity search")
    conformance.run(backend, check)
