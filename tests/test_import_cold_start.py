"""Cold start: importing hitlgraph loads only what the caller uses, and a process that only
opened a saver still decodes every hitlgraph type its checkpoints hold.

Each check runs in a fresh interpreter (a subprocess): in this one, other tests have imported
everything already."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypedDict

from _fresh_process import ONE_QUESTION
from hitlgraph.channels._overwrite import Overwrite
from hitlgraph.checkpoint.serde import MsgpackSerializer
from hitlgraph.checkpoint.serde._own import OWN_TYPE_MODULES
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import StateGraph
from hitlgraph.messages import AIMessage, HumanMessage
from hitlgraph.prebuilt._review import Accept, ToolReviewRequest
from hitlgraph.review._approvals import Approval
from hitlgraph.types import interrupt


def _run(script: str) -> Any:
    """Run `script` in a fresh interpreter; it prints one JSON value, returned here."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class _Chat(TypedDict, total=False):
    messages: list[Any]
    reply: str


def _ask(state: _Chat) -> _Chat:
    return {"reply": interrupt("reply?")}


def _write_chat(path: Path) -> None:
    graph = StateGraph(_Chat)
    graph.add_node("ask", _ask)
    graph.set_entry_point("ask")
    with SqliteSaver.from_conn_string(str(path)) as saver:
        app = graph.compile(checkpointer=saver)
        chat = [HumanMessage("hi", id="h1"), AIMessage("hello", id="a1")]
        app.invoke({"messages": chat}, {"configurable": {"thread_id": "t"}})


def test_a_process_that_only_opened_the_saver_reads_hitlgraph_messages(tmp_path: Path) -> None:
    path = tmp_path / "chat.sqlite"
    _write_chat(path)
    seen = _run(f"""
        import json, sys
        from hitlgraph.checkpoint.sqlite import SqliteSaver
        before = "hitlgraph.messages" in sys.modules
        with SqliteSaver.from_conn_string({str(path)!r}) as saver:
            values = saver.get_tuple({{"configurable": {{"thread_id": "t"}}}}).checkpoint
        messages = values["channel_values"]["messages"]
        print(json.dumps([before, [(type(m).__module__, type(m).__name__, m.content)
                                   for m in messages]]))
        """)
    assert seen == [False, [["hitlgraph.messages._types", "HumanMessage", "hi"],
                            ["hitlgraph.messages._types", "AIMessage", "hello"]]]


def test_every_own_type_decodes_in_a_process_that_imported_only_the_serializer() -> None:
    at = datetime(2026, 1, 2, tzinfo=timezone.utc)
    values = [HumanMessage("hi", id="h1"), Accept(), Overwrite([1]),
              Approval(by="ann", answer="yes", at=at),
              ToolReviewRequest(tool="t", args={}, id="c1", description="run t?",
                                allowed=frozenset({"accept"}))]
    tag, data = MsgpackSerializer().dumps_typed(values)
    seen = _run(f"""
        import json
        from hitlgraph.checkpoint.serde import MsgpackSerializer
        values = MsgpackSerializer().loads_typed(({tag!r}, {data!r}))
        print(json.dumps([repr(v) for v in values]))
        """)
    assert seen == [repr(v) for v in values]


def test_each_table_entry_registers_names_under_its_prefix() -> None:
    # Guards the table against a module that moved or stopped registering: importing the
    # module an entry names must make some name under the entry's prefix known.
    missing = _run(f"""
        import importlib, json
        from hitlgraph.checkpoint.serde._registry import DEFAULT_REGISTRY
        missing = []
        for prefix, module in {list(OWN_TYPE_MODULES)!r}:
            importlib.import_module(module)
            if not any(n.startswith(prefix) for n in DEFAULT_REGISTRY._by_name):
                missing.append(prefix)
        print(json.dumps(missing))
        """)
    assert missing == []


def test_a_stored_name_never_imports_a_module_of_its_own() -> None:
    # A name outside the table, and a name under an entry's prefix that nothing registers,
    # are unknown types: the first imports nothing, the second only the entry's module.
    seen = _run("""
        import json, sys
        import ormsgpack
        from hitlgraph.checkpoint.serde import MsgpackSerializer, UnknownTypeError
        from hitlgraph.checkpoint.serde._codec import EXT_OBJECT
        out = []
        for name in ("http.server.HTTPServer", "hitlgraph.messages.Nope", "xml.dom.Node"):
            data = ormsgpack.packb(ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb([name, {}])))
            try:
                MsgpackSerializer().loads_typed(("msgpack", data))
            except UnknownTypeError:
                out.append(name.rpartition(".")[0] in sys.modules)
        print(json.dumps(out))
        """)
    assert seen == [False, True, False]


