"""The CLI in a real (pseudo-)terminal: questions answered by typing, tool reviews in the demo,
Ctrl-C leaving a thread paused, and a new process picking it up."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.cli import ExitCode

pexpect = pytest.importorskip("pexpect")

REVIEW_PROMPT = r"review \(accept/edit/respond/ignore\)> "
DEMO = "hitlgraph.cli.demo:graph"


def finish(child: Any) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -child.signalstatus)


def test_run_answered_in_the_terminal(spawn: Any, hitlgraph: Any) -> None:
    child = spawn("run", "flows:review_graph", "--input", '{"topic": "tty"}')
    child.expect(r"thread (\S+) \(new\)")
    thread = child.match.group(1)
    child.expect(r"Publish this draft\?")
    child.expect("answer> ")
    child.sendline('{"approved": tru')  # a typo: shown, and asked again
    child.expect("not valid JSON")
    child.expect("answer> ")
    child.sendline('{"approved": true}')
    child.expect("Finished")
    child.expect("TIPS FOR TTY.")
    assert finish(child) == ExitCode.OK
    assert hitlgraph.json("state", thread)["values"]["published"] == "TIPS FOR TTY."


def test_demo_accept_one_edit_one(spawn: Any, hitlgraph: Any) -> None:
    child = spawn("demo")
    child.expect("Here is my draft reply to Sam")
    child.expect("Review tool call: lookup_order")
    child.expect(REVIEW_PROMPT)
    child.sendline("a")
    child.expect("→ accept")
    child.expect("Review tool call: send_email")
    child.expect(REVIEW_PROMPT)
    child.sendline("edit")
    child.expect("args> ")
    child.sendline('{"body": "Hi Sam, it ships tomorrow."}')
    child.expect("→ edit: run send_email with")
    child.expect("Order 1042: packed, ships tomorrow by courier.")
    child.expect("Email sent to sam@example.com, subject 'Your order 1042': Hi Sam, it ships "
                 "tomorrow.")
    child.expect("Demo finished")
    assert finish(child) == ExitCode.OK
    [row] = hitlgraph.json("threads")
    assert row["status"] == "done"
    messages = hitlgraph.json("state", row["thread_id"])["values"]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "tool", "tool", "ai"]
    assert messages[1]["tool_calls"][1]["args"]["body"] == "Hi Sam, it ships tomorrow."


def test_demo_edit_in_editor(spawn: Any, workdir: Path, hitlgraph: Any) -> None:
    editor = workdir / "editor.py"
    editor.write_text(
        "import json, sys\n"
        "path = sys.argv[1]\n"
        "args = json.load(open(path))\n"
        "args['subject'] = 'Shipping update'\n"
        "json.dump(args, open(path, 'w'))\n"
    )
    child = spawn("demo", EDITOR=f"{sys.executable} {editor}")
    child.expect(REVIEW_PROMPT)
    child.sendline("accept")
    child.expect(REVIEW_PROMPT)
    child.sendline("e")
    child.expect("→ edit: run send_email with")
    child.expect("subject 'Shipping update'")
    child.expect("Demo finished")
    assert finish(child) == ExitCode.OK
    [row] = hitlgraph.json("threads")
    messages = hitlgraph.json("state", row["thread_id"])["values"]["messages"]
    assert messages[1]["tool_calls"][1]["args"]["subject"] == "Shipping update"


def test_ctrl_c_then_demo_again_picks_up(spawn: Any, hitlgraph: Any) -> None:
    child = spawn("demo")
    child.expect(r"Thread (\S+), saved in")
    thread = child.match.group(1)
    child.expect("Review tool call: lookup_order")
    child.expect(REVIEW_PROMPT)
    child.send("\x03")
    child.expect(r"Stopped \(Ctrl-C\)")
    child.expect("is left paused; nothing is lost")
    child.expect("hitlgraph demo")
    assert finish(child) == ExitCode.INTERRUPTED

    [row] = hitlgraph.json("threads")
    assert row["thread_id"] == thread and row["status"] == "paused"
    assert row["interrupts"][0]["value"]["tool"] == "lookup_order"

    again = spawn("demo")  # a new process
    again.expect(f"Picking up the paused demo on thread {thread}")
    again.expect("Review tool call: lookup_order")
    again.expect(REVIEW_PROMPT)
    again.sendline("i")
    again.expect("Review tool call: send_email")
    again.expect(REVIEW_PROMPT)
    again.sendline("respond")
    again.expect("your reply to the assistant> ")
    again.sendline("Hold the email, I'll call Sam.")
    again.expect("The reviewer skipped this call to 'lookup_order'")
    again.expect("Hold the email, I'll call Sam.")
    again.expect("Demo finished")
    assert finish(again) == ExitCode.OK
    assert hitlgraph.json("state", thread)["status"] == "done"


def test_ctrl_c_then_threads_and_resume(spawn: Any, hitlgraph: Any) -> None:
    child = spawn("demo")
    child.expect(REVIEW_PROMPT)
    child.send("\x03")
    assert finish(child) == ExitCode.INTERRUPTED
    [row] = hitlgraph.json("threads")
    thread = row["thread_id"]

    # No answer given and none can be asked (no input): the thread stays paused.
    out = hitlgraph.json("resume", thread, "--graph", DEMO, "--value", '{"type": "accept"}',
                         "--no-input", code=ExitCode.PAUSED)
    assert out["interrupts"][0]["value"]["tool"] == "send_email"

    # The next answer typed in a terminal.
    child = spawn("resume", thread, "--graph", DEMO)
    child.expect("Review tool call: send_email")
    child.expect(REVIEW_PROMPT)
    child.sendline("a")
    child.expect("Email sent to sam@example.com")
    child.expect("Finished")
    assert finish(child) == ExitCode.OK
    result = hitlgraph("resume", thread, "--graph", DEMO, "--value", '{"type": "accept"}')
    assert result.exit_code == ExitCode.NOTHING_PENDING


def test_ctrl_c_at_a_question_of_run(spawn: Any, hitlgraph: Any) -> None:
    child = spawn("run", "flows:greet", "--input", "{}", "--thread", "tty-1")
    child.expect("answer> ")
    child.send("\x03")
    child.expect(r"Stopped \(Ctrl-C\): thread tty-1 is left paused")
    child.expect("hitlgraph resume tty-1\r\n")
    assert finish(child) == ExitCode.INTERRUPTED
    out = hitlgraph.json("resume", "tty-1", "--graph", "flows:greet", "--value", '"Grace"')
    assert out["values"]["greeting"] == "Hello, Grace!"



def test_ctrl_c_while_the_graph_runs(spawn: Any, hitlgraph: Any) -> None:
    child = spawn("run", "flows:slow", "--input", '{"log": []}', "--thread", "slow-1")
    child.expect("✓ step1")
    time.sleep(0.5)  # into the 60-second node
    child.send("\x03")
    child.expect(r"Stopped \(Ctrl-C\) while the graph ran\. Thread slow-1 keeps its last "
                 "finished step")
    child.expect("hitlgraph resume slow-1\r\n")
    assert finish(child) == ExitCode.INTERRUPTED
    out = hitlgraph.json("state", "slow-1")
    assert out["status"] == "stopped" and out["next"] == ["nap"]
    assert out["values"] == {"log": ["step1"]}


def test_resume_without_graph_runs_the_graph_the_thread_recorded(spawn: Any,
                                                                 hitlgraph: Any) -> None:
    child = spawn("run", "flows:greet", "--input", "{}", "--thread", "rec-1")
    child.expect("graph flows:greet: a compiled graph")
    child.expect("answer> ")
    child.send("\x03")
    child.expect("hitlgraph resume rec-1\r\n")  # no --graph to remember
    assert finish(child) == ExitCode.INTERRUPTED
    assert hitlgraph.json("state", "rec-1")["graph"] == "flows:greet"

    child = spawn("resume", "rec-1")
    child.expect("graph flows:greet: a compiled graph")
    child.expect("What is your name?")
    child.expect("answer> ")
    child.sendline("Ada")
    child.expect("Hello, Ada!")
    assert finish(child) == ExitCode.OK


def test_a_file_spec_is_recorded_as_an_absolute_path_for_any_folder(
        spawn: Any, hitlgraph: Any, workdir: Path) -> None:
    child = spawn("run", "./flows.py:greet", "--input", "{}", "--thread", "far-1",
                  "--no-input")
    assert finish(child) == ExitCode.PAUSED
    assert hitlgraph.json("state", "far-1")["graph"] == f"{workdir / 'flows.py'}:greet"
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    db = str(workdir / "hitlgraph.sqlite")
    child = spawn("resume", "far-1", "--db", db, "--value", "Grace", cwd=elsewhere)
    child.expect("Hello, Grace!")
    assert finish(child) == ExitCode.OK


def test_a_thread_is_named_by_a_unique_start_of_its_id(spawn: Any, hitlgraph: Any) -> None:
    for thread in ("alpha-1", "alpha-2", "beta-1"):
        hitlgraph.json("run", "flows:greet", "--input", "{}", "--thread", thread, "--no-input",
                       code=ExitCode.PAUSED)
    child = spawn("resume", "bet")
    child.expect("What is your name?")
    child.expect("answer> ")
    child.sendline("Bea")
    child.expect("Hello, Bea!")
    assert finish(child) == ExitCode.OK
    assert hitlgraph.json("state", "beta-1")["status"] == "done"

    child = spawn("state", "alpha")
    child.expect("Thread 'alpha' is ambiguous: 2 threads' ids start with it")
    child.expect(r"\(alpha-1, alpha-2\)\. Give more of the id\.")
    assert finish(child) == ExitCode.USAGE
    child = spawn("history", "gamma")
    child.expect("No thread 'gamma' in hitlgraph.sqlite")
    assert finish(child) == ExitCode.NOT_FOUND


def test_an_answer_that_makes_the_node_fail_is_asked_again(spawn: Any, hitlgraph: Any) -> None:
    child = spawn("run", "flows:review_graph", "--input", '{"topic": "tty"}', "--thread", "f-1")
    child.expect("answer> ")
    child.sendline("yes")  # review() reads answer["approved"]: a string fails there
    child.expect("That answer made the run fail: TypeError: string indices must be integers")
    child.expect("The question is still open: answer it again.")
    child.expect(r"Publish this draft\?")
    child.expect("answer> ")
    child.sendline('{"approved": true}')
    child.expect("TIPS FOR TTY.")
    assert finish(child) == ExitCode.OK
    assert "Fix the code" not in (child.before or "")


def test_history_keeps_checkpoint_ids_whole_at_80_columns(spawn: Any, hitlgraph: Any) -> None:
    hitlgraph.json("run", "flows:review_graph", "--input", '{"topic": "x"}', "--thread",
                   "h-1", "--no-input", code=ExitCode.PAUSED)
    ids = [r["checkpoint_id"] for r in hitlgraph.json("history", "h-1")]
    child = spawn("history", "h-1", COLUMNS="80")
    assert finish(child) == ExitCode.OK
    lines = (child.before or "").splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    for checkpoint in ids:
        assert any(checkpoint in line for line in lines), checkpoint
    assert "write_draft" in child.before and "(waits)" in child.before


def test_run_on_a_thread_paused_at_a_question_says_it_starts_over(spawn: Any,
                                                                  hitlgraph: Any) -> None:
    hitlgraph.json("run", "flows:greet", "--input", "{}", "--thread", "p-1", "--no-input",
                   code=ExitCode.PAUSED)
    child = spawn("run", "flows:review_graph", "--input", '{"topic": "new"}', "--thread", "p-1")
    child.expect(r"Thread p-1 was paused at a question \(ask_name: \"What is your name\?\"\)")
    child.expect("This run starts it over from the new input, as LangGraph does")
    child.expect("hitlgraph resume p-1\r\n")
    child.expect(r"Publish this draft\?")  # and it did start over
    child.expect("answer> ")
    child.sendline('{"approved": false}')
    assert finish(child) == ExitCode.OK


def test_demo_picked_up_shows_the_answers_given_in_this_round(spawn: Any,
                                                               hitlgraph: Any) -> None:
    child = spawn("demo")
    child.expect(r"Thread (\S+), saved in")
    thread = child.match.group(1)
    child.expect(REVIEW_PROMPT)
    child.sendline("a")
    child.expect("Review tool call: send_email")
    child.expect(REVIEW_PROMPT)
    child.send("\x03")
    assert finish(child) == ExitCode.INTERRUPTED

    again = spawn("demo")
    again.expect(f"Picking up the paused demo on thread {thread}")
    again.expect("Already answered in this round:")
    again.expect("✓ lookup_order → accept")
    again.expect("Review tool call: send_email")
    again.expect(REVIEW_PROMPT)
    again.sendline("i")
    again.expect("Demo finished")
    assert finish(again) == ExitCode.OK


def test_demo_new_says_the_earlier_conversation_stays_paused(spawn: Any,
                                                              hitlgraph: Any) -> None:
    child = spawn("demo")
    child.expect(r"Thread (\S+), saved in")
    earlier = child.match.group(1)
    child.expect(REVIEW_PROMPT)
    child.send("\x03")
    assert finish(child) == ExitCode.INTERRUPTED

    child = spawn("demo", "--new")
    child.expect(f"The earlier demo conversation \\(thread {earlier}\\) stays paused")
    child.expect(f"hitlgraph resume {earlier}\r\n")
    child.expect(r"Thread (\S+), saved in")
    assert child.match.group(1) != earlier
    child.expect(REVIEW_PROMPT)
    child.send("\x03")
    assert finish(child) == ExitCode.INTERRUPTED

    out = hitlgraph.json("resume", earlier, "--value", "accept", "--no-input",
                         code=ExitCode.PAUSED)  # the demo's graph is recorded
    assert out["interrupts"][0]["value"]["tool"] == "send_email"
