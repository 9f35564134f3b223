"""examples/server_quickstart.py without its client libraries: one line naming the extras to
install, and a non-zero exit, instead of a traceback. (tests/test_examples.py runs it whole.)"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "server_quickstart.py"


@pytest.mark.parametrize("missing", ["httpx", "langgraph_sdk", "fastapi"])
def test_quickstart_without_a_library_names_the_extras_to_install(missing: str) -> None:
    # sys.modules[name] = None makes `import name` fail as a missing package does.
    code = (f"import runpy, sys; sys.modules[{missing!r}] = None; "
            f"runpy.run_path({str(EXAMPLE)!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert missing in line and "Traceback" not in line
    assert line.endswith(f"pip install -e {shlex.quote(f'{EXAMPLE.parents[1]}[server,test]')}")
