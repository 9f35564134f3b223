"""What a run's caller asked to see: `output_keys`, and the keywords invoke()/stream() take.

LangGraph's `output_keys` narrows the chunks of "values" and "updates" (and what invoke returns)
to some state keys: given as one str, chunks carry that key's bare value; given as a list, dicts
of those keys. "values" chunks come only after steps that wrote one of the keys (the engine
checks that through its stream keys); "updates" chunks keep every node, with None for a node
that wrote none of them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from hitlgraph.constants import INTERRUPT
from hitlgraph.graph._schema import update_pairs

__all__ = ["SKIP", "UNIMPLEMENTED_KEYWORDS", "Collected", "OutputKeys", "View", "check_keywords"]

SKIP: Final = object()
"""Returned for a chunk the caller does not see."""


class Chunk(Protocol):
    """A chunk as the engine emits it."""

    @property
    def mode(self) -> str: ...
    @property
    def chunk(self) -> Any: ...
    @property
    def ns(self) -> tuple[str, ...]: ...

UNIMPLEMENTED_KEYWORDS = frozenset({"checkpoint_during", "control", "print_mode", "version"})
"""Keywords LangGraph's invoke() and stream() take that hitlgraph accepts and does not act on
yet (as `debug`, and `subgraphs` given to invoke()): a LangGraph program passing them runs."""


def check_keywords(method: str, given: Collection[str], also: Collection[str] = ()) -> None:
    """Refuse keywords LangGraph's `method` does not know either (it would ignore them).

    Raises:
        TypeError: naming each unknown keyword.
    """
    if not given:
        return
    unknown = sorted(k for k in given if k not in UNIMPLEMENTED_KEYWORDS and k not in also)
    if unknown:
        names = ", ".join(f"'{k}'" for k in unknown)
        raise TypeError(
            f"{method}() got unexpected keyword argument(s) {names}. LangGraph ignores unknown "
            "keywords; hitlgraph refuses them so that a misspelt option is not silently lost. "
            "Check the spelling, or remove them."
        )


@dataclass(frozen=True, slots=True)
class OutputKeys:
    """A caller's `output_keys`, checked against the graph's channels."""

    keys: tuple[str, ...]
    single: bool
    """Given as one str: chunks carry the key's value instead of a dict."""

    @classmethod
    def parse(cls, given: str | Sequence[str], channels: Collection[str]) -> OutputKeys:
        """Raises ValueError naming a key the state does not have."""
        keys = (given,) if isinstance(given, str) else tuple(given)
        unknown = [k for k in keys if k not in channels]
        if unknown:
            raise ValueError(
                f"output_keys names {unknown}, which the state does not have; its keys are "
                f"{sorted(channels)}."
            )
        return cls(keys, isinstance(given, str))

    def narrow(self, mode: str, chunk: Any, nodes: Collection[str]) -> Any:
        """A chunk of the graph's own (not a subgraph's) as the caller sees it, or SKIP."""
        if mode == "values":
            return self._values(chunk)
        if mode == "updates":
            return {name: self._update(value) if name in nodes else value
                    for name, value in chunk.items()}
        return chunk

    def _values(self, chunk: dict[str, Any]) -> Any:
        # The engine kept only these keys (all of the state's when there are none).
        if INTERRUPT in chunk and (self.single or not self.keys):
            return {INTERRUPT: chunk[INTERRUPT]}
        if not self.keys:
            return SKIP  # no step can write one of no keys
        return chunk.get(self.keys[0]) if self.single else chunk

    def _update(self, update: Any) -> Any:
        pairs = (list(update.items()) if isinstance(update, Mapping)
                 else update_pairs(None, update) or [])
        if self.single:
            return next((v for k, v in pairs if k == self.keys[0]), None)
        kept = {k: v for k, v in pairs if k in self.keys}
        return kept or None



@dataclass(slots=True)
class View:
    """How one call shows the chunks of its run."""

    single: bool
    """One stream mode was asked for: bare chunks, not (mode, chunk) pairs."""
    subgraphs: bool
    """Chunks carry the namespace of the (sub)graph that made them."""
    out: OutputKeys | None
    nodes: frozenset[str]

    def show(self, effect: Chunk) -> Any:
        """The chunk as the caller receives it, or SKIP."""
        chunk = effect.chunk
        if self.out is not None and not effect.ns:
            chunk = self.out.narrow(effect.mode, chunk, self.nodes)
            if chunk is SKIP:
                return SKIP
        if self.subgraphs:
            return (effect.ns, chunk) if self.single else (effect.ns, effect.mode, chunk)
        return chunk if self.single else (effect.mode, chunk)


@dataclass(slots=True)
class Collected:
    """What invoke() gathers from its run: the chunks of a stream_mode other than "values", or
    with output_keys the last "values" chunk."""

    view: View
    chunks: list[Any] = field(default_factory=list)

    def add(self, effect: Chunk) -> None:
        chunk = self.view.show(effect)
        if chunk is not SKIP:
            self.chunks.append(chunk)

    def values(self, interrupts: Sequence[Any]) -> Any:
        """invoke()'s result in "values" mode with output_keys, as LangGraph builds it."""
        latest = self.chunks[-1] if self.chunks else None
        if not interrupts:
            return latest
        if isinstance(latest, dict):
            return {**latest, INTERRUPT: list(interrupts)}
        return {INTERRUPT: list(interrupts)}
