"""One tenant's view of the server's store: every namespace it names is stored under its
own hidden first label, so the /store routes, and the runs of its graphs if they are given
this view, see only that tenant's items, and never the label itself.

The label is "tenant:" and the tenant id with "%", "." and NUL escaped (a valid namespace
label for any tenant id, and never "langgraph").
"""

from __future__ import annotations

from collections.abc import Iterable

from hitlgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

__all__ = ["TenantStore", "tenant_root"]


def tenant_root(tenant: str) -> str:
    """The hidden first label of `tenant`'s namespaces."""
    escaped = tenant.replace("%", "%25").replace(".", "%2E").replace("\x00", "%00")
    return f"tenant:{escaped}"


class TenantStore(BaseStore):
    """`store` as `tenant` sees it (its own namespace tree only).

    Args:
        store: the store holding every tenant's items.
        tenant: the tenant ("" on a server without authentication).
    """

    supports_ttl = True

    def __init__(self, store: BaseStore, tenant: str) -> None:
        self.store = store
        self.root = tenant_root(tenant)
        self.supports_ttl = store.supports_ttl
        self.ttl_config = store.ttl_config

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` on the tenant's tree (see BaseStore.batch)."""
        ops = list(ops)
        results = self.store.batch([self._inside(op) for op in ops])
        return [self._outside(result) for result in results]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` on the tenant's tree from async code."""
        ops = list(ops)
        results = await self.store.abatch([self._inside(op) for op in ops])
        return [self._outside(result) for result in results]

    def _inside(self, op: Op) -> Op:
        if isinstance(op, (GetOp, PutOp)):
            return op._replace(namespace=(self.root, *op.namespace))
        if isinstance(op, SearchOp):
            return op._replace(namespace_prefix=(self.root, *op.namespace_prefix))
        return self._list_inside(op)

    def _list_inside(self, op: ListNamespacesOp) -> ListNamespacesOp:
        """The listing within the tenant's tree: prefixes under the root, and the root
        followed by as many "*" as the longest suffix has labels, so that a suffix never
        matches the root label."""
        conditions = op.match_conditions or ()
        longest = max((len(c.path) for c in conditions if c.match_type == "suffix"), default=0)
        inside = [MatchCondition("prefix", (self.root, *["*"] * longest)), *(
            MatchCondition("prefix", (self.root, *c.path)) if c.match_type == "prefix" else c
            for c in conditions)]
        depth = None if op.max_depth is None else op.max_depth + 1
        return op._replace(match_conditions=tuple(inside), max_depth=depth)

    def _outside(self, result: Result) -> Result:
        if isinstance(result, Item):
            return _strip(result)
        if isinstance(result, list):
            return [_strip(r) if isinstance(r, Item) else r[1:] for r in result]  # type: ignore[return-value]
        return result


def _strip(item: Item) -> Item:
    if isinstance(item, SearchItem):
        return SearchItem(item.namespace[1:], item.key, item.value, item.created_at,
                          item.updated_at, item.score)
    return Item(namespace=item.namespace[1:], key=item.key, value=item.value,
                created_at=item.created_at, updated_at=item.updated_at)