LISTED = "import hitlgraph.graph, hitlgraph.types, hitlgraph.checkpoint.sqlite"
HEAVY = ("hitlgraph.server", "hitlgraph.pregel", "hitlgraph.cli", "fastapi", "uvicorn",
         "starlette", "psycopg", "rich", "click", "pydantic", "langchain_core")


def test_the_listed_imports_do_not_load_the_server_the_engine_or_optional_backends() -> None:
    loaded = _run(f"""
        import json, sys
        {LISTED}
        print(json.dumps(sorted({{m.partition(".")[0] if not m.startswith("hitlgraph.") else
                                 ".".join(m.split(".")[:2]) for m in sys.modules}})))
        """)
    assert [m for m in HEAVY if m in loaded] == []


def _loaded_after(imports: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` (modules) a fresh interpreter holds after running `imports`."""
    return list(_run(f"""
        import json, sys
        {imports}
        print(json.dumps([m for m in {list(names)!r} if m in sys.modules]))
        """))


def test_import_types_loads_no_serializer_cache_or_randomness() -> None:
    # The default cache key, a retry's jitter and the cache classes load these on first use.
    names = ("hitlgraph.checkpoint", "hitlgraph.cache.base", "ormsgpack", "pickle", "hashlib",
             "random", "zoneinfo", "asyncio")
    assert _loaded_after("import hitlgraph.types", names) == []


def test_the_listed_imports_load_no_pickle_time_zone_database_or_openssl() -> None:
    # zoneinfo is imported when a stored time zone is decoded, pickle when a caller opted in,
    # hashlib (OpenSSL) at a saver's first decision row; ids use the built-in blake2.
    names = ("pickle", "zoneinfo", "sysconfig", "asyncio", "hashlib", "_hashlib")
    assert _loaded_after(LISTED, names) == []


def test_import_hitlgraph_alone_loads_no_subpackage() -> None:
    loaded = _run("""
        import json, sys
        import hitlgraph
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("hitlgraph"))))
        """)
    assert loaded == ["hitlgraph", "hitlgraph._lazy"]


def test_the_command_lines_help_loads_no_rich_saver_or_engine() -> None:
    loaded = _run("""
        import contextlib, io, json, sys
        from hitlgraph.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
            main(["--help"])
        assert "threads" in out.getvalue()
        print(json.dumps(sorted(m for m in sys.modules if m.partition(".")[0] in {
            "rich", "ormsgpack", "sqlite3", "asyncio"} or m.startswith(
            ("hitlgraph.pregel", "hitlgraph.graph", "hitlgraph.checkpoint.sqlite")))))
        """)
    assert loaded == []


def test_the_command_line_without_rich_says_how_to_install_it() -> None:
    said = _run("""
        import json, sys
        sys.modules["rich"] = None
        try:
            import hitlgraph.cli
        except ImportError as exc:
            print(json.dumps(str(exc)))
        """)
    assert "needs click and rich" in said and "No module named 'rich'" in said


def _registered_names() -> list[tuple[str, str]]:
    """(module, name or f-string's leading text) of every register call in hitlgraph that
    passes a literal name, outside the registry module (whose types are registered at once)."""
    import ast

    import hitlgraph

    root = Path(hitlgraph.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "_registry.py":
            continue
        parts = ("hitlgraph", *path.relative_to(root).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and len(node.args) >= 2):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            name = node.args[1]
            if called not in {"register_type", "register"}:
                continue
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((module, name.value))
            elif isinstance(name, ast.JoinedStr) and isinstance(name.values[0], ast.Constant):
                found.append((module, str(name.values[0].value)))
    return found


def test_the_table_sends_every_name_hitlgraph_registers_to_its_module() -> None:
    # A new register_type(...) call in a module the table does not name would leave its type
    # unreadable in a process that did not import that module.
    names = _registered_names()
    assert len(names) >= 4, names
    for module, name in names:
        entry = [m for prefix, m in OWN_TYPE_MODULES if name.startswith(prefix)][:1]
        assert entry == [module], f"{name!r} is registered by {module}, the table says {entry}"


def test_a_synchronous_run_loads_neither_asyncio_nor_opentelemetry() -> None:
    # The async driver, async nodes and @task threads import them when used; the tracer is
    # looked up only once the application loaded opentelemetry.
    loaded = _run("import json, sys\n"
                  "from hitlgraph.checkpoint.memory import InMemorySaver\n"
                  + ONE_QUESTION + textwrap.dedent("""
        app = builder.compile(checkpointer=InMemorySaver())
        paused = app.invoke({}, {"configurable": {"thread_id": "t"}})
        assert "__interrupt__" in paused, paused
        print(json.dumps([m for m in ("asyncio", "concurrent.futures", "opentelemetry",
                                      "typing_extensions") if m in sys.modules]))
        """))
    assert loaded == []
