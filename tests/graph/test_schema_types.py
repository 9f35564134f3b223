"""Classes named in a graph's state schema (nested ones too) are allowed for decoding when the
graph is compiled: a new process that only compiles the graph resumes a paused thread whose
state holds them, with no register_type call; nothing is imported by a stored name."""

from __future__ import annotations

import enum
import operator
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NamedTuple, Optional

from pydantic import BaseModel
from typing_extensions import TypedDict

from hitlgraph.graph._schema_types import schema_classes

PROGRAM = textwrap.dedent('''
    import sys
    from dataclasses import dataclass
    from enum import Enum
    from pydantic import BaseModel
    from typing_extensions import TypedDict
    from hitlgraph.checkpoint.sqlite import SqliteSaver
    from hitlgraph.graph import START, StateGraph
    from hitlgraph.types import Command, interrupt

    class Color(Enum):
        RED = "red"

    class Inner(BaseModel):
        n: int
        color: Color = Color.RED

    @dataclass
    class Item:
        name: str

    class Order(BaseModel):
        inner: Inner
        items: list[Item] = []

    class State(TypedDict, total=False):
        order: Order
        got: str

    def ask(state):
        answer = interrupt("ok?")
        order = state["order"]
        return {"got": f"{answer} {order.inner.n} {order.items[0].name} {order.inner.color.value}"}

    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    with SqliteSaver.from_conn_string(sys.argv[2]) as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        if sys.argv[1] == "pause":
            graph.invoke({"order": Order(inner=Inner(n=3), items=[Item("x")])}, config)
        else:
            print(graph.invoke(Command(resume="yes"), config)["got"])
''')


def test_a_new_process_that_compiles_the_graph_resumes_state_with_nested_classes(
        tmp_path: Path) -> None:
    script, db = tmp_path / "program.py", tmp_path / "orders.sqlite"
    script.write_text(PROGRAM)
    subprocess.run([sys.executable, str(script), "pause", str(db)], check=True)
    done = subprocess.run([sys.executable, str(script), "resume", str(db)], check=True,
                          capture_output=True, text=True)
    assert done.stdout.strip() == "yes 3 x red"


class Tone(enum.Enum):
    LOW = 1


class Point(NamedTuple):
    x: int


@dataclass
class Leaf:
    tone: Tone


class Node(BaseModel):
    children: list[Node] = []
    leaf: Optional[Leaf] = None  # noqa: UP045 (Optional[...] on purpose)


class Nested(TypedDict):
    point: Point


class State(TypedDict, total=False):
    tree: Node
    notes: Annotated[list[dict[str, Nested]], operator.add]
    count: int


def test_the_walk_finds_classes_through_containers_unions_reducers_and_cycles() -> None:
    found = set(schema_classes([State]))
    assert found == {Node, Leaf, Tone, Point}
