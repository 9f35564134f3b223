"""Every channel is importable from the paths LangGraph 1.2 gives it (the package and its
modules), and EmptyChannelError from hitlgraph.errors and the channel base module."""

from __future__ import annotations

import importlib

import pytest

PATHS = {
    "hitlgraph.channels": [
        "AnyValue", "BaseChannel", "BinaryOperatorAggregate", "EphemeralValue", "LastValue",
        "LastValueAfterFinish", "NamedBarrierValue", "NamedBarrierValueAfterFinish", "Topic",
        "UntrackedValue",
    ],
    "hitlgraph.channels.base": ["BaseChannel", "EmptyChannelError"],
    "hitlgraph.channels.any_value": ["AnyValue"],
    "hitlgraph.channels.binop": ["BinaryOperatorAggregate"],
    "hitlgraph.channels.ephemeral_value": ["EphemeralValue"],
    "hitlgraph.channels.last_value": ["LastValue", "LastValueAfterFinish"],
    "hitlgraph.channels.named_barrier_value": ["NamedBarrierValue",
                                               "NamedBarrierValueAfterFinish"],
    "hitlgraph.channels.topic": ["Topic"],
    "hitlgraph.channels.untracked_value": ["UntrackedValue"],
    "hitlgraph.errors": ["EmptyChannelError", "InvalidUpdateError"],
}


@pytest.mark.parametrize(("module", "name"),
                         [(m, n) for m, names in PATHS.items() for n in names])
def test_channel_names_import_from_langgraphs_paths(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


def test_empty_channel_error_is_one_class_everywhere() -> None:
    from hitlgraph.channels.base import EmptyChannelError as from_base
    from hitlgraph.errors import EmptyChannelError

    assert from_base is EmptyChannelError and issubclass(EmptyChannelError, Exception)
