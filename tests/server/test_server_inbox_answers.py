"""The inbox's answer forms and review buttons (issue 13), in headless Chromium: an interrupt
with a response_schema gets a form built from it, and the server's 422 shows each error beside
its field; a tool review gets buttons in each of the three request shapes (hitlgraph's own,
Agent Inbox's, LangChain's), and each answer makes the graph go on as it says (the tool ran
with the edited arguments, the reviewer's message reached the model, ...).

The browser, page and server fixtures are test_server_inbox.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import test_server_inbox as inbox
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient
from test_server_inbox import _interrupted, _item, _open, _values

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - depends on the machine
    pass

pytest.importorskip("pydantic")
pytest.importorskip("jsonschema")

# test_server_inbox.py's fixtures, used here under the same names.
browser = inbox.browser
page = inbox.page
inbox_config = inbox.inbox_config
server = inbox.server
client = inbox.client

SKIPPED = "The reviewer skipped this call to 'send_email'; it did not run."


def _field(item: Locator, path: str) -> Locator:
    return item.locator(f'.field[data-path="{path}"]')


def _last_words(client: SyncLangGraphClient, thread_id: str) -> str:
    """What the model said last: it repeats the tool's result (or the reviewer's text)."""
    content: str = _values(client, thread_id)["messages"][-1]["content"]
    return content


# ---- typed answers ---------------------------------------------------------------------------


def test_a_typed_form_shows_each_server_error_beside_its_field_then_resumes(
        page: Page, server: RunningServer, client: SyncLangGraphClient, tmp_path: Path) -> None:
    thread_id = _interrupted(client, "refund", {"order": "1042"})
    _open(page, server)
    item = _item(page, thread_id)
    expect(item).to_contain_text("Refund order 1042?")
    expect(item.get_by_label("Your answer")).to_have_count(0)  # a form, not the free box
    for path in ("approved", "amount", "contact.email"):
        expect(_field(item, path).locator(".required")).to_have_text(" *")
    for path in ("currency", "tags", "contact.phone", "extra"):
        expect(_field(item, path).locator(".required")).to_have_count(0)
    expect(item.get_by_role("group", name="Contact")).to_be_visible()  # nested: a fieldset
    expect(_field(item, "amount")).to_contain_text("in euros")
    assert item.get_by_label("Currency").evaluate("s => s.selectedOptions[0].text") == "EUR"
    expect(item.get_by_label("Extra")).to_have_value("{}")
    send = item.get_by_role("button", name="Send answer")

    item.get_by_label("Amount").fill("ten")  # caught before sending
    send.click()
    expect(_field(item, "amount").get_by_role("alert")).to_have_text("'ten' is not a number.")
    assert client.threads.get(thread_id)["status"] == "interrupted"

    item.get_by_label("Amount").fill("0")
    item.get_by_label("Email").fill("not-an-email")
    item.get_by_label("Tags").fill("vip\nlate")
    send.click()  # approved left out: the server names it
    expect(_field(item, "amount").get_by_role("alert")).to_have_text(
        "0 is less than the minimum of 1")
    expect(_field(item, "approved").get_by_role("alert")).to_have_text(
        "'approved' is a required property")
    expect(_field(item, "contact.email").get_by_role("alert")).to_contain_text(
        "'not-an-email' does not match")
    expect(_field(item, "tags").get_by_role("alert")).to_be_hidden()
    expect(item.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    expect(item.get_by_role("alert").filter(has_text="fix the fields marked below")
           ).to_be_visible()
    expect(item.get_by_label("Amount")).to_have_value("0")  # what was typed stays
    expect(item.get_by_label("Tags")).to_have_value("vip\nlate")
    assert client.threads.get(thread_id)["status"] == "interrupted"
    assert len(client.runs.list(thread_id)) == 1  # the refused answer queued no run
    shot = tmp_path / "typed.png"
    page.set_viewport_size({"width": 900, "height": 1400})
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    item.get_by_label("Approved").select_option(label="true")
    item.get_by_label("Amount").fill("30")
    item.get_by_label("Email").fill("ann@example.com")
    send.click()
    expect(item).to_have_count(0)
    assert _values(client, thread_id)["decision"] == {
        "approved": True, "amount": 30, "currency": "EUR", "tags": ["vip", "late"],
        "contact": {"email": "ann@example.com", "phone": None}, "extra": {}}


def test_a_schema_that_is_not_an_object_is_one_field(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = _interrupted(client, "count", {"label": "Seats for the dinner"})
    _open(page, server)
    item = _item(page, thread_id)
    expect(item).to_contain_text("How many seats?")
    field = item.get_by_label("Your answer")
    expect(item.locator(".field .hint")).to_have_text("Seats for the dinner")
    field.fill("0")
    item.get_by_role("button", name="Send answer").click()
    expect(item.locator(".field").get_by_role("alert")).to_have_text(
        "0 is less than the minimum of 1")
    field.fill("4")
    item.get_by_role("button", name="Send answer").click()
    expect(item).to_have_count(0)
    assert _values(client, thread_id)["count"] == 4


def test_schema_texts_and_field_errors_are_shown_as_text_never_as_markup(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    attack = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"
    counted = _interrupted(client, "count", {"label": attack})
    refund = _interrupted(client, "refund", {"order": attack})
    _open(page, server)
    expect(_item(page, counted).locator(".field .hint")).to_have_text(attack)
    item = _item(page, refund)
    expect(item).to_contain_text(f"Refund order {attack}?")
    item.get_by_label("Approved").select_option(label="false")
    item.get_by_label("Amount").fill("5")
    item.get_by_label("Email").fill(attack)
    item.get_by_role("button", name="Send answer").click()
    expect(_field(item, "contact.email").get_by_role("alert")).to_contain_text(
        f"'{attack}' does not match")
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("typeof window.pwned") == "undefined"


# ---- tool reviews in the three shapes --------------------------------------------------------


def _request(item: Locator) -> Locator:
    return item.get_by_role("group", name="Request: send_email")


def _edit(item: Locator, args: str, button: str = "Send edited arguments") -> None:
    _request(item).get_by_role("button", name="Edit").click()
    item.get_by_label("Arguments of send_email (JSON)").fill(args)
    item.get_by_role("button", name=button).click()


def test_hitlgraph_tool_reviews_get_buttons_and_answers_in_their_own_shape(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    start = {"messages": [{"role": "user", "content": "mail Ann"}]}
    edited, responded, ignored = (_interrupted(client, "own_review", start) for _ in range(3))
    _open(page, server)

    item = _item(page, edited)
    expect(item).to_contain_text("Send this email?")
    expect(_request(item).get_by_role("button")).to_have_text(
        ["Accept", "Edit", "Respond", "Ignore"])
    expect(item.get_by_label("Your answer")).to_have_count(0)  # no raw JSON box any more
    _edit(item, '{"to": "ann@example.org", "subject": "Hello"}')
    expect(item).to_have_count(0)
    assert _last_words(client, edited) == "The model read: sent to ann@example.org: Hello"

    item = _item(page, responded)
    _request(item).get_by_role("button", name="Respond").click()
    item.get_by_label("Response").fill("Ann is on leave; write to Bo.")
    item.get_by_role("button", name="Send response").click()
    expect(item).to_have_count(0)
    assert _last_words(client, responded) == "The model read: Ann is on leave; write to Bo."

    _request(_item(page, ignored)).get_by_role("button", name="Ignore").click()
    expect(_item(page, ignored)).to_have_count(0)
    assert _last_words(client, ignored) == f"The model read: {SKIPPED}"


def test_agent_inbox_tool_reviews_answer_with_human_responses_of_every_type(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    start = {"messages": [{"role": "user", "content": "mail Ann"}]}
    accepted, edited, responded, ignored = (
        _interrupted(client, "inbox_review", start) for _ in range(4))
    _open(page, server)

    _request(_item(page, accepted)).get_by_role("button", name="Accept").click()
    expect(_item(page, accepted)).to_have_count(0)
    assert _last_words(client, accepted) == "The model read: sent to ann@example.com: Hi"

    _edit(_item(page, edited), '{"to": "cy@example.com", "subject": "Hi"}')
    expect(_item(page, edited)).to_have_count(0)
    assert _last_words(client, edited) == "The model read: sent to cy@example.com: Hi"

    item = _item(page, responded)
    _request(item).get_by_role("button", name="Respond").click()
    item.get_by_label("Response").fill("Wait for the invoice.")
    item.get_by_role("button", name="Send response").click()
    expect(item).to_have_count(0)
    assert _last_words(client, responded) == "The model read: Wait for the invoice."

    _request(_item(page, ignored)).get_by_role("button", name="Ignore").click()
    expect(_item(page, ignored)).to_have_count(0)
    assert _last_words(client, ignored) == f"The model read: {SKIPPED}"


def test_langchain_reviews_answer_with_decisions(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    start = {"messages": [{"role": "user", "content": "mail Ann"}]}
    approved, edited, rejected, skipped = (
        _interrupted(client, "langchain_review", start) for _ in range(4))
    _open(page, server)

    item = _item(page, approved)
    expect(_request(item).get_by_role("button")).to_have_text(
        ["Approve", "Edit", "Respond", "Reject"])
    _request(item).get_by_role("button", name="Approve").click()
    expect(item).to_have_count(0)
    assert _last_words(client, approved) == "The model read: sent to ann@example.com: Hi"

    _edit(_item(page, edited), '{"to": "ann@example.com", "subject": "Edited"}')
    expect(_item(page, edited)).to_have_count(0)
    assert _last_words(client, edited) == "The model read: sent to ann@example.com: Edited"

    item = _item(page, rejected)
    _request(item).get_by_role("button", name="Reject").click()
    item.get_by_label("Message to the model (optional)").fill("Do not email customers today.")
    item.get_by_role("button", name="Send rejection").click()
    expect(item).to_have_count(0)
    assert _last_words(client, rejected) == "The model read: Do not email customers today."

    item = _item(page, skipped)
    _request(item).get_by_role("button", name="Reject").click()
    item.get_by_role("button", name="Send rejection").click()  # no message: skipped
    expect(item).to_have_count(0)
    assert _last_words(client, skipped) == f"The model read: {SKIPPED}"


def test_a_langchain_batch_is_answered_with_one_decision_per_request_in_order(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = _interrupted(client, "batch", {})
    _open(page, server)
    item = _item(page, thread_id)
    search = item.get_by_role("group", name="Request: search")
    delete = item.get_by_role("group", name="Request: delete_file")
    email = item.get_by_role("group", name="Request: send_email")
    expect(search.get_by_role("button")).to_have_text(["Approve", "Reject"])
    expect(email.get_by_role("button")).to_have_text(["Approve", "Edit", "Respond"])
    send = item.get_by_role("button", name="Send 3 answers")

    email.get_by_role("button", name="Respond").click()
    email.get_by_label("Response").fill("Bo left the company.")
    email.get_by_role("button", name="Use response").click()
    expect(email.get_by_role("status")).to_have_text("Your answer: respond “Bo left the company.”")
    search.get_by_role("button", name="Reject").click()
    search.get_by_role("button", name="Use rejection").click()
    expect(send).to_be_disabled()
    delete.get_by_role("button", name="Approve").click()
    expect(send).to_be_enabled()
    send.click()

    expect(item).to_have_count(0)
    decisions: Any = _values(client, thread_id)["decisions"]
    assert decisions == [{"type": "reject"}, {"type": "approve"},
                         {"type": "respond", "message": "Bo left the company."}]
