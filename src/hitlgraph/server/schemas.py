"""Request bodies, as the LangGraph server takes them. Unknown fields are refused (422, naming
the field) rather than silently ignored; the few accepted but ignored are marked so."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hitlgraph.server._assistant_schemas import AssistantConfig
from hitlgraph.server._ids import not_a_uuid
from hitlgraph.server._paging import MAX_OFFSET
from hitlgraph.server._webhooks import valid_url

__all__ = [
    "MAX_SEARCH_IDS",
    "AssistantSearch",
    "CommandBody",
    "HistoryRequest",
    "RunCreate",
    "RunCreateStateless",
    "StateCheckpointRequest",
    "StateUpdate",
    "ThreadCount",
    "ThreadCreate",
    "ThreadPatch",
    "ThreadSearch",
]

StreamModeName = Literal["values", "updates", "messages", "messages-tuple", "custom", "debug",
                         "tasks", "checkpoints", "events"]
ThreadStatusName = Literal["idle", "busy", "interrupted", "error"]
MultitaskStrategyName = Literal["reject", "interrupt", "rollback", "enqueue"]


MAX_SEARCH_IDS = 10_000
"""Thread ids one POST /threads/search may name (more would overflow SQLite's statement)."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _run_config(value: dict[str, Any]) -> dict[str, Any]:
    """A run's config holds the keys an assistant's may, each of its type (a configurable
    that is not an object would fail the run where no client sees it); kept a dict."""
    return AssistantConfig.model_validate(value).value()


RunConfig = Annotated[dict[str, Any], AfterValidator(_run_config)]


def _namespace(value: str) -> str:
    """'' (the graph's own) or "node:task_id" segments joined by "|", as tasks and stream
    namespaces show them (a segment may be a node alone, or a subgraph call's number)."""
    if value and not all(part.strip(":") == part != "" for part in value.split("|")):
        raise ValueError("a checkpoint_ns is '' (the graph's own checkpoints) or a "
                         "subgraph's, \"node:task_id\" segments joined by '|' as a state's "
                         "tasks show it: no segment may be empty or start or end with ':'.")
    return value


class CheckpointRef(_Body):
    """A checkpoint named by the client (ThreadState.checkpoint)."""

    thread_id: str | None = None
    checkpoint_ns: Annotated[str, AfterValidator(_namespace)] = ""
    checkpoint_id: str | None = None
    checkpoint_map: dict[str, Any] | None = None


class AssistantSearch(_Body):
    """POST /assistants/search."""

    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class ThreadCreate(_Body):
    """POST /threads."""

    thread_id: str | None = Field(default=None, min_length=1)
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"

    @field_validator("thread_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        """As on LangGraph's server, a thread id is a UUID."""
        refusal = None if value is None else not_a_uuid(value, "thread")
        if refusal is not None:
            raise ValueError(refusal)
        return value


class ThreadPatch(_Body):
    """PATCH /threads/{thread_id}."""

    metadata: dict[str, Any]


class ThreadSearch(_Body):
    """POST /threads/search: metadata and values match by containment."""

    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    ids: list[str] | None = Field(default=None, max_length=MAX_SEARCH_IDS)
    status: ThreadStatusName | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at",
                     "state_updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None
    extract: dict[str, str] | None = None
    """Alias -> a path into each thread's values, metadata, config or interrupts
    (`values.messages[-1].content`), answered under "extracted"."""


class ThreadCount(_Body):
    """POST /threads/count."""

    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: ThreadStatusName | None = None


class StateUpdate(_Body):
    """POST /threads/{thread_id}/state."""

    values: Any = None
    as_node: str | None = None
    checkpoint: CheckpointRef | None = None
    checkpoint_id: str | None = None


class StateCheckpointRequest(_Body):
    """POST /threads/{thread_id}/state/checkpoint."""

    checkpoint: CheckpointRef
    subgraphs: bool = False
    select: list[str] | None = None


class HistoryRequest(_Body):
    """POST /threads/{thread_id}/history."""

    limit: int = Field(default=10, ge=1, le=1000)
    before: CheckpointRef | str | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: CheckpointRef | None = None
    select: list[str] | None = None


class SendBody(_Body):
    """A Send in Command.goto."""

    node: str
    input: Any = None


class CommandBody(_Body):
    """Command(resume=..., update=..., goto=...) as JSON."""

    resume: Any = None
    update: Any = None
    goto: SendBody | str | list[SendBody | str] | None = None


class RunCreateStateless(_Body):
    """POST /runs, /runs/wait, /runs/stream (a temporary thread).

    Accepted and ignored: feedback_keys, langsmith_tracer (LangSmith features), and
    checkpoint_during (deprecated; use durability). A webhook must be an http(s) URL with a
    host (422 otherwise); where it points is checked when the run is created (_webhooks).
    stream_resumable is always true here: every event is stored. strict_resume is always on:
    a resume nothing waits for is refused.
    An input of {} or null beside a command is no input; any other input beside a command is
    refused (LangGraph's server runs the command and ignores that input).
    """

    assistant_id: str = Field(min_length=1)
    input: Any = None
    command: CommandBody | None = None
    metadata: dict[str, Any] | None = None
    config: RunConfig | None = None
    context: dict[str, Any] | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    on_disconnect: Literal["cancel", "continue"] = "continue"
    on_completion: Literal["delete", "keep"] = "delete"
    durability: Literal["sync", "async", "exit"] | None = None
    webhook: str | None = None
    feedback_keys: list[str] | None = None
    langsmith_tracer: dict[str, Any] | None = None
    checkpoint_during: bool | None = None
    strict_resume: bool | None = None

    @field_validator("webhook")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return None if value is None else valid_url(value)

    @model_validator(mode="after")
    def _input_or_command(self) -> RunCreateStateless:
        # An empty input beside a command is no input (Agent Chat UI resumes with input {}).
        if self.command is not None and self.input == {}:
            self.input = None
        if self.input is not None and self.command is not None:
            raise ValueError("Give either 'input' (start or continue the thread) or 'command' "
                             "(resume, update, goto), not both: drop 'input', or send it as "
                             "{} or null.")
        return self


class RunCreate(RunCreateStateless):
    """POST /threads/{thread_id}/runs, .../runs/wait, .../runs/stream."""

    checkpoint: CheckpointRef | None = None
    checkpoint_id: str | None = None
    multitask_strategy: MultitaskStrategyName = "enqueue"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_completion: Literal["delete", "keep"] = "keep"
