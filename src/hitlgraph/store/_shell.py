"""The part of a SQL store that is the same for every database and driver: the public
methods, built on `_drive` (sync) and `_adrive` (async), which each shell implements by
running a `_sql_ops` generator on its connection in one transaction."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from hitlgraph.store import _plan, _sql_ops
from hitlgraph.store._dialect import Dialect
from hitlgraph.store._embed import Embedder
from hitlgraph.store._sweeper import Sweeping
from hitlgraph.store._types import IndexConfig, Op, Result, TTLConfig
from hitlgraph.store.base import BaseStore

__all__ = ["SqlStore"]


class SqlStore(Sweeping, BaseStore):
    """A BaseStore whose operations are `_sql_ops` generators."""

    supports_ttl = True
    dialect: Dialect

    def __init__(self, conn: Any, *, index: IndexConfig | None, ttl: TTLConfig | None) -> None:
        self.conn = conn
        self.index_config = index
        self.ttl_config = ttl
        self._embedder = Embedder(index) if index else None
        self.is_setup = False

    @abstractmethod
    def _drive(self, ops: _sql_ops.Ops) -> Any:
        """Run `ops` to its end in one transaction; return what it returns."""

    @abstractmethod
    async def _adrive(self, ops: _sql_ops.Ops) -> Any:
        """_drive for async callers."""

    def setup(self) -> None:
        """Create the store's tables, or migrate them (safe to call again, and from several
        processes at once). The first operation calls it when nobody has."""
        self._drive(self._migrate())
        self.is_setup = True

    async def asetup(self) -> None:
        """setup() for async code."""
        await self._adrive(self._migrate())
        self.is_setup = True

    def _migrate(self) -> _sql_ops.Ops:
        """What setup() runs: the dialect's migrations (a store with tables of its own
        adds them)."""
        return _sql_ops.migrate(self.dialect)

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` (see BaseStore.batch) in one transaction."""
        plan = _plan.plan(ops, self._embedder)
        vectors = _plan.embed(plan, self._embedder)
        if not self.is_setup:
            self.setup()
        now = datetime.now(timezone.utc)
        results: list[Result] = self._drive(_sql_ops.run_batch(self.dialect, plan, vectors, now))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` from async code (see BaseStore.batch) in one transaction."""
        plan = _plan.plan(ops, self._embedder)
        vectors = await _plan.aembed(plan, self._embedder)
        if not self.is_setup:
            await self.asetup()
        now = datetime.now(timezone.utc)
        ops_ = _sql_ops.run_batch(self.dialect, plan, vectors, now)
        results: list[Result] = await self._adrive(ops_)
        return results

    def sweep_ttl(self) -> int:
        """Delete every expired item now; returns how many."""
        if not self.is_setup:
            self.setup()
        count: int = self._drive(_sql_ops.sweep(self.dialect, datetime.now(timezone.utc)))
        return count

    async def asweep_ttl(self) -> int:
        """sweep_ttl() for async code."""
        if not self.is_setup:
            await self.asetup()
        count: int = await self._adrive(_sql_ops.sweep(self.dialect,
                                                        datetime.now(timezone.utc)))
        return count
