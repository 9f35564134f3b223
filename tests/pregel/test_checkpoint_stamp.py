"""_ids.stamp(): the id, ts and version a step's new checkpoint gets, worked out from the clock
reading, are what ts_of() and version_of() read back from the id."""

from __future__ import annotations

import hitlgraph._ids as ids


def test_stamp_matches_what_the_id_carries() -> None:
    seen = []
    for _ in range(2000):
        checkpoint, ts, version = ids.stamp()
        seen.append(checkpoint)
        assert version == ids.version_of(checkpoint)
        assert ts == ids.ts_of(checkpoint)
        ids._last_ts = ("", "")  # (ts_of worked out again from the id alone)
        assert ts == ids.ts_of(checkpoint)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_stamp_and_checkpoint_id_share_one_clock() -> None:
    first = ids.checkpoint_id()
    second, _, _ = ids.stamp()
    third = ids.checkpoint_id()
    assert first < second < third
    assert ids.ticks_of(first) < ids.ticks_of(second) < ids.ticks_of(third)
