"""Errors a person can act on: each names the bad value and what to do, with its exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.cli import ExitCode

Invoke = Any


def fails(hitlgraph: Invoke, code: int, *args: str, input: str | None = None) -> str:
    result = hitlgraph(*args, input=input)
    assert result.exit_code == code, (result.exit_code, result.output)
    return " ".join(result.stderr.split())  # one line, whatever Rich or click wrapped


def paused_thread(hitlgraph: Invoke, spec: str = "flows:review_graph",
                  input: str = '{"topic": "t"}') -> str:
    out = hitlgraph.json("run", spec, "--input", input, "--no-input", code=ExitCode.PAUSED)
    return str(out["thread_id"])


@pytest.mark.parametrize(("spec", "code", "expected"), [
    ("flows", ExitCode.USAGE, "'flows' is not MODULE:GRAPH: name the module (or .py file) and "
                              "the variable that holds the graph"),
    (":graph", ExitCode.USAGE, "':graph' is not MODULE:GRAPH"),
    ("flows:", ExitCode.USAGE, "'flows:' is not MODULE:GRAPH"),
    ("nosuch_module:graph", ExitCode.NOT_FOUND,
     "No module named 'nosuch_module' (from 'nosuch_module:graph'). Run hitlgraph from the "
     "folder that holds it"),
    ("missing/app.py:graph", ExitCode.NOT_FOUND, "No file 'missing/app.py'"),
    ("flows:grpah", ExitCode.NOT_FOUND,
     "'flows' has no attribute 'grpah' (from 'flows:grpah'); graphs it has: boom, boom_builder, "
     "branchy"),
    ("flows:sign_off", ExitCode.NOT_FOUND, "has no attribute 'sign_off' (did you mean 'signoff'?)"),
    ("flows:not_a_graph", ExitCode.USAGE,
     "'flows:not_a_graph' is an int, not a graph: point at a compiled graph"),
    ("flows:route", ExitCode.USAGE, "'flows:route' is a function, not a graph"),
])
def test_bad_module_graph(hitlgraph: Invoke, spec: str, code: int, expected: str) -> None:
    message = fails(hitlgraph, code, "run", spec, "--input", "{}")
    assert expected in message
    assert not Path("hitlgraph.sqlite").exists()  # nothing was created for a bad argument
    assert expected in fails(hitlgraph, code, "graph", spec)


def test_module_that_fails_to_import(hitlgraph: Invoke, workdir: Path) -> None:
    (workdir / "broken.py").write_text("raise RuntimeError('no config file')\n")
    (workdir / "needs.py").write_text("import nonexistent_dependency_xyz\n")
    (workdir / "factory.py").write_text("def make() -> 'StateGraph':\n"
                                        "    raise KeyError('api key')\n")
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "graph", "broken:graph")
    assert "Importing 'broken' (from 'broken:graph') failed: RuntimeError: no config file" \
        in message
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "graph", "needs:graph")
    assert "it imports 'nonexistent_dependency_xyz', which is not installed" in message
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "graph", "factory:make")
    assert "Calling make() (from 'factory:make') to make the graph failed: KeyError" in message
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "graph", "./broken.py:graph")
    assert "RuntimeError: no config file" in message


@pytest.mark.parametrize(("text", "where"), [
    ('{"topic": "x"', "line 1, column 14"),
    ("{topic: 1}", "Expecting property name enclosed in double quotes (line 1, column 2)"),
    ("", "Expecting value (line 1, column 1)"),
])
def test_invalid_json_input(hitlgraph: Invoke, text: str, where: str) -> None:
    result = hitlgraph("run", "flows:review_graph", "--input", text)
    assert result.exit_code == ExitCode.USAGE
    assert "--input is not valid JSON" in result.stderr and where in result.stderr
    assert "^" in result.stderr  # points at the place


def test_invalid_json_value_and_missing_input_file(hitlgraph: Invoke) -> None:
    thread = paused_thread(hitlgraph)
    result = hitlgraph("resume", thread, "--graph", "flows:review_graph",
                       "--value", '{"approved": yes}')
    assert result.exit_code == ExitCode.USAGE
    assert "--value is not valid JSON: Expecting value (line 1, column 14)" in result.stderr
    assert '  {"approved": yes}\n               ^' in result.stderr
    message = fails(hitlgraph, ExitCode.NOT_FOUND, "run", "flows:plain", "--input", "@nope.json")
    assert "--input names the file 'nope.json', which cannot be read" in message


def test_missing_input_option(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:plain")
    assert result.exit_code == ExitCode.USAGE
    assert "Missing option '--input'" in result.stderr


def test_unknown_thread(hitlgraph: Invoke) -> None:
    paused_thread(hitlgraph)
    for command in (["state", "ghost"], ["history", "ghost"],
                    ["resume", "ghost", "--graph", "flows:review_graph", "--value", "1"]):
        message = fails(hitlgraph, ExitCode.NOT_FOUND, *command)
        assert "No thread 'ghost' in hitlgraph.sqlite. `hitlgraph threads` lists the threads." \
            in message
    message = fails(hitlgraph, ExitCode.NOT_FOUND, "state", "ghost", "--db", "hitlgraph.sqlite")
    assert "No thread 'ghost'" in message


def test_missing_database(hitlgraph: Invoke, workdir: Path) -> None:
    for command in (["threads"], ["state", "t"], ["history", "t"],
                    ["resume", "t", "--graph", "flows:plain"]):
        message = fails(hitlgraph, ExitCode.NOT_FOUND, *command, "--db", "nowhere.db")
        assert "No checkpoint database at 'nowhere.db'" in message
        assert "Pass the --db your runs used" in message
    assert not (workdir / "nowhere.db").exists()


def test_not_a_database(hitlgraph: Invoke, workdir: Path) -> None:
    (workdir / "notes.txt").write_text("hello, this is not SQLite " * 100)
    message = fails(hitlgraph, ExitCode.USAGE, "threads", "--db", "notes.txt")
    assert "Cannot use 'notes.txt' as a checkpoint database" in message


def test_resume_of_a_thread_run_elsewhere_needs_the_graph(hitlgraph: Invoke,
                                                          workdir: Path) -> None:
    from flows import review_builder

    from hitlgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(str(workdir / "hitlgraph.sqlite")) as saver:
        graph = review_builder.compile(checkpointer=saver)
        graph.invoke({"topic": "py"}, {"configurable": {"thread_id": "from-python"}})
    message = fails(hitlgraph, ExitCode.USAGE, "resume", "from-python", "--value", "1")
    assert "Resuming thread from-python runs its graph's code, so name the graph: --graph " \
           "MODULE:GRAPH" in message
    assert "No graph is recorded in the thread: it was not run by `hitlgraph run`." in message
    out = hitlgraph.json("resume", "from-python", "--graph", "flows:review_graph",
                         "--value", '{"approved": true}')
    assert out["status"] == "done" and out["graph"] == "flows:review_graph"


def test_resume_with_nothing_pending(hitlgraph: Invoke) -> None:
    thread = hitlgraph.json("run", "flows:plain", "--input", '{"log": []}')["thread_id"]
    message = fails(hitlgraph, ExitCode.NOTHING_PENDING, "resume", thread, "--graph",
                    "flows:plain", "--value", '"x"')
    assert f"Thread {thread} has nothing to resume: its run finished (step 2)" in message
    assert "start a new run with `hitlgraph run flows:plain --input JSON`" in message


def test_resume_answers_that_cannot_be_taken(hitlgraph: Invoke) -> None:
    thread = paused_thread(hitlgraph, "flows:signoff", '{"answers": []}')
    message = fails(hitlgraph, ExitCode.NOT_FOUND, "resume", thread, "--graph", "flows:signoff",
                    "--value", '"y"', "--interrupt", "zzz")
    assert f"Thread {thread} has no open interrupt 'zzz'. Open:" in message
    assert "(legal)" in message and "(finance)" in message
    message = fails(hitlgraph, ExitCode.USAGE, "resume", thread, "--graph", "flows:signoff",
                    "--interrupt", "zzz")
    assert "--interrupt ID names which interrupt --value answers: give --value ANSWER too" \
        in message
    message = fails(hitlgraph, ExitCode.USAGE, "resume", thread, "--graph", "flows:signoff",
                    "--no-input")
    assert "waits for an answer and --no-input forbids asking: give it with --value ANSWER" \
        in message


def test_graph_error_during_a_run(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:boom", "--input", '{"log": []}', "--thread", "b1")
    assert result.exit_code == ExitCode.GRAPH_ERROR
    message = " ".join(result.stderr.split())
    assert "The graph failed on thread b1: ValueError: the flux capacitor is empty" in message
    assert "`hitlgraph state b1` shows it" in message
    assert "continue with: hitlgraph resume b1 (" in message
    assert "Traceback" not in result.output
    result = hitlgraph("--traceback", "run", "flows:boom", "--input", '{"log": []}')
    assert "Traceback (most recent call last)" in result.stderr and "def explode" not in \
        result.stderr and "ValueError: the flux capacitor is empty" in result.stderr


def test_compile_error(hitlgraph: Invoke, workdir: Path) -> None:
    (workdir / "bad_graph.py").write_text(
        "from typing import TypedDict\n"
        "from hitlgraph.graph import START, StateGraph\n"
        "class S(TypedDict):\n    x: int\n"
        "builder = StateGraph(S)\n"
        "builder.add_node('a', lambda s: {})\n"
        "builder.add_edge(START, 'b')\n"
    )
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "run", "bad_graph:builder", "--input", "{}")
    assert "Compiling 'bad_graph:builder' failed:" in message


def test_import_hitlgraph_does_not_import_the_cli_libraries(env: dict[str, str]) -> None:
    code = ("import sys, hitlgraph, hitlgraph.prebuilt, hitlgraph.graph; "
            "assert 'click' not in sys.modules and 'rich' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich'))")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize("missing", ["click", "rich"])
def test_cli_without_its_extra(missing: str, env: dict[str, str]) -> None:
    code = (f"import sys; sys.modules[{missing!r}] = None\n"
            "try:\n    import hitlgraph.cli\n"
            "except ImportError as e:\n    print(e)\nelse:\n    print('imported')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert "The hitlgraph command line needs click and rich" in out
    assert "pip install -e " in out and "[cli]" in out


def test_console_script(tmp_path: Path, env: dict[str, str]) -> None:
    script = shutil.which("hitlgraph")
    if script is None:
        pytest.skip("the hitlgraph console script is not on PATH (pip install -e '.[cli]')")
    result = subprocess.run([script, "--version"], capture_output=True, text=True,
                            env=env, cwd=tmp_path)
    assert result.returncode == 0 and "hitlgraph" in result.stdout
    result = subprocess.run([script, "state", "x"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == ExitCode.NOT_FOUND
    assert "No checkpoint database at 'hitlgraph.sqlite'" in result.stderr
    assert os.listdir(tmp_path) == []


def test_a_function_not_annotated_as_a_factory_is_not_called(hitlgraph: Invoke,
                                                             workdir: Path) -> None:
    message = fails(hitlgraph, ExitCode.USAGE, "run", "flows:main", "--input", "{}")
    assert "main() was called" not in message
    assert ("'flows:main' is a function, not a graph, and hitlgraph does not call it to make "
            "one: main() is annotated to return 'None'.") in message
    assert "A factory is a function without arguments whose return annotation names a graph " \
           "type (StateGraph, CompiledStateGraph or EntrypointGraph)" in message
    assert "graphs it has: boom, boom_builder" in message
    message = fails(hitlgraph, ExitCode.USAGE, "graph", "flows:write_draft")
    assert "write_draft() takes arguments (state)" in message
    (workdir / "script.py").write_text("def main():\n    raise SystemExit('called')\n")
    message = fails(hitlgraph, ExitCode.USAGE, "graph", "script:main")
    assert "main() has no return annotation" in message
    assert "it has no graph at module level" in message


@pytest.mark.parametrize("example", sorted(
    p.name for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.py")
    if "\ndef main(" in p.read_text()))
def test_an_examples_main_is_not_called(hitlgraph: Invoke, example: str) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / example
    message = fails(hitlgraph, ExitCode.USAGE, "graph", f"{path}:main")
    assert "is a function, not a graph, and hitlgraph does not call it" in message


def test_invalid_json_value_hint_shows_an_answer(hitlgraph: Invoke) -> None:
    thread = paused_thread(hitlgraph)
    message = fails(hitlgraph, ExitCode.USAGE, "resume", thread, "--value", '{"approved": yes}')
    assert "Quote the JSON for the shell, e.g. --value '{\"approved\": true}'" in message
    assert "e.g. --value yes" in message and "topic" not in message


def test_resume_through_a_wrong_graph_does_not_say_leave_out_graph(hitlgraph: Invoke) -> None:
    thread = paused_thread(hitlgraph)
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "resume", thread, "--graph", "flows:greet",
                    "--value", "1")
    assert f"Reading thread {thread} through 'flows:greet' failed: KeyError" in message
    assert "Leave out --graph" not in message
    assert "name the one it was run with, --graph MODULE:GRAPH" in message
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "state", thread, "--graph", "flows:greet")
    assert "Leave out --graph to read the checkpoint as it is" in message


def test_a_failing_answer_with_no_input_keeps_exit_code_1(hitlgraph: Invoke) -> None:
    thread = paused_thread(hitlgraph)
    message = fails(hitlgraph, ExitCode.GRAPH_ERROR, "resume", thread, "--value", "yes",
                    "--no-input")
    assert f"The graph failed on thread {thread}: TypeError" in message
    assert "Fix the code" in message


def test_a_menu_choice_is_echoed_as_typed(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:guarded", "--input",
                       '{"messages": [{"role": "user", "content": "rm it"}]}',
                       input="Yes\n[b]Nope\na\n")
    assert result.exit_code == 0, result.output
    assert "'Yes' is not an answer here" in result.stdout
    assert "'[b]Nope' is not an answer here" in result.stdout


def test_bad_edit_arguments_are_named_in_good_english(hitlgraph: Invoke) -> None:
    result = hitlgraph("demo", input='e\n{"order_id": 7\n{"order_id": 7}\na\n')
    assert result.exit_code == 0, result.output
    assert "That edit is not valid JSON: Expecting ',' delimiter" in result.stdout
    assert "Those arguments" not in result.stdout
