"""Serializing a long list in pieces, for InMemorySaver.

ormsgpack writes into a buffer that doubles as it fills, then shrinks it to fit. An encoding
over 64 KiB grows that buffer past glibc's mmap threshold (128 KiB), so every such packb gets
fresh pages from the kernel (about one page fault per 4 KiB written), and the threshold never
adapts: the buffer freed is the shrunk one, smaller than the next growth request. A thread whose
list gains an item per step paid that every step (history_growth: 26 faults, ~70 us a step at
500 items of 200 bytes), a cost instruction counts do not show.

A msgpack array is its header followed by its items' encodings, each independent of the others,
so packing the list a slice at a time (each slice well under 64 KiB) and joining the items gives
the same bytes; the join allocates the exact size once.
"""

from __future__ import annotations

from typing import Any

import ormsgpack

from hitlgraph.checkpoint._delta import _array, _header
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["LONG_LIST", "dumps_value"]

LONG_LIST = 128
"""Lists shorter than this are packed whole (pieces would only add calls)."""

_PIECE_BYTES = 32 * 1024
"""The size a piece aims at: under half of ormsgpack's last buffer step before 128 KiB."""


def dumps_value(serde: SerializerProtocol, value: Any) -> tuple[str, bytes]:
    """`serde.dumps_typed(value)`, byte for byte, without a large ormsgpack buffer when `value`
    is a long list and `serde` is the default MsgpackSerializer."""
    if type(value) is not list or len(value) < LONG_LIST:
        return serde.dumps_typed(value)
    from hitlgraph.checkpoint.serde._msgpack import (  # loaded with the default serializer
        _FAST_OPTIONS,
        MsgpackSerializer,
        _take_parked,
    )

    if type(serde) is not MsgpackSerializer:
        return serde.dumps_typed(value)
    pack, default = ormsgpack.packb, serde._default
    parts: list[Any] = [_header(len(value))]
    start, step = 0, 64
    try:
        while start < len(value):
            piece = pack(value[start:start + step], default=default, option=_FAST_OPTIONS)
            start += step
            parts.append(memoryview(piece)[_piece_offset(piece):])
            # item sizes vary: keep the next piece near _PIECE_BYTES
            if len(piece) > _PIECE_BYTES and step > 1:
                step //= 2
            elif len(piece) < _PIECE_BYTES // 4:
                step *= 2
    except ormsgpack.MsgpackEncodeError:
        # the serializer's own slow path (keyed dicts, its errors) on the whole value; a
        # hook error the failed piece left behind would otherwise be raised for it
        _take_parked()
        return serde.dumps_typed(value)
    return "msgpack", b"".join(parts)


def _piece_offset(piece: bytes) -> int:
    shape = _array(piece)
    assert shape is not None  # packb of a list is a msgpack array
    return shape[1]
