"""LangChain chat models inside nodes: they get LangChain messages and stream their tokens.

Each test runs in a child process: once a program uses LangChain chat models, hitlgraph makes
LangChain messages from dicts, tuples and strings, which must not leak into other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

try:
    import langchain_core  # noqa: F401
except ImportError:  # pragma: no cover - the dev extra installs it
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("langchain-core is not installed", allow_module_level=True)

SCRIPT = textwrap.dedent("""
    import sys
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, BaseMessage
    from hitlgraph.checkpoint.sqlite import SqliteSaver
    from hitlgraph.graph import START, MessagesState, StateGraph
    from hitlgraph.types import Command, interrupt

    model = GenericFakeChatModel(messages=iter([AIMessage(content="Hello there friend")]))

    def chat(state):
        assert all(isinstance(m, BaseMessage) for m in state["messages"])
        return {"messages": [model.invoke(state["messages"])]}

    def review(state):
        return {"messages": [("user", interrupt("ok?"))]}

    builder = StateGraph(MessagesState)
    builder.add_node("chat", chat)
    builder.add_node("review", review)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", "review")
    with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "1"}}
        for chunk, meta in graph.stream({"messages": [("user", "hi")]}, config,
                                        stream_mode="messages"):
            print("TOKEN", repr(chunk.content), meta["langgraph_node"])
    with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
        graph = builder.compile(checkpointer=saver)
        out = graph.invoke(Command(resume="thanks"), config)
        print("TYPES", [type(m).__name__ for m in out["messages"]])
""")


def test_chat_model_tokens_stream_and_messages_are_langchain_ones(tmp_path: Path) -> None:
    script = tmp_path / "chat.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "db.sqlite")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    tokens = [line for line in lines if line.startswith("TOKEN")]
    assert tokens == ["TOKEN 'Hello' chat", "TOKEN ' ' chat", "TOKEN 'there' chat",
                      "TOKEN ' ' chat", "TOKEN 'friend' chat"]
    assert "TYPES ['HumanMessage', 'AIMessage', 'HumanMessage']" in lines
