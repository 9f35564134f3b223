"""How InMemorySaver keeps channel values: msgpack bytes as they are, other tags as pairs,
read back by resolve() through Versions; and the collection of values no checkpoint uses."""

from __future__ import annotations

from typing import Any

import ormsgpack

from hitlgraph.checkpoint._delta import delta_links

Typed = tuple[str, bytes]


Stored = bytes | tuple[str, bytes]
"""A stored value: msgpack bytes as they are (the common case, no copy), else (tag, data)."""


def unpack(stored: Stored) -> Typed:
    return ("msgpack", stored) if type(stored) is bytes else stored  # type: ignore[return-value]


class Versions:
    """The stored versions of one channel, as resolve() reads them."""

    def __init__(self, blobs: dict[tuple[str, Any], Stored], chan: str) -> None:
        self.blobs, self.chan = blobs, chan

    def __call__(self, version: Any) -> Typed:
        return unpack(self.blobs[(self.chan, version)])


def collect(checkpoints: dict[str, bytes], blobs: dict[tuple[str, Any], Stored]) -> None:
    """Drop the stored values no checkpoint of a namespace uses (nor a delta they need)."""
    kept = {
        (chan, v)
        for record in checkpoints.values()
        for chan, v in ormsgpack.unpackb(record)[2].items()
    }
    for chan, version in list(kept):  # a kept delta needs the versions it extends
        packed = blobs.get((chan, version))
        while packed is not None and (links := delta_links(unpack(packed))):
            kept.add((chan, links[0]))
            packed = blobs.get((chan, links[0]))
    for key in [k for k in blobs if k not in kept]:
        del blobs[key]
