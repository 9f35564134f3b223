"""The commands without a terminal: --no-input, --json, answers on stdin, and every command's
output and exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.cli import ExitCode
from hitlgraph.cli._jsonable import to_jsonable
from hitlgraph.messages import AIMessage

ASK_TO_DELETE = '{"messages": [{"role": "user", "content": "rm it"}]}'
Invoke = Any  # conftest.Invoke: hitlgraph(*args, input=...) -> click Result


def start_paused(hitlgraph: Invoke, spec: str = "flows:review_graph",
                 input: str = '{"topic": "tests"}') -> dict:
    out = hitlgraph.json("run", spec, "--input", input, "--no-input", code=ExitCode.PAUSED)
    assert out["status"] in ("paused", "stopped")
    return out


def test_help_lists_the_exit_codes(hitlgraph: Invoke) -> None:
    result = hitlgraph("--help")
    assert result.exit_code == 0
    for line in ("Exit codes:", "0  done", "1  the graph's code failed", "2  usage error",
                 "3  paused", "4  not found", "5  nothing to resume", "6  tampered",
                 "130  stopped by Ctrl-C"):
        assert line in result.stdout
    for command in ("run", "resume", "threads", "state", "history", "graph", "demo"):
        assert f"  {command} " in result.stdout
    assert "Exit codes:" in hitlgraph("run", "--help").stdout


def test_exit_codes_are_stable() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "GRAPH_ERROR": 1, "USAGE": 2, "PAUSED": 3, "NOT_FOUND": 4,
        "NOTHING_PENDING": 5, "TAMPERED": 6, "INTERRUPTED": 130,
    }


def test_run_no_input_stops_at_the_first_interrupt(hitlgraph: Invoke, workdir: Path) -> None:
    result = hitlgraph("run", "flows:review_graph", "--input", '{"topic": "tests"}',
                       "--no-input")
    assert result.exit_code == ExitCode.PAUSED
    out = result.stdout
    assert "(new)" in out
    assert "Publish this draft?" in out and "Tips for tests." in out
    assert "node review" in out
    thread = out.split("thread ", 1)[1].split()[0]
    assert f"  hitlgraph resume {thread}\n" in out  # the graph is recorded in the thread
    assert "interrupt id " in out
    assert (workdir / "hitlgraph.sqlite").exists()


def test_run_no_input_json(hitlgraph: Invoke) -> None:
    out = start_paused(hitlgraph)
    assert out["status"] == "paused"
    assert out["next"] == ["review"]
    assert out["values"] == {"topic": "tests", "draft": "Tips for tests."}
    [asked] = out["interrupts"]
    assert asked["node"] == "review"
    assert asked["value"] == {"question": "Publish this draft?", "draft": "Tips for tests."}
    assert len(asked["id"]) >= 16


def test_run_with_a_thread_id_and_db(hitlgraph: Invoke, workdir: Path) -> None:
    out = hitlgraph.json("run", "flows:review_graph", "--input", '{"topic": "x"}', "--no-input",
                         "--thread", "mine", "--db", "other.db", code=ExitCode.PAUSED)
    assert out["thread_id"] == "mine"
    assert (workdir / "other.db").exists() and not (workdir / "hitlgraph.sqlite").exists()
    result = hitlgraph("run", "flows:review_graph", "--input", '{"topic": "x"}', "--no-input",
                       "--thread", "mine", "--db", "other.db")
    assert "(new)" not in result.stdout
    assert "--db other.db" in result.stdout  # the hint names the non-default db


def test_run_to_the_end(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:plain", "--input", '{"log": []}')
    assert result.exit_code == 0
    assert "✓ step1" in result.stdout and "✓ step2" in result.stdout
    assert "Finished" in result.stdout
    out = hitlgraph.json("run", "flows:plain", "--input", '{"log": []}')
    assert out["status"] == "done" and out["values"] == {"log": ["step1", "step2"]}


def test_run_input_from_a_file(hitlgraph: Invoke, workdir: Path) -> None:
    (workdir / "in.json").write_text('{"log": ["given"]}')
    out = hitlgraph.json("run", "flows:plain", "--input", "@in.json")
    assert out["values"]["log"] == ["given", "step1", "step2"]


def test_run_answers_read_from_stdin(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:review_graph", "--input", '{"topic": "tests"}',
                       input='{"approved": true}\n')
    assert result.exit_code == 0, result.output
    assert "answer>" in result.stdout
    assert '"published": "TIPS FOR TESTS."' in result.stdout


def test_plain_text_is_a_string_answer(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:greet", "--input", "{}", "--json", input="Ada Lovelace\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["values"]["greeting"] == "Hello, Ada Lovelace!"
    assert "What is your name?" in result.stderr  # with --json, people's output is on stderr


def test_bad_json_answer_is_asked_again(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:review_graph", "--input", '{"topic": "tests"}',
                       input='{"approved": tru\n{"approved": false}\n')
    assert result.exit_code == 0
    assert "That answer is not valid JSON" in result.stdout
    assert "line 1, column" in result.stdout
    assert '"published": ""' in result.stdout


def test_end_of_input_leaves_the_thread_paused(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:review_graph", "--input", '{"topic": "tests"}', input="")
    assert result.exit_code == ExitCode.PAUSED
    assert "No more input" in result.stdout and "is left paused" in result.stdout
    assert "hitlgraph resume " in result.stdout


def test_several_interrupts_are_asked_one_by_one(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:signoff", "--input", '{"answers": []}', "--json",
                       input='"yes"\nno way\n')
    assert result.exit_code == 0, result.output
    assert "1 of 2" in result.stderr and "2 of 2" in result.stderr
    answers = json.loads(result.stdout)["values"]["answers"]
    assert sorted(answers) == ["finance: no way", "legal: yes"]


def test_breakpoint_asks_to_go_on(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:breaks", "--input", '{"log": []}', "--json", input="\n")
    assert result.exit_code == 0, result.output
    assert "Stopped before step2" in result.stderr
    assert json.loads(result.stdout)["values"] == {"log": ["step1", "step2"]}


def test_entrypoint_and_factory(hitlgraph: Invoke) -> None:
    out = hitlgraph.json("run", "flows:double_check", "--input", "21", "--no-input",
                         code=ExitCode.PAUSED)
    assert out["interrupts"][0]["value"] == {"question": "Double 21?"}
    thread = out["thread_id"]
    done = hitlgraph.json("resume", thread, "--graph", "flows:double_check", "--value", "true")
    assert done["status"] == "done"
    assert done["values"] == {"result": 42}
    out = hitlgraph.json("run", "flows:make_graph", "--input", '{"topic": "f"}', "--no-input",
                         code=ExitCode.PAUSED)
    assert out["next"] == ["review"]


def test_module_given_as_a_file_path(hitlgraph: Invoke, workdir: Path) -> None:
    sub = workdir / "apps"
    sub.mkdir()
    (workdir / "flows.py").rename(sub / "flows.py")
    out = hitlgraph.json("run", "apps/flows.py:plain", "--input", '{"log": []}')
    assert out["status"] == "done"


def test_threads(hitlgraph: Invoke) -> None:
    paused = start_paused(hitlgraph)["thread_id"]
    done = hitlgraph.json("run", "flows:plain", "--input", '{"log": []}')["thread_id"]
    stopped = start_paused(hitlgraph, "flows:breaks", '{"log": []}')["thread_id"]
    rows = {r["thread_id"]: r for r in hitlgraph.json("threads")}
    assert set(rows) == {paused, done, stopped}
    assert rows[paused]["status"] == "paused"
    assert rows[paused]["interrupts"][0]["value"]["question"] == "Publish this draft?"
    assert rows[paused]["interrupts"][0]["node"] == "review"
    assert rows[done]["status"] == "done" and rows[done]["next"] == []
    assert rows[stopped]["status"] == "stopped" and rows[stopped]["next"] == ["step2"]
    assert [r["thread_id"] for r in hitlgraph.json("threads")] == sorted(rows)  # by id
    text = hitlgraph("threads").stdout
    assert "3 thread(s)" in text and paused in text and "waits at review" in text
    assert "stopped before step2" in text


def test_threads_with_several_interrupts_and_a_graph(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:signoff", '{"answers": []}')["thread_id"]
    [row] = hitlgraph.json("threads")
    assert row["thread_id"] == thread and len(row["interrupts"]) == 2
    assert {i["node"] for i in row["interrupts"]} == {None}
    [row] = hitlgraph.json("threads", "--graph", "flows:signoff")
    assert {i["node"] for i in row["interrupts"]} == {"legal", "finance"}


def test_threads_after_some_answers(hitlgraph: Invoke) -> None:
    """An answered interrupt is no longer pending; the other one is."""
    thread = start_paused(hitlgraph, "flows:signoff", '{"answers": []}')["thread_id"]
    [legal] = [i for i in hitlgraph.json("threads", "--graph", "flows:signoff")[0]["interrupts"]
               if i["node"] == "legal"]
    out = hitlgraph.json("resume", thread, "--graph", "flows:signoff", "--value", '"ok"',
                         "--interrupt", legal["id"], "--no-input", code=ExitCode.PAUSED)
    assert [i["value"] for i in out["interrupts"]] == ["Finance OK?"]
    [row] = hitlgraph.json("threads")
    assert [i["value"] for i in row["interrupts"]] == ["Finance OK?"]


def test_threads_empty_db(hitlgraph: Invoke, workdir: Path) -> None:
    hitlgraph.json("run", "flows:plain", "--input", '{"log": []}', "--db", "a.db")
    assert hitlgraph.json("threads", "--db", "a.db") != []
    import sqlite3

    sqlite3.connect(workdir / "empty.db").close()
    assert hitlgraph.json("threads", "--db", "empty.db") == []
    assert "No threads in empty.db" in hitlgraph("threads", "--db", "empty.db").stdout


def test_state(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph)["thread_id"]
    out = hitlgraph.json("state", thread)
    assert out["status"] == "paused" and out["next"] == ["review"]
    assert out["values"] == {"topic": "tests", "draft": "Tips for tests."}
    assert out["interrupts"][0]["value"]["question"] == "Publish this draft?"
    exact = hitlgraph.json("state", thread, "--graph", "flows:review_graph")
    assert exact["values"] == out["values"] and exact["interrupts"] == out["interrupts"]
    text = hitlgraph("state", thread).stdout
    assert f"thread {thread}: paused at step 1" in text
    assert "next: review" in text and "Publish this draft?" in text


def test_history(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph)["thread_id"]
    rows = hitlgraph.json("history", thread)
    assert [r["step"] for r in rows] == [1, 0, -1]
    assert [r["source"] for r in rows] == ["loop", "loop", "input"]
    assert rows[0]["next"] == ["review"] and rows[0]["writers"] == ["write_draft"]
    assert rows[0]["parent_checkpoint_id"] == rows[1]["checkpoint_id"]
    assert rows[0]["interrupts"][0]["value"]["question"] == "Publish this draft?"
    assert len(hitlgraph.json("history", thread, "--limit", "2")) == 2
    text = hitlgraph("history", thread).stdout
    assert "write_draft" in text and rows[0]["checkpoint_id"] in text and "(waits)" in text


def test_resume_with_a_value(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph)["thread_id"]
    result = hitlgraph("resume", thread, "--graph", "flows:review_graph",
                       "--value", '{"approved": true}')
    assert result.exit_code == 0, result.output
    assert "✓ review" in result.stdout and "TIPS FOR TESTS." in result.stdout
    assert hitlgraph.json("state", thread)["status"] == "done"


def test_resume_asks_when_no_value(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph)["thread_id"]
    result = hitlgraph("resume", thread, "--graph", "flows:review_graph",
                       input='{"approved": true}\n')
    assert result.exit_code == 0, result.output
    assert "Publish this draft?" in result.stdout


def test_resume_several_interrupts(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:signoff", '{"answers": []}')["thread_id"]
    result = hitlgraph("resume", thread, "--graph", "flows:signoff", "--value", '"yes"')
    assert result.exit_code == ExitCode.USAGE
    assert "waits for 2 answers" in result.stderr and "--interrupt ID" in result.stderr
    ids = [i["id"] for i in hitlgraph.json("state", thread)["interrupts"]]
    out = hitlgraph.json("resume", thread, "--graph", "flows:signoff",
                         "--value", json.dumps({ids[0]: "a", ids[1]: "b"}))
    assert out["status"] == "done" and len(out["values"]["answers"]) == 2


def test_resume_interrupt_by_prefix(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:signoff", '{"answers": []}')["thread_id"]
    ids = [i["id"] for i in hitlgraph.json("state", thread)["interrupts"]]
    out = hitlgraph.json("resume", thread, "--graph", "flows:signoff", "--value", '"y"',
                         "--interrupt", ids[0][:10], "--no-input", code=ExitCode.PAUSED)
    assert [i["id"] for i in out["interrupts"]] == [ids[1]]


def test_resume_breakpoint(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:breaks", '{"log": []}')["thread_id"]
    result = hitlgraph("resume", thread, "--graph", "flows:breaks", "--value", "1")
    assert result.exit_code == ExitCode.USAGE
    assert "stopped before step2" in result.stderr and "without --value" in result.stderr
    out = hitlgraph.json("resume", thread, "--graph", "flows:breaks")
    assert out["values"] == {"log": ["step1", "step2"]}


def test_resume_a_failed_run(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:boom", "--input", '{"log": []}', "--thread", "t-boom")
    assert result.exit_code == ExitCode.GRAPH_ERROR
    out = hitlgraph.json("state", "t-boom")
    assert out["status"] == "failed" and out["next"] == ["explode"]
    assert "flux capacitor" in out["errors"][0]
    assert "failed:" in hitlgraph("threads").stdout
    again = hitlgraph("resume", "t-boom", "--graph", "flows:boom")
    assert again.exit_code == ExitCode.GRAPH_ERROR  # retried, fails the same way


def test_resume_validates_tool_review_answers(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:guarded", ASK_TO_DELETE)["thread_id"]
    result = hitlgraph("resume", thread, "--graph", "flows:guarded",
                       "--value", '{"type": "edit", "args": {"path": "/"}}')
    assert result.exit_code == ExitCode.USAGE
    assert "does not allow 'edit'" in result.stderr and "'accept', 'ignore'" in result.stderr
    out = hitlgraph.json("resume", thread, "--graph", "flows:guarded",
                         "--value", '{"type": "ignore"}')
    assert out["status"] == "done"
    kinds = [m["type"] for m in out["values"]["messages"]]
    assert kinds == ["human", "ai", "tool", "ai"]


def test_tool_review_prompt_offers_only_allowed_answers(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:guarded", "--input", ASK_TO_DELETE, input="edit\na\n")
    assert result.exit_code == 0, result.output
    assert "review (accept/ignore)>" in result.stdout
    assert "'edit' is not allowed for this call" in result.stdout
    assert "deleted /tmp/x" in result.stdout


def test_graph_command(hitlgraph: Invoke) -> None:
    result = hitlgraph("graph", "flows:branchy")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("---\n") and "graph TD;" in text
    assert "__start__ --> step1;" in text
    assert "step1 -.->|again| step2;" in text and "step1 -.->|stop| __end__;" in text
    assert "interrupt after" in text
    data = hitlgraph.json("graph", "flows:review_builder")
    assert [n["id"] for n in data["nodes"]] == [
        "__start__", "write_draft", "review", "publish", "__end__"]
    assert {(e["source"], e["target"]) for e in data["edges"]} == {
        ("__start__", "write_draft"), ("write_draft", "review"), ("review", "publish"),
        ("publish", "__end__")}
    assert "double_check" in hitlgraph("graph", "flows:double_check").stdout
    assert "tools" in hitlgraph("graph", "hitlgraph.cli.demo:graph").stdout


def test_json_of_messages() -> None:
    message = AIMessage("hi", id="m1", tool_calls=[{"name": "t", "args": {"a": 1}, "id": "c"}])
    assert to_jsonable(message) == {
        "type": "ai", "content": "hi", "id": "m1",
        "tool_calls": [{"name": "t", "args": {"a": 1}, "id": "c"}],
    }
    assert to_jsonable({1, 2}) == [1, 2] and to_jsonable(b"\x00") == {"base64": "AA=="}


def test_an_interrupt_answered_in_the_resume_log_is_not_pending() -> None:
    from hitlgraph.cli._threads import pending_from_writes
    from hitlgraph.constants import INTERRUPT, RESUME
    from hitlgraph.types import Interrupt

    asked = ("t1", INTERRUPT, [Interrupt(value="Name?", id="i1")])
    answered, _ = pending_from_writes([asked, ("t1", RESUME, [["i1", "Ada", True]])])
    assert answered == ()
    withdrawn, _ = pending_from_writes([asked, ("t1", RESUME, [["i1", "Ada", True],
                                                              ["i1", None, False]])])
    assert [i.id for i in withdrawn] == ["i1"]


def test_the_example_agent(hitlgraph: Invoke) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "agent.py"
    result = hitlgraph("run", f"{example}:graph", "--input",
                       '{"messages": [{"role": "user", "content": "Fly me to Lisbon"}]}',
                       "--json", input='a\ne\n{"passenger": "Grace Hopper"}\n')
    assert result.exit_code == 0, result.output
    assert "Review tool call: search_flights" in result.stderr
    assert "Review tool call: book_flight" in result.stderr
    final = json.loads(result.stdout)["values"]["messages"][-1]["content"]
    assert "Booked TP1350 for Grace Hopper" in final


def test_graph_option_overrides_the_recorded_one_and_is_recorded(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:greet", "{}")["thread_id"]
    out = hitlgraph.json("resume", thread, "--graph", "flows:greet_builder", "--value", "Ada")
    assert out["status"] == "done" and out["graph"] == "flows:greet_builder"
    assert hitlgraph.json("history", thread)[0]["graph"] == "flows:greet_builder"
    assert hitlgraph.json("history", thread)[-1]["graph"] == "flows:greet"


def test_threads_state_and_history_show_the_recorded_graph(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph)["thread_id"]
    assert start_paused(hitlgraph)["graph"] == "flows:review_graph"
    assert {r["graph"] for r in hitlgraph.json("threads")} == {"flows:review_graph"}
    assert all(r["graph"] == "flows:review_graph" for r in hitlgraph.json("history", thread))
    assert "graph: flows:review_graph" in hitlgraph("state", thread).stdout
    assert f"{thread}  paused" in hitlgraph("threads").stdout
    assert "flows:review_graph" in hitlgraph("threads").stdout
    assert f"thread {thread} (graph flows:review_graph)" in hitlgraph("history", thread).stdout


def test_value_takes_plain_text_as_the_prompt_does(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:greet", "{}")["thread_id"]
    out = hitlgraph.json("resume", thread, "--value", "Ada Lovelace")
    assert out["values"]["greeting"] == "Hello, Ada Lovelace!"
    thread = start_paused(hitlgraph, "flows:greet", "{}")["thread_id"]
    out = hitlgraph.json("resume", thread, "--value", '"42"')
    assert out["values"]["greeting"] == "Hello, 42!"


def test_value_takes_a_review_word_as_the_prompt_does(hitlgraph: Invoke) -> None:
    thread = start_paused(hitlgraph, "flows:guarded", ASK_TO_DELETE)["thread_id"]
    result = hitlgraph("resume", thread, "--value", "edit")
    assert result.exit_code == ExitCode.USAGE
    assert "--value 'edit' means edit, which needs more than a word" in result.stderr
    assert '--value \'{"type": "edit", "args": {...}}\'' in result.stderr
    out = hitlgraph.json("resume", thread, "--value", "I")
    assert [m["type"] for m in out["values"]["messages"]] == ["human", "ai", "tool", "ai"]
    assert "skipped" in out["values"]["messages"][2]["content"]


def test_a_factory_is_called_and_named(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:make_graph", "--input", '{"topic": "f"}', "--no-input")
    assert result.exit_code == ExitCode.PAUSED
    assert ("graph flows:make_graph: make_graph(), a factory that returned a compiled graph"
            in result.stdout)
    result = hitlgraph("run", "flows:review_builder", "--input", '{"topic": "f"}', "--no-input")
    assert "graph flows:review_builder: a StateGraph builder (compiled here)" in result.stdout


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", sorted(
    p.name for p in EXAMPLES.glob("*.py") if "\ndef build_graph() -> " in p.read_text()))
def test_the_examples_build_graph_factories_load(hitlgraph: Invoke, example: str) -> None:
    result = hitlgraph("graph", f"{EXAMPLES / example}:build_graph")
    assert result.exit_code == 0, result.output
    assert "graph TD;" in result.stdout


def test_the_readme_quickstart_command_runs(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", f"{EXAMPLES / 'quickstart.py'}:build_graph", "--input",
                       '{"topic": "code review"}', input='{"approved": true}\n')
    assert result.exit_code == 0, result.output
    assert "build_graph(), a factory that returned a StateGraph builder" in result.stdout
    assert "THREE TIPS FOR CODE REVIEW" in result.stdout
