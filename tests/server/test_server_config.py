"""langgraph.json beyond "graphs": "env" is honoured as `langgraph dev` honours it (set before
the graphs are imported, a file path relative to the config, values replacing variables
already set), and the keys that have no effect here, or that nobody knows, are named once."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hitlgraph.server import ServerSettings, create_app
from hitlgraph.server.config import ConfigError

NAMES = ("HG_TEST_FROM_FILE", "HG_TEST_FROM_OBJECT", "HG_TEST_SHELL", "HG_TEST_NUMBER")

# Records the variables as they are when the server imports it.
GRAPH = f'''
import os
from hitlgraph.graph import END, START, StateGraph
from typing import TypedDict

SEEN = {{name: os.environ.get(name) for name in {NAMES!r}}}

class State(TypedDict, total=False):
    x: str

builder = StateGraph(State)
builder.add_node("step", lambda state: {{"x": "done"}})
builder.add_edge(START, "step")
builder.add_edge("step", END)
'''


@pytest.fixture(autouse=True)
def _restored_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables the tests' configs set, unset before each test and after it."""
    for name in NAMES:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def _app_folder(tmp_path: Path, **config: Any) -> Path:
    """A folder with envgraph.py and a langgraph.json serving it, plus `config`'s keys."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "envgraph.py").write_text(GRAPH, encoding="utf-8")
    data = {"graphs": {"g": "./envgraph.py:builder"}, **config}
    (folder / "langgraph.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def _create(folder: Path) -> ModuleType:
    """create_app() on the folder's config; the graph module as the server imported it."""
    create_app(ServerSettings(config=folder / "langgraph.json", db=folder / "x.sqlite",
                              read_env=False))
    graph_file = str(folder / "envgraph.py")
    return next(m for m in list(sys.modules.values())
                if getattr(m, "__file__", None) == graph_file)


def test_env_file_relative_to_the_config_is_loaded_before_the_graphs_are_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _app_folder(tmp_path, env="settings/.env")
    (folder / "settings").mkdir()
    (folder / "settings" / ".env").write_text(
        "HG_TEST_FROM_FILE=from-file\nexport HG_TEST_NUMBER=${HG_TEST_FROM_FILE}-2\n"
        "HG_TEST_SHELL\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's folder: the path is the config's
    seen = _create(folder).SEEN
    assert seen["HG_TEST_FROM_FILE"] == "from-file"
    assert seen["HG_TEST_NUMBER"] == "from-file-2"
    assert seen["HG_TEST_SHELL"] is None  # a bare name sets nothing


def test_env_object_values_replace_variables_already_set_as_langgraph_dev_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HG_TEST_SHELL", "from-shell")
    folder = _app_folder(tmp_path, env={"HG_TEST_SHELL": "from-config",
                                        "HG_TEST_FROM_OBJECT": "yes", "HG_TEST_NUMBER": 3})
    seen = _create(folder).SEEN
    assert seen["HG_TEST_SHELL"] == "from-config"
    assert (seen["HG_TEST_FROM_OBJECT"], seen["HG_TEST_NUMBER"]) == ("yes", "3")


def test_env_file_that_does_not_exist_is_reported_and_sets_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _app_folder(tmp_path, env=".env")
    with caplog.at_level(logging.WARNING, logger="hitlgraph.server"):
        seen = _create(folder).SEEN
    assert all(value is None for value in seen.values())
    [warning] = [r.getMessage() for r in caplog.records]
    assert f"names '{folder / '.env'}', which does not exist" in warning


@pytest.mark.parametrize("env", [["HG_TEST_SHELL=1"], 3, {"HG_TEST_SHELL": None}])
def test_env_of_another_shape_fails_naming_the_shapes_it_takes(tmp_path: Path,
                                                               env: Any) -> None:
    folder = _app_folder(tmp_path, env=env)
    with pytest.raises(ConfigError, match=r'"env" in .*langgraph\.json'):
        _create(folder)


def test_keys_without_effect_are_named_in_one_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _app_folder(tmp_path, **{
        "$schema": "https://langgra.ph/schema.json", "dependencies": ["."],
        "python_version": "3.12", "dockerfile_lines": [], "store": {}, "checkpointer": {},
        "http": {"cors": {}, "mount_prefix": "/api"}, "ui": {}, "auth": {"openapi": {}},
        "env": {}})
    with caplog.at_level(logging.WARNING, logger="hitlgraph.server"):
        _create(folder)
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("'dependencies', 'python_version', 'dockerfile_lines', 'store', "
                              "'checkpointer', 'http.mount_prefix', 'ui', 'auth.openapi' in ")
    assert "have no effect in hitlgraph serve" in warning


def test_unknown_keys_get_a_warning_of_their_own(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _app_folder(tmp_path, grpahs={}, hitlgraph={"api_key": {}})
    with caplog.at_level(logging.WARNING, logger="hitlgraph.server"):
        _create(folder)
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("'grpahs', 'hitlgraph.api_key' in ")
    assert "are unknown to hitlgraph serve and ignored: check the spelling" in warning


def test_a_config_of_what_hitlgraph_reads_logs_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _app_folder(tmp_path, env={"HG_TEST_FROM_OBJECT": "1"},
                         hitlgraph={"api_keys": {"team": "key"}}, auth=None)
    with caplog.at_level(logging.DEBUG, logger="hitlgraph.server"):
        _create(folder)
    assert caplog.records == []
