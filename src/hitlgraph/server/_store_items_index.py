"""The /store routes' similarity search: langgraph.json's "store.index", as LangGraph's server
reads it, made into the index the server's store is opened with.

    "store": {"index": {"embed": "openai:text-embedding-3-small", "dims": 1536,
                        "fields": ["$"]}}

"embed" is a LangChain "provider:model" name (LangChain's init_embeddings makes it, when
the store is opened), or, when it holds ".py:", "./file.py:attr" (relative to the config's
folder) naming a function from texts to vectors or an Embeddings object. Without an index a
search's `query` is ignored (the items come unscored, newest first), as on LangGraph's
server. On PostgreSQL the index needs the pgvector extension (see store.postgres).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hitlgraph.store.base import IndexConfig

__all__ = ["store_index"]


def store_index(section: Any, base_dir: Path, where: str) -> IndexConfig | None:
    """The index of langgraph.json's "store" section (None without one), its embed function
    loaded. `where` names the section in errors.

    Raises:
        ValueError: the section or its index is not as described above.
    """
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise ValueError(f"{where} must be an object, e.g. {{\"index\": {{...}}}}; got "
                         f"{section!r}.")
    raw = section.get("index")
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not set(raw) <= {"embed", "dims", "fields"}:
        raise ValueError(f"{where}.index must be an object of \"embed\", \"dims\" and "
                         f"\"fields\"; got {raw!r}.")
    dims, embed, fields = raw.get("dims"), raw.get("embed"), raw.get("fields")
    if isinstance(dims, bool) or not isinstance(dims, int) or dims <= 0:
        raise ValueError(f"{where}.index.dims must be a positive whole number (each "
                         f"vector's length); got {dims!r}.")
    if not isinstance(embed, str) or ":" not in embed:
        raise ValueError(f"{where}.index.embed must be \"provider:model\" or "
                         f"\"./file.py:attr\"; got {embed!r}.")
    if fields is not None and not (isinstance(fields, list)
                                   and all(isinstance(f, str) for f in fields)):
        raise ValueError(f"{where}.index.fields must be a list of paths; got {fields!r}.")
    loaded = _load(embed, base_dir, where) if ".py:" in embed else embed
    return {"dims": dims, "embed": loaded, "fields": fields}


def _load(spec: str, base_dir: Path, where: str) -> Any:
    """The object "./file.py:attr" names: a function or an Embeddings object."""
    file_name, _, attr = spec.rpartition(":")
    path = Path(file_name)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise ValueError(f"{where}.index.embed '{spec}' names the file '{path}', which does "
                         "not exist.")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"_hitlgraph_embed_{path.stem}_{digest}"
    module = sys.modules.get(name)
    if module is None:
        found = importlib.util.spec_from_file_location(name, path)
        if found is None or found.loader is None:
            raise ValueError(f"{where}.index.embed: cannot load '{path}' as a Python module.")
        module = importlib.util.module_from_spec(found)
        try:
            found.loader.exec_module(module)
        except Exception as exc:
            raise ValueError(f"{where}.index.embed: importing '{path}' failed: "
                             f"{type(exc).__name__}: {exc}") from exc
        sys.modules[name] = module
    value = getattr(module, attr, None)
    if value is None or not (callable(value) or hasattr(value, "embed_documents")):
        raise ValueError(f"{where}.index.embed '{spec}': '{path.name}' has no function or "
                         f"Embeddings object named '{attr}'.")
    return value
