"""Long-term memory shared across threads: `base.BaseStore` and its backends (`memory`,
`sqlite`, `postgres`), plus `conformance`, the checks every store passes."""

from __future__ import annotations

__all__: list[str] = []
