"""The Command the CLI sends for the answers typed at its prompt."""

from __future__ import annotations

from hitlgraph.cli._session import answers_command


def test_one_answer_to_one_waiting_question_is_a_plain_resume() -> None:
    assert answers_command({"i1": "yes"}, waiting=1).resume == "yes"


def test_an_answer_of_none_is_given_by_id_so_it_answers_the_question() -> None:
    assert answers_command({"i1": None}, waiting=1).resume == {"i1": None}


def test_answers_to_some_of_several_questions_are_given_by_id() -> None:
    assert answers_command({"i1": 1}, waiting=2).resume == {"i1": 1}
