"""utc_now's text is datetime's ISO 8601 form, at the same instant."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hitlgraph.review._times import utc_now


def test_utc_now_is_datetimes_isoformat_with_microseconds_and_sorts_as_time() -> None:
    before = datetime.now(timezone.utc)
    texts = [utc_now() for _ in range(2000)]
    after = datetime.now(timezone.utc)
    for text in texts:
        at = datetime.fromisoformat(text)
        assert at.isoformat(timespec="microseconds") == text
        assert before <= at <= after
    assert texts == sorted(texts)


def test_utc_now_formats_a_new_second_when_the_clock_moves_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import time as clock

    ns = [1_700_000_000_999_999_000, 1_700_000_001_000_001_000]
    monkeypatch.setattr(clock, "time_ns", lambda: ns.pop(0))
    assert utc_now() == "2023-11-14T22:13:20.999999+00:00"
    assert utc_now() == "2023-11-14T22:13:21.000001+00:00"
