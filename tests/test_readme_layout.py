"""The README's "Project layout" names every package of src/hitlgraph and every test folder."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "hitlgraph"


def _layout() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Project layout", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]


def test_every_package_is_in_the_project_layout() -> None:
    layout = _layout()
    packages = sorted(p.parent.relative_to(PACKAGE) for p in PACKAGE.rglob("__init__.py")
                      if p.parent != PACKAGE)
    assert packages
    missing = [str(p) for p in packages if not re.search(rf"\b{p.name}/", layout)]
    assert not missing, f"add these packages to the README's Project layout: {missing}"


def test_every_test_folder_is_in_the_project_layout() -> None:
    layout = _layout()
    folders = [p.name for p in (ROOT / "tests").iterdir()
               if p.is_dir() and not p.name.startswith((".", "_"))]
    missing = [name for name in folders if f"{name}/" not in layout]
    assert not missing, f"add these test folders to the README's Project layout: {missing}"
