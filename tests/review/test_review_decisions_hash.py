"""The decision log's hash chain is stored: a row's hash must stay sha256 over the previous
hash and the row's canonical JSON exactly as json writes it, whatever the text holds."""

from __future__ import annotations

import hashlib
import json

import pytest

from hitlgraph.checkpoint._decisions import ChainCheck, NewDecision, chain

_AWKWARD = ["", "plain", 'quote " and \\ backslash', "line\nbreak\ttab", "\u00e9\u2028\x00",
            "\ud800", '{"a":[1,2.5,null]}']


def _reference(prev: str, seq: int, row: NewDecision) -> str:
    """The chain's rule, written out with json.dumps (the format logs already hold)."""
    text = json.dumps([seq, *row], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev}\n{text}".encode()).hexdigest()


@pytest.mark.parametrize("text", _AWKWARD)
def test_each_hash_is_the_one_json_text_gives(text: str) -> None:
    rows = [NewDecision("t", text, "iid", None, text, text, None, "2026-12-07T09:00:00Z",
                        "approved"),
            NewDecision(text, "", text, "node", "null", None, text, text, "rejected")]
    if text == "\ud800":  # (a lone surrogate cannot be encoded as UTF-8: the log refuses it)
        with pytest.raises(UnicodeEncodeError):
            chain((0, ""), rows)
        return
    chained = chain((41, "ab" * 32), rows)
    prev = "ab" * 32
    for seq, found in zip((42, 43), chained, strict=True):
        assert found.seq == seq
        assert found.hash == _reference(prev, seq, found.row)
        prev = found.hash


def test_a_chain_checks_as_whole_and_a_changed_row_breaks_it() -> None:
    rows = [NewDecision("t", "", f"i{n}", "ask", str(n), "ann", None, "at", "approved")
            for n in range(3)]
    chained = chain((0, ""), rows)
    assert ChainCheck().feed(chained) is None
    changed = [chained[0], chained[1]._replace(row=rows[1]._replace(answer="7")), chained[2]]
    broken = ChainCheck().feed(changed)
    assert broken is not None and (broken.seq, broken.problem) == (2, "changed")
