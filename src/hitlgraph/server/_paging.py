"""The paging headers of LangGraph's server's search routes (threads, assistants, crons).

X-Pagination-Next is the next page's offset, sent while another page follows.
X-Pagination-Total is not a count of every match: LangGraph's server sends the next offset
plus one while another page follows, else the offset plus what this page shows. So a search
needs to know only whether one more match follows its page, never to count them all.
"""

from __future__ import annotations

__all__ = ["MAX_OFFSET", "pagination_headers"]

MAX_OFFSET = 2**53
"""The furthest page a search may start at: PostgreSQL's OFFSET takes a 64-bit integer (a
larger one was a 500, "bigint out of range", found by fuzzing a server on PostgreSQL), and
2**53 is the largest integer every JSON reader keeps exactly."""


def pagination_headers(offset: int, shown: int, more: bool) -> dict[str, str]:
    """The headers of a page that starts at `offset` and shows `shown` items; `more`: at
    least one more match follows it."""
    if more:
        return {"X-Pagination-Total": str(offset + shown + 1),
                "X-Pagination-Next": str(offset + shown)}
    return {"X-Pagination-Total": str(offset + shown)}
