"""Mistakes get an error that says what is wrong and what to do, including the ones LangGraph
lets pass silently (resume with nothing pending, unknown interrupt ids, interrupt() without a
checkpointer, unknown update keys)."""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.errors import (
    CheckpointerRequiredError,
    EmptyInputError,
    GraphValidationError,
    InvalidUpdateError,
    ResumeError,
    ThreadIdRequiredError,
)
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


INPUT = {"x": 0, "log": []}


def ask(state: State) -> dict[str, Any]:
    return {"log": [interrupt("ok?")]}


def single(fn: Any, checkpointer: Any = None, **compile_kwargs: Any) -> Any:
    builder = StateGraph(State).add_node("node", fn).add_edge(START, "node")
    return builder.compile(checkpointer=checkpointer, **compile_kwargs)


def two_askers() -> Any:
    def asker(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            return {"log": [interrupt(name)]}

        return node

    builder = StateGraph(State)
    for name in ("p", "q"):
        builder.add_node(name, asker(name)).add_edge(START, name)
    return builder.compile(checkpointer=InMemorySaver())


def test_error_classes_are_value_or_runtime_errors() -> None:
    assert issubclass(ResumeError, ValueError)
    assert issubclass(ThreadIdRequiredError, ValueError)
    assert issubclass(CheckpointerRequiredError, RuntimeError)


# -- checkpointer and thread -------------------------------------------------------------------


def test_interrupt_without_checkpointer_names_compile(run: Any) -> None:
    with pytest.raises(CheckpointerRequiredError,
                       match=r"Node 'node' called interrupt\(\).*compile\(checkpointer="):
        run.invoke(single(ask), INPUT)


def test_breakpoints_without_checkpointer_name_compile(run: Any) -> None:
    graph = single(lambda s: None, interrupt_before=["node"])

    with pytest.raises(CheckpointerRequiredError, match=r"compile\(checkpointer="):
        run.invoke(graph, INPUT)


def test_get_state_without_checkpointer_names_compile(run: Any) -> None:
    with pytest.raises(CheckpointerRequiredError, match=r"compile.*checkpointer="):
        run.get_state(single(lambda s: None), {"configurable": {"thread_id": "1"}})


def test_checkpointed_graph_without_thread_id_names_the_config_key(run: Any) -> None:
    graph = single(lambda s: None, InMemorySaver())

    with pytest.raises(ThreadIdRequiredError, match=r'config\["configurable"\]\["thread_id"\]'):
        run.invoke(graph, INPUT)
    with pytest.raises(ThreadIdRequiredError, match=r'config\["configurable"\]\["thread_id"\]'):
        run.stream(graph, INPUT, {"configurable": {}})


def test_a_none_thread_id_is_refused_not_run_as_the_thread_none(run: Any) -> None:
    # LangGraph runs it on the thread "None", which every such call then shares.
    graph = single(lambda s: None, InMemorySaver())

    with pytest.raises(ThreadIdRequiredError, match=r'\["thread_id"\] is None'):
        run.invoke(graph, INPUT, {"configurable": {"thread_id": None}})
    assert run.get_state(graph, {"configurable": {"thread_id": "None"}}).values == {}


def test_get_state_without_thread_id_names_the_config_key(run: Any) -> None:
    graph = single(lambda s: None, InMemorySaver())

    with pytest.raises(ThreadIdRequiredError, match=r'config\["configurable"\]\["thread_id"\]'):
        run.get_state(graph, {})


def test_interrupt_outside_a_node_says_so() -> None:
    with pytest.raises(RuntimeError, match=r"interrupt\(\) can only be called inside a node"):
        interrupt("hello")


# -- resuming ----------------------------------------------------------------------------------


def test_resume_on_a_finished_thread_says_nothing_is_pending(run: Any, config: Any) -> None:
    graph = single(lambda s: None, InMemorySaver())
    run.invoke(graph, INPUT, config)

    with pytest.raises(ResumeError, match="has no interrupt waiting for an answer"):
        run.invoke(graph, Command(resume="yes"), config)


def test_resume_at_a_breakpoint_points_to_invoke_none(run: Any, config: Any) -> None:
    graph = single(lambda s: None, InMemorySaver(), interrupt_before=["node"])
    run.invoke(graph, INPUT, config)

    with pytest.raises(ResumeError, match="invoke the graph with None as input"):
        run.invoke(graph, Command(resume="yes"), config)


def test_resume_on_a_new_thread_says_there_is_no_checkpoint(run: Any, config: Any) -> None:
    graph = single(ask, InMemorySaver())

    with pytest.raises(EmptyInputError, match="has no checkpoint to resume"):
        run.invoke(graph, Command(resume="yes"), config)


def test_resume_map_naming_an_unknown_interrupt_id_is_refused(run: Any, config: Any) -> None:
    graph = single(ask, InMemorySaver())
    run.invoke(graph, INPUT, config)
    unknown = "0" * 32

    with pytest.raises(ResumeError, match=f"answers interrupt '{unknown}'.*not waiting for"):
        run.invoke(graph, Command(resume={unknown: "yes"}), config)


def test_second_resume_of_an_answered_interrupt_is_refused(run: Any, config: Any) -> None:
    graph = two_askers()
    paused = run.invoke(graph, INPUT, config)
    first = paused["__interrupt__"][0].id
    run.invoke(graph, Command(resume={first: "once"}), config)

    with pytest.raises(ResumeError, match=f"answers interrupt '{first}'.*already answered"):
        run.invoke(graph, Command(resume={first: "twice"}), config)


def test_single_resume_value_with_several_interrupts_waiting_is_refused(run: Any,
                                                                        config: Any) -> None:
    graph = two_askers()
    run.invoke(graph, INPUT, config)

    with pytest.raises(ResumeError, match=r"has 2 interrupts waiting.*Command\(resume=\{"):
        run.invoke(graph, Command(resume="both?"), config)


# -- breakpoints -------------------------------------------------------------------------------


def test_unknown_node_in_invoke_interrupt_before_is_named(run: Any, config: Any) -> None:
    graph = single(lambda s: None, InMemorySaver())

    with pytest.raises(GraphValidationError, match="interrupt_before names an unknown node: 'nod'"):
        run.invoke(graph, INPUT, config, interrupt_before=["nod"])


def test_unknown_node_in_invoke_interrupt_after_is_named(run: Any, config: Any) -> None:
    graph = single(lambda s: None, InMemorySaver())

    with pytest.raises(GraphValidationError, match="interrupt_after names an unknown node: 'x'"):
        run.invoke(graph, INPUT, config, interrupt_after=["x"])


# -- updates -----------------------------------------------------------------------------------


def test_node_update_with_unknown_key_names_node_and_key(run: Any) -> None:
    graph = single(lambda s: {"colour": "red"})

    with pytest.raises(InvalidUpdateError,
                       match="Node 'node' wrote key 'colour', which is not in the state schema"):
        run.invoke(graph, INPUT)


def test_command_update_with_unknown_key_names_node_and_key(run: Any) -> None:
    graph = single(lambda s: Command(update={"colour": "red"}))

    with pytest.raises(InvalidUpdateError, match="Node 'node' wrote key 'colour'"):
        run.invoke(graph, INPUT)


def test_input_with_unknown_key_is_refused(run: Any) -> None:
    with pytest.raises(InvalidUpdateError, match="Input key 'colour' is not in the state schema"):
        run.invoke(single(lambda s: None), {"x": 0, "colour": "red"})


def test_update_state_with_unknown_key_is_refused(run: Any, config: Any) -> None:
    graph = single(lambda s: None, InMemorySaver())
    run.invoke(graph, INPUT, config)

    with pytest.raises(InvalidUpdateError,
                       match="update_state\\(\\) got key 'colour', which is not in the state"):
        run.update_state(graph, config, {"colour": "red"})


def test_node_returning_a_non_dict_is_refused(run: Any) -> None:
    with pytest.raises(InvalidUpdateError, match="Expected dict, got 5: node 'node'"):
        run.invoke(single(lambda s: 5), INPUT)


def test_command_goto_to_unknown_node_is_refused(run: Any) -> None:
    graph = single(lambda s: Command(goto="nowhere"))

    with pytest.raises(InvalidUpdateError, match=r"Command\(goto='nowhere'\) from node 'node'"):
        run.invoke(graph, INPUT)


def test_conditional_edge_to_unknown_node_is_refused(run: Any) -> None:
    builder = StateGraph(State).add_node("node", lambda s: None).add_edge(START, "node")
    graph = builder.add_conditional_edges("node", lambda s: "nowhere").compile()

    with pytest.raises(InvalidUpdateError, match="returned 'nowhere', which is not a node"):
        run.invoke(graph, INPUT)


def test_unknown_stream_mode_lists_the_known_ones(run: Any) -> None:
    with pytest.raises(ValueError, match=r"Unknown stream_mode 'everything'; expected one of"):
        run.stream(single(lambda s: None), INPUT, stream_mode="everything")


def _paused_at_a_question() -> tuple[Any, dict[str, Any]]:
    def ask(state: State) -> dict[str, Any]:
        return {"x": interrupt("how much?")}

    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    graph = builder.compile(checkpointer=InMemorySaver())
    config: dict[str, Any] = {"configurable": {"thread_id": "paused"}}
    graph.invoke({"x": 1}, config)
    return graph, config


@pytest.mark.parametrize("bad", [5, "text", [1], {"not_a_key": 1}])
def test_a_bad_input_to_a_paused_thread_is_refused_before_anything_is_saved(bad: Any) -> None:
    graph, config = _paused_at_a_question()
    saved = len(list(graph.get_state_history(config)))
    with pytest.raises(InvalidUpdateError):
        graph.invoke(bad, config)
    assert len(list(graph.get_state_history(config))) == saved
    assert [i.value for i in graph.get_state(config).interrupts] == ["how much?"]
    assert graph.invoke(Command(resume=7), config)["x"] == 7


@pytest.mark.parametrize("empty", [Command(), Command(resume=None)])
def test_a_command_that_carries_nothing_is_refused_and_the_question_stays(empty: Any) -> None:
    graph, config = _paused_at_a_question()
    saved = len(list(graph.get_state_history(config)))
    with pytest.raises(EmptyInputError, match=r"Command\(resume=\{interrupt.id: None\}\)"):
        graph.invoke(empty, config)
    assert len(list(graph.get_state_history(config))) == saved
    (question,) = graph.get_state(config).interrupts
    assert graph.invoke(Command(resume={question.id: None}), config)["x"] is None
