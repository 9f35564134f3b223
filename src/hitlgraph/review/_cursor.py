"""The opaque cursor of list_pending(): where the page before ended, as a string a caller
hands back as `after=`. Base64 of a small JSON array, so it survives URLs and shells."""

from __future__ import annotations

import base64
import binascii
import json

__all__ = ["CursorKey", "decode_cursor", "encode_cursor"]

CursorKey = tuple[str, str, str]
"""(created_at, thread_id, interrupt_id): the index's sort key, newest first."""


def encode_cursor(key: CursorKey) -> str:
    """The cursor that continues a listing after the record whose sort key is `key`."""
    text = json.dumps(list(key), ensure_ascii=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> CursorKey:
    """The sort key a cursor from `encode_cursor` holds.

    Raises:
        ValueError: `cursor` is not one (naming it), e.g. truncated or from elsewhere.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw.decode("ascii"))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        key = None
    if not (isinstance(key, list) and len(key) == 3 and all(isinstance(k, str) for k in key)):
        raise ValueError(
            f"after={cursor!r} is not a list_pending() cursor. Pass the `cursor` of the last "
            "record of the previous page, or None for the first page.")
    return key[0], key[1], key[2]
