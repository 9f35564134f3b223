"""The graphs both servers serve in the differential suite, written against LangGraph.

`langgraph dev` imports this file as it is; `hitlgraph serve` gets a copy whose import prefix
`langgraph` is replaced by `hitlgraph`, as a user porting their code would do.
"""

from __future__ import annotations

import operator
import time
from dataclasses import asdict, dataclass, is_dataclass
from typing import Annotated, Any, TypedDict

import typing_extensions
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.config import get_config
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt


class ReviewState(TypedDict, total=False):
    topic: str
    draft: str
    approved: bool
    published: str


def write_draft(state: ReviewState) -> ReviewState:
    return {"draft": f"Tips for {state['topic']}"}


def review(state: ReviewState) -> ReviewState:
    answer = interrupt({"question": "Publish this draft?", "draft": state["draft"]})
    if not isinstance(answer, dict) or "approved" not in answer:
        raise ValueError(f"The answer must be {{'approved': bool}}, got {answer!r}")
    return {"approved": answer["approved"], "draft": answer.get("text", state["draft"])}


def publish(state: ReviewState) -> ReviewState:
    return {"published": state["draft"].upper() if state["approved"] else ""}


review_builder = StateGraph(ReviewState)
review_builder.add_sequence([write_draft, review, publish])
review_builder.add_edge(START, "write_draft")
review_builder.add_edge("publish", END)
review_graph = review_builder.compile()


class StepsState(TypedDict, total=False):
    value: str
    log: Annotated[list[str], operator.add]


def step_a(state: StepsState) -> StepsState:
    return {"log": ["a"]}


def step_b(state: StepsState) -> StepsState:
    return {"log": [f"b saw {state.get('value', '')}"]}


def step_c(state: StepsState) -> StepsState:
    return {"log": ["c"]}


steps_builder = StateGraph(StepsState)
steps_builder.add_sequence([step_a, step_b, step_c])
steps_builder.add_edge(START, "step_a")
steps_builder.add_edge("step_c", END)
steps_graph = steps_builder.compile()


def fail(state: StepsState) -> StepsState:
    raise RuntimeError(f"cannot handle {state.get('value')!r}")


failing_builder = StateGraph(StepsState)
failing_builder.add_node("step_a", step_a)
failing_builder.add_node("fail", fail)
failing_builder.add_edge(START, "step_a")
failing_builder.add_edge("step_a", "fail")
failing_builder.add_edge("fail", END)
failing_graph = failing_builder.compile()


def slow_step(state: StepsState) -> StepsState:
    time.sleep(1.0)
    return {"log": ["slow"]}


slow_builder = StateGraph(StepsState)
slow_builder.add_node("slow_step", slow_step)
slow_builder.add_edge(START, "slow_step")
slow_builder.add_edge("slow_step", END)
slow_graph = slow_builder.compile()


class EchoState(TypedDict, total=False):
    asked: str
    seen: dict[str, Any]


ECHOED = ("model", "tone", "shared")
"""The config["configurable"] keys the echo graph reports: an assistant's and a run's
config or context reach a node there."""


def echo(state: EchoState) -> EchoState:
    configurable = get_config().get("configurable") or {}
    return {"seen": {key: configurable.get(key) for key in ECHOED}}


echo_builder = StateGraph(EchoState)
echo_builder.add_node("echo", echo)
echo_builder.add_edge(START, "echo")
echo_builder.add_edge("echo", END)
echo_graph = echo_builder.compile()


def pick(state: StepsState) -> str:
    return "step_b" if state.get("value") else "step_c"


nested_builder = StateGraph(StepsState)
nested_builder.add_node("step_a", step_a, metadata={"kind": "first"})
nested_builder.add_node("step_b", step_b)
nested_builder.add_node("step_c", step_c)
nested_builder.add_node("inner", steps_graph)
nested_builder.add_edge(START, "step_a")
nested_builder.add_conditional_edges("step_a", pick, ["step_b", "step_c"])
nested_builder.add_edge("step_b", "inner")
nested_builder.add_edge("inner", END)
nested_builder.add_edge("step_c", END)
nested_graph = nested_builder.compile()
"""A conditional edge, node metadata and a subgraph node: what drawings and subgraph
schemas show."""


