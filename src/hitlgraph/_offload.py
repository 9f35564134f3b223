"""`to_thread`, with asyncio imported on the first call: the savers' async methods hand their
blocking calls to a thread, and a program that only uses a saver synchronously (the CLI, a
script) should not pay for importing asyncio when it opens one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["to_thread"]

T = TypeVar("T")


async def to_thread(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`asyncio.to_thread(func, *args, **kwargs)`."""
    import asyncio

    return await asyncio.to_thread(func, *args, **kwargs)
