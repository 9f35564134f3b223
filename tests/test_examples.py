"""Every script in examples/ runs to the end, offline, and prints what its flow should print.

Each example runs once as a subprocess (the interpreter running the tests, in a temporary
working directory). A new example is picked up by test_example_runs automatically; the
examples listed in EXPECTED also have their key output lines checked, in order.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
TIMEOUT = 60

Runner = Callable[..., "subprocess.CompletedProcess[str]"]

# Lines (or parts of lines) each example must print, in this order.
EXPECTED: dict[str, list[str]] = {
    "quickstart": [
        "== run 1: start the thread and stop at the review",
        "paused with Interrupt(value={'question': 'Publish this draft? You may also edit it.'",
        "draft: Three tips for code review: start small, measure, repeat.",
        "next: ('review',)",
        "== restart: a new saver and a newly compiled graph open the same file",
        "still waiting at: ('review',)",
        "open interrupts: 1",
        "published: THREE TIPS FOR CODE REVIEW: BE KIND, BE QUICK.",
        "next: ()",
    ],
    "review_approve_reject": [
        "== thread claim-small: Ada claims 120",
        "no review needed",
        "outcome: paid 120 to Ada",
        "== thread claim-approve: Grace claims 900",
        "paused: Grace claims 900 (limit 500). Answer 'approve' or 'reject'.",
        "next: ('review',)",
        "decision: approve",
        "outcome: paid 900 to Grace",
        "== thread claim-reject: Linus claims 4000",
        "paused: Linus claims 4000",
        "next: ('review',)",
        "decision: reject",
        "outcome: claim of Linus refused",
    ],
    "server_quickstart": [
        "== a web app starts a run; it stops at the review",
        "waiting for: Publish this draft? You may also edit it.",
        "threads waiting: 1",
        "next: ['review']",
        "published: THREE TIPS FOR CODE REVIEW: BE KIND, BE QUICK.",
        "thread status: idle",
        "== a second answer to the same question is refused",
        "status: 409",
    ],
    "breakpoints": [
        "log: ['step1 ran']",
        "next: ('step2',)",
        "log: ['step1 ran', 'step2 ran', 'step3 ran']",
        "next: ('step4',)",
        "log: ['step1 ran', 'step2 ran', 'step3 ran', 'step4 ran']",
        "next: ()",
    ],
    "tool_review": [
        "review call_1: get_weather({'city': 'Lisbon'})",
        "answer: {'type': 'approve'}",
        "review call_2: send_email(",
        "answer: {'type': 'edit'",
        "review call_3: delete_file(",
        "answer: {'type': 'reject'}",
        "[tool] get_weather('Lisbon')",
        "[tool] send_email('team@example.com', 'Picnic at 1pm!')",
        "call_1: Sunny and 21 degrees in Lisbon.",
        "call_2: Email sent to team@example.com.",
        "call_3: The user rejected the call to delete_file; it did not run.",
        "assistant: Done:",
        "next: ()",
    ],
    "edit_state": [
        "next: ('book',)",
        "extracted amount: 20240117.0",
        "new checkpoint saved: True",
        "amount now: 149.9",
        "next: ('book',)",
        "result: booked 149.90 EUR for Acme Ltd",
        "next: ()",
    ],
    "stream_resume": [
        "== first stream",
        "updates: {'search': {'options': ['Porto by train', 'Porto by plane']}}",
        "updates: paused -> {'question': 'Which option?'",
        "next: ('choose',)",
        "== second stream, resuming with 0 (Porto by train)",
        "updates: {'choose': {'choice': 'Porto by train'}}",
        "updates: {'book': {'booking': 'booked: Porto by train'}}",
        "final booking: booked: Porto by train",
        "next: ()",
    ],
    "time_travel": [
        "title: Mira Finds A Map (take 1)",
        "step  2 source=loop   next=()",
        "step  1 source=loop   next=('name_it',)",
        "step  0 source=loop   next=('outline',)",
        "step -1 source=input  next=('__start__',)",
        "title: Mira Finds A Map (take 2)",
        "node runs so far: {'name_it': 2, 'outline': 1}",
        "title: Mira Loses The Map (take 3)",
        "node runs so far: {'name_it': 3, 'outline': 1}",
        "latest title: Mira Loses The Map (take 3)",
        "sources: ['loop', 'update', 'loop', 'fork', 'loop', 'loop', 'loop', 'input']",
    ],
}

# Printed by a run that went wrong, whatever its exit code.
NEVER = ["Traceback (most recent call last)"]


@pytest.fixture(scope="module")
def run_example(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """Run examples/NAME.py (once per set of arguments) and return the finished process."""
    env = dict(os.environ)
    # Test this source tree, even if another copy of hitlgraph is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    done: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = {}

    def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        key = (name, *args)
        if key not in done:
            cwd = tmp_path_factory.mktemp(name)
            done[key] = subprocess.run(
                [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                stdin=subprocess.DEVNULL, check=False,
            )
        return done[key]

    return run


def assert_in_order(output: str, expected: list[str]) -> None:
    lines = output.splitlines()
    at = 0
    for snippet in expected:
        for i in range(at, len(lines)):
            if snippet in lines[i]:
                at = i + 1
                break
        else:
            raise AssertionError(
                f"expected a line containing {snippet!r} after line {at} of the output:\n{output}"
            )


def test_examples_found() -> None:
    assert SCRIPTS, f"no examples in {EXAMPLES}"
    missing = sorted(set(EXPECTED) - set(SCRIPTS))
    assert not missing, f"examples with expected output but no script: {missing}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs(run_example: Runner, name: str) -> None:
    proc = run_example(name)
    assert proc.returncode == 0, f"{name}.py exited {proc.returncode}:\n{proc.stderr}"
    assert proc.stdout.strip(), f"{name}.py printed nothing"
    for bad in NEVER:
        assert bad not in proc.stdout + proc.stderr, f"{name}.py printed {bad!r}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_output(run_example: Runner, name: str) -> None:
    proc = run_example(name)
    assert proc.returncode == 0, f"{name}.py exited {proc.returncode}:\n{proc.stderr}"
    assert_in_order(proc.stdout, EXPECTED[name])


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_imports_without_running(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)), f"{name}.py has no main()"
    assert capsys.readouterr().out == "", f"importing {name}.py printed something"


def test_quickstart_db_option_keeps_the_file(run_example: Runner,
                                             tmp_path: Path) -> None:
    db = tmp_path / "checkpoints.db"
    proc = run_example("quickstart", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert_in_order(proc.stdout, ["still waiting at: ('review',)", "next: ()"])
    assert db.exists() and db.stat().st_size > 0


# -- README ------------------------------------------------------------------------------------

README = ROOT / "README.md"
_PRINT_WITH_RESULT = re.compile(r"^\s*print\(.*\)\s+#\s*(?P<shown>.+)$")


def test_readme_python_blocks_run_and_print_what_they_say(tmp_path: Path) -> None:
    """The README's ```python blocks, run in order as one script, print what their
    `print(...)  # shown` comments say (a shown text ending in "..." is a prefix)."""
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)
    assert blocks, "README.md has no python code blocks"
    script = "\n".join(blocks)
    expected = []
    for line in script.splitlines():
        found = _PRINT_WITH_RESULT.match(line)
        if found:
            expected.append(found["shown"])
    assert expected, "README.md code shows no expected output"
    path = tmp_path / "readme_blocks.py"
    path.write_text(script)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, f"README code failed:\n{proc.stderr}"
    lines = proc.stdout.splitlines()
    at = 0
    for shown in expected:
        prefix = shown[:-3].rstrip() if shown.endswith("...") else None
        for i in range(at, len(lines)):
            if lines[i] == shown or (prefix is not None and lines[i].startswith(prefix)):
                at = i + 1
                break
        else:
            raise AssertionError(
                f"README says a print shows {shown!r}; the output was:\n{proc.stdout}"
            )
