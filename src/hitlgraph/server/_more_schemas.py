"""Requests of the thread stream, thread pruning and run batches, as LangGraph's server takes
them. As in `schemas.py`, unknown fields are refused (422, naming the field); so are a few
mistakes LangGraph's server lets pass silently (each says so where it is checked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from hitlgraph.server._ids import not_a_uuid
from hitlgraph.server.schemas import RunCreateStateless

__all__ = [
    "PruneStrategy",
    "RunBatch",
    "RunBatchItem",
    "ThreadPrune",
    "ThreadStreamMode",
    "thread_stream_modes",
]

ThreadStreamMode = Literal["run_modes", "lifecycle", "state_update"]
"""What GET /threads/{thread_id}/stream sends:
- "run_modes": every event of the thread's runs (each run's own stream modes), each run
  opened by `metadata {run_id, attempt}` and closed by `metadata {status: run_done, run_id}`.
- "lifecycle": those two `metadata` events of each run only.
- "state_update": `state_update {state, thread_id}` after each update of the thread's state
  (POST /threads/{thread_id}/state).
"""

PruneStrategy = Literal["delete", "keep_latest"]
"""What POST /threads/prune does to each thread:
- "delete": delete it, as DELETE /threads/{thread_id} does.
- "keep_latest": keep it and its latest checkpoint of each namespace; delete older ones.
"""


def thread_stream_modes(values: Sequence[str]) -> frozenset[str]:
    """The thread stream modes a query asks for: each value may list several, comma-separated;
    none is "run_modes".

    Raises:
        HTTPException: 422 naming a mode that is not a ThreadStreamMode.
    """
    known = get_args(ThreadStreamMode)
    modes = {mode.strip() for value in values for mode in value.split(",") if mode.strip()}
    unknown = sorted(modes - set(known))
    if unknown:
        raise HTTPException(422, f"Invalid stream mode {unknown}: a thread's stream takes "
                            f"{list(known)}, e.g. ?stream_modes=lifecycle,state_update.")
    return frozenset(modes or {"run_modes"})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThreadPrune(_Body):
    """POST /threads/prune."""

    thread_ids: list[str]
    strategy: PruneStrategy = "delete"

    @field_validator("thread_ids")
    @classmethod
    def _uuids(cls, value: list[str]) -> list[str]:
        """As on LangGraph's server, thread ids are UUIDs (and then each counts once)."""
        for thread_id in value:
            refusal = not_a_uuid(thread_id, "thread")
            if refusal is not None:
                raise ValueError(refusal)
        return list(dict.fromkeys(value))


_THREAD_FIELDS = ("thread_id", "checkpoint_id", "checkpoint", "multitask_strategy",
                  "if_not_exists")
"""Run fields that only a run on a thread takes (langgraph-sdk's RunCreate, which
create_batch takes, has the first and fourth): LangGraph's server ignores them in a batch,
and runs the item on a new thread anyway."""


class RunBatchItem(RunCreateStateless):
    """One run of POST /runs/batch: a stateless run, as POST /runs takes it.

    A thread's field (thread_id, checkpoint_id, multitask_strategy, ...) is refused with a
    422 saying where to send it, rather than ignored; a null one is left out.
    """

    @model_validator(mode="before")
    @classmethod
    def _no_thread(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = [key for key in _THREAD_FIELDS if data.get(key) is not None]
        if given:
            named = ", ".join(f"'{key}'" for key in given)
            raise ValueError(
                f"{named}: a batch's runs are stateless, each on a new temporary thread, so "
                "they take no thread's field. Leave it out, or create each run on its thread "
                "with POST /threads/{thread_id}/runs.")
        return {key: value for key, value in data.items() if key not in _THREAD_FIELDS}


class RunBatch(RootModel[list[RunBatchItem]]):
    """POST /runs/batch: one or more stateless runs."""

    root: list[RunBatchItem] = Field(min_length=1)