def ask_inbox(state: StepsState) -> StepsState:
    """Asks as Agent Inbox graphs do: a list of one request, answered by a list of one
    HumanResponse."""
    request = {"action_request": {"action": "send", "args": {"to": state.get("value")}},
               "config": {"allow_accept": True, "allow_edit": False, "allow_respond": False,
                          "allow_ignore": True},
               "description": "Send it?"}
    answer = interrupt([request])
    return {"log": [f"answer {answer[0]['type']}"]}


inbox_builder = StateGraph(StepsState)
inbox_builder.add_node("ask_inbox", ask_inbox)
inbox_builder.add_edge(START, "ask_inbox")
inbox_builder.add_edge("ask_inbox", END)
inbox_graph = inbox_builder.compile()


def say_nothing(state: StepsState) -> None:
    return None


def fan_out(state: StepsState) -> list[Send]:
    return [Send("fan_worker", {"value": "1"}), Send("fan_worker", {"value": "2"})]


def fan_worker(state: StepsState) -> StepsState:
    return {"log": [f"worker {state['value']}"]}


fanout_builder = StateGraph(StepsState)
fanout_builder.add_node("say_nothing", say_nothing)
fanout_builder.add_node("fan_worker", fan_worker)
fanout_builder.add_edge(START, "say_nothing")
fanout_builder.add_conditional_edges("say_nothing", fan_out, ["fan_worker"])
fanout_builder.add_edge("fan_worker", END)
fanout_graph = fanout_builder.compile()
"""A node that returns None, then two Sends to one node."""

def answer(state: MessagesState) -> dict[str, Any]:
    """Calls a LangChain chat model (offline: LangChain's fake one, streaming word by word)."""
    model = GenericFakeChatModel(messages=iter([AIMessage("Hello there friend", id="ai-1")]))
    return {"messages": [model.invoke(state["messages"])]}


chat_model_builder = StateGraph(MessagesState)
chat_model_builder.add_node("answer", answer)
chat_model_builder.add_edge(START, "answer")
chat_model_builder.add_edge("answer", END)
chat_model_graph = chat_model_builder.compile()


class Reader(typing_extensions.TypedDict, total=False):
    """The context_schema of the context graph: the keys its runs' context may carry.
    (typing_extensions' TypedDict: on Python < 3.12 LangGraph's server cannot read a
    typing.TypedDict's JSON schema, and then passes every key through unfiltered.)"""

    user: str
    tone: str


@dataclass
class ReaderRecord:
    """The same keys as a dataclass, with defaults: nodes get an instance."""

    user: str = "nobody"
    tone: str = "plain"


class ContextState(TypedDict, total=False):
    asked: str
    context: dict[str, Any]
    seen_config: dict[str, Any]


SEEN_CONFIGURABLE = ("user", "tone", "extra", "model")
"""The config["configurable"] keys the context graphs report (declared context keys, an
undeclared one, and one only a config gives)."""


def read_context(state: ContextState, runtime: Runtime[Any]) -> ContextState:
    """Reports what the node sees: its run-time context, and its configurable keys."""
    configurable = get_config().get("configurable") or {}
    context = runtime.context
    return {"context": (asdict(context) if is_dataclass(context) and not isinstance(context, type)
                        else dict(context or {})),
            "seen_config": {k: configurable[k] for k in SEEN_CONFIGURABLE if k in configurable}}


def _context_graph(schema: Any) -> Any:
    builder = StateGraph(ContextState, context_schema=schema)
    builder.add_node("read_context", read_context)
    builder.add_edge(START, "read_context")
    builder.add_edge("read_context", END)
    return builder.compile()


context_graph = _context_graph(Reader)
"""Graphs with a context_schema: which keys of a run's context reach their node."""
context_record_graph = _context_graph(ReaderRecord)

GRAPHS: dict[str, Any] = {
    "review": "review_graph",
    "steps": "steps_graph",
    "failing": "failing_graph",
    "slow": "slow_graph",
    "echo": "echo_graph",
    "nested": "nested_graph",
    "inbox": "inbox_graph",
    "fanout": "fanout_graph",
    "chat_model": "chat_model_graph",
    "context": "context_graph",
    "context_record": "context_record_graph",
}
"""Graph id -> the variable holding it (langgraph.json is written from this)."""
