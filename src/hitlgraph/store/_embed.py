"""Similarity search's parts: calling the user's embedding function, picking the texts of a
value to embed, and cosine similarity.

`embed` may be a plain function (sync or async) from texts to vectors, an object with
embed_documents/embed_query (LangChain's Embeddings; aembed_* used when present), or a
"provider:model" string that LangChain's init_embeddings turns into one.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from hitlgraph.store._types import IndexConfig, PutOp

__all__ = ["Embedder", "cosine", "rank", "texts_to_embed"]


class Embedder:
    """One interface over the accepted kinds of `embed`, checking each vector's length."""

    def __init__(self, index: IndexConfig) -> None:
        embed = index.get("embed")
        if isinstance(embed, str):
            embed = _from_provider(embed)
        if embed is None:
            raise ValueError("index needs 'embed': a function from texts to vectors, or an "
                             "object with embed_documents and embed_query.")
        self.dims = index.get("dims")
        self._embed = embed
        self._is_async = _is_async(embed)
        self.fields: list[str] = list(index.get("fields") or ["$"])

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts`, from a sync caller."""
        target = self._embed
        if hasattr(target, "embed_documents"):
            return self._checked(target.embed_documents(texts), texts)
        if self._is_async:
            raise TypeError("This store's embed function is async: call the store's async "
                            "methods (aput, asearch, abatch), or pass a sync function.")
        return self._checked(target(texts), texts)

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts`, from an async caller (a sync function runs in a thread)."""
        target = self._embed
        if hasattr(target, "aembed_documents"):
            return self._checked(await target.aembed_documents(texts), texts)
        if hasattr(target, "embed_documents"):
            found = await asyncio.to_thread(target.embed_documents, texts)
        elif self._is_async:
            found = await target(texts)
        else:
            found = await asyncio.to_thread(target, texts)
        return self._checked(found, texts)

    def embed_query(self, text: str) -> list[float]:
        """The vector of a search query (an Embeddings object's embed_query when it has one)."""
        target = self._embed
        if hasattr(target, "embed_query"):
            return self._checked([target.embed_query(text)], [text])[0]
        return self.embed([text])[0]

    async def aembed_query(self, text: str) -> list[float]:
        """The vector of a search query, from an async caller."""
        target = self._embed
        if hasattr(target, "aembed_query"):
            return self._checked([await target.aembed_query(text)], [text])[0]
        if hasattr(target, "embed_query"):
            return self._checked([await asyncio.to_thread(target.embed_query, text)],
                                 [text])[0]
        return (await self.aembed([text]))[0]

    def _checked(self, found: Sequence[Sequence[float]], texts: list[str]
                 ) -> list[list[float]]:
        vectors = [list(map(float, v)) for v in found]
        if len(vectors) != len(texts):
            raise ValueError(f"The embed function returned {len(vectors)} vectors for "
                             f"{len(texts)} texts; it must return one per text.")
        wrong = next((len(v) for v in vectors if self.dims and len(v) != self.dims), None)
        if wrong is not None:
            raise ValueError(f"The embed function returned a vector of {wrong} numbers; "
                             f"the index says dims={self.dims}.")
        return vectors


def _is_async(embed: Any) -> bool:
    call = getattr(embed, "__call__", None)  # noqa: B004 - an async __call__ counts too
    return inspect.iscoroutinefunction(embed) or inspect.iscoroutinefunction(call)


def _from_provider(name: str) -> Any:
    try:
        from langchain.embeddings import init_embeddings  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise ValueError(
            f"index embed='{name}' names a provider model, which needs LangChain: "
            "pip install 'langchain>=0.3.9' and the provider's package, or pass a "
            "function from texts to vectors instead.") from None
    return init_embeddings(name)


_TOKEN = re.compile(r"\[(-?\d+|\*)\]|([^.\[\]]+)")


def _texts_at(value: Any, path: str) -> list[str]:
    """The texts at `path` ("a.b", "a[0]", "a[-1]", "a[*].b"; "$" for the whole value)."""
    if path == "$":
        return [json.dumps(value, sort_keys=True, ensure_ascii=False)]
    found = [value]
    for index, name in _TOKEN.findall(path):
        step: list[Any] = []
        for node in found:
            if name:
                if isinstance(node, Mapping) and name in node:
                    step.append(node[name])
            elif isinstance(node, list):
                if index == "*":
                    step.extend(node)
                elif -len(node) <= int(index) < len(node):
                    step.append(node[int(index)])
        found = step
    return [_as_text(node) for node in found if node is not None]


def _as_text(node: Any) -> str:
    if isinstance(node, (dict, list)):
        return json.dumps(node, sort_keys=True, ensure_ascii=False)
    return str(node)


def texts_to_embed(op: PutOp, fields: list[str]) -> list[tuple[str, str]]:
    """(field name, text) pairs a put asks to embed: several texts at one path are named
    "path.0", "path.1", ..., as in LangGraph."""
    if op.value is None or op.index is False:
        return []
    out: list[tuple[str, str]] = []
    for path in fields if op.index is None else op.index:
        texts = _texts_at(dict(op.value), path)
        if len(texts) == 1:
            out.append((path, texts[0]))
        else:
            out.extend((f"{path}.{i}", text) for i, text in enumerate(texts))
    return out


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity, 0.0 when either vector is all zeros."""
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=False)) / norm if norm else 0.0


def rank(candidates: Sequence[tuple[Any, Sequence[Sequence[float]]]], query: Sequence[float]
         ) -> list[tuple[float | None, Any]]:
    """Candidates (anything, with its vectors) best first by their best-matching vector;
    those without vectors follow, unscored, in their given order."""
    scored = [(max(cosine(query, v) for v in vectors), thing)
              for thing, vectors in candidates if vectors]
    scored.sort(key=lambda pair: pair[0], reverse=True)
    unscored: list[tuple[float | None, Any]] = [
        (None, thing) for thing, vectors in candidates if not vectors]
    return [*scored, *unscored]
