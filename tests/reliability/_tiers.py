"""The fault suite's two tiers: a small count in every CI run, the issue's full count under
`-m reliability_full` (conftest.py skips those cases otherwise)."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["FULL", "tier"]

FULL = "reliability_full"


def tier(fast: Any, full: Any) -> list[Any]:
    """Parameters for a count: `fast` always, `full` only under `-m reliability_full`."""
    return [pytest.param(fast, id="fast"),
            pytest.param(full, id="full", marks=pytest.mark.reliability_full)]
