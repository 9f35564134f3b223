"""Typed answers at the server's door: a resume whose answer does not match the
response_schema of the interrupt it answers is refused with 422 when the run is created, so no
run is queued and nothing is written (the library would refuse it too, but only once a worker
ran it, as a failed run). LangGraph's server has no such check.

Which interrupt an answer goes to is the library's rule (`answers_by_id`): a map of interrupt
ids answers each id it names; any other value answers the thread's only open interrupt. A
resume the rule cannot place (an id nothing waits for, one value for several interrupts) is
left for the run to refuse, with the library's own message.
"""

from __future__ import annotations

from typing import Any

from hitlgraph.pregel._open import answers_by_id
from hitlgraph.review._answers import answer_errors
from hitlgraph.server._errors import describe_errors

__all__ = ["answer_refusal"]

Asked = dict[str, list[dict[str, Any]]]
"""A thread's open interrupts as its row holds them: {task_id: [{"id", "value",
"response_schema"?}, ...]}."""


def _answered(asked: Asked, resume: Any) -> list[tuple[str, dict[str, Any], Any, list[Any]]]:
    """(interrupt id, its schema, the answer, where the answer is in the body) for each
    answered interrupt that has a schema."""
    ids = list(dict.fromkeys(i["id"] for listed in asked.values() for i in listed))
    schemas: dict[str, dict[str, Any]] = {
        i["id"]: i["response_schema"] for listed in asked.values() for i in listed
        if i.get("response_schema") is not None}
    if answers_by_id(resume):
        return [(iid, schemas[iid], answer, ["command", "resume", iid])
                for iid, answer in resume.items() if iid in schemas]
    if len(ids) == 1 and ids[0] in schemas:
        return [(ids[0], schemas[ids[0]], resume, ["command", "resume"])]
    return []


def answer_refusal(thread_id: str, asked: Asked, resume: Any) -> str | None:
    """The 422 detail for `resume` on a thread waiting on `asked`, naming each field at fault
    (as a body FastAPI could not validate); None when the answers match their schemas."""
    errors: list[dict[str, Any]] = []
    refused: list[str] = []
    for iid, schema, answer, at in _answered(asked, resume):
        found = answer_errors(schema, answer)
        if found:
            refused.append(f"'{iid}'")
            errors += [{"loc": [*at, *e["loc"]], "msg": e["msg"]} for e in found]
    if not errors:
        return None
    return (f"{describe_errors(errors)}. The answer does not match the response_schema of "
            f"interrupt {', '.join(refused)}; nothing ran and the thread still waits. Read "
            f"the schema in GET /threads/{thread_id}/state (interrupts) and answer again.")
