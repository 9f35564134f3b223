"""The inbox with several reviewers (issue 14), in headless Chromium: each signs in with their
own API key (a user of one tenant), or with a token an auth callable reads; a question that
needs two approvals stays open after the first, shows who gave it, and goes once a second
reviewer answers; a reviewer claims a question (another one cannot), releases and reassigns
it.

The browser, page and server fixtures are test_server_inbox.py's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import test_server_inbox as inbox
from _harness import RunningServer
from starlette.requests import Request
from test_server_inbox import _answer, _interrupted, _item, _open, _row, _values

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # pragma: no cover - depends on the machine
    pass

# test_server_inbox.py's fixtures, used here under the same names.
browser = inbox.browser
page = inbox.page
inbox_config = inbox.inbox_config

ALICE, BOB = "key-of-alice", "key-of-bob"
KEYS = {"acme/alice": ALICE, "acme/bob": BOB}


def _sign_in(page: Page, server: RunningServer, key: str) -> None:
    _open(page, server)
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Use this key").click()
    expect(page.get_by_role("textbox", name="API key")).to_be_hidden()


def test_a_two_of_two_approval_needs_two_reviewers(
        page: Page, browser: Browser, start_server: Callable[..., RunningServer],
        inbox_config: Path) -> None:
    server = start_server(config=inbox_config, api_keys=KEYS)
    client = server.client(api_key=ALICE)
    thread_id = _interrupted(client, "release", {"version": "1.4"})

    _sign_in(page, server, ALICE)
    item = _item(page, thread_id)
    expect(item).to_contain_text("Ship release 1.4?")
    expect(item.locator('[data-fact="approvals"]')).to_have_text("0 of 2")
    _answer(item, '{"approved": true}')
    expect(page.locator("#said")).to_contain_text(f"Thread {thread_id} asks again")
    log = item.get_by_role("region", name="Decision log").locator("li")
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("by alice")
    expect(item.locator('[data-fact="approvals"]')).to_have_text("1 of 2 (alice)")
    assert client.threads.get(thread_id)["status"] == "interrupted"  # one of two so far

    _answer(item, '{"approved": true}')  # alice again: refused, still open
    expect(page.locator("#notice")).to_contain_text(f"Thread {thread_id} was not resumed")
    expect(page.locator("#notice")).to_contain_text("alice")
    expect(_row(page, thread_id)).to_be_visible()

    second = browser.new_context()
    try:
        bob = second.new_page()
        _sign_in(bob, server, BOB)
        bob_item = _item(bob, thread_id)
        expect(bob_item.get_by_role("region", name="Decision log")).to_contain_text("by alice")
        expect(bob_item.locator('[data-fact="approvals"]')).to_have_text("1 of 2 (alice)")
        _answer(bob_item, '{"approved": false}')
        expect(bob_item).to_have_count(0)
        expect(bob.locator("#said")).to_contain_text(f"Thread {thread_id} is finished")
    finally:
        second.close()
    assert _values(client, thread_id)["approved_by"] == ["alice:True", "bob:False"]
    page.get_by_role("button", name="Refresh").click()
    expect(_row(page, thread_id)).to_have_count(0)


def test_approvals_so_far_come_from_the_index_and_their_times_from_the_log(
        page: Page, start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    """The count and the names are the index record's (approvals_given): they show even when
    the decision log cannot be read; with the log, each name says when it approved."""
    server = start_server(config=inbox_config, api_keys=KEYS)
    client = server.client(api_key=ALICE)
    thread_id = _interrupted(client, "release", {"version": "2.0"})
    result = client.runs.wait(thread_id, "release", command={"resume": {"approved": True}})
    assert isinstance(result, dict) and result["__interrupt__"], result  # one of two

    page.route("**/decisions?*", lambda route: route.abort())
    _sign_in(page, server, ALICE)
    item = _item(page, thread_id)
    expect(item.get_by_role("region", name="Decision log")).to_contain_text("Could not load")
    expect(item.locator('[data-fact="approvals"]')).to_have_text("1 of 2 (alice)")
    expect(item.locator('[data-fact="approvals"] .approver')).not_to_have_attribute(
        "title", re.compile("."))

    page.unroute("**/decisions?*")
    page.reload()
    item = _item(page, thread_id)
    expect(item.get_by_role("region", name="Decision log")).to_contain_text("by alice")
    expect(item.locator('[data-fact="approvals"]')).to_have_text("1 of 2 (alice)")
    expect(item.locator('[data-fact="approvals"] .approver')).to_have_attribute(
        "title", re.compile(r"^approved \S"))

def test_a_reviewer_claims_a_question_edits_and_approves_it_and_another_cannot_claim_it(
        page: Page, browser: Browser, start_server: Callable[..., RunningServer],
        inbox_config: Path) -> None:
    server = start_server(config=inbox_config, api_keys=KEYS)
    client = server.client(api_key=ALICE)
    thread_id = _interrupted(client, "email", {"to": "ann@example.com", "subject": "Hi",
                                               "allow": ["accept", "edit"]})
    _sign_in(page, server, ALICE)
    item = _item(page, thread_id)
    item.get_by_role("button", name="Claim").click()
    expect(page.locator("#said")).to_contain_text(f"Claimed: thread {thread_id} is with alice")
    expect(item.locator('[data-fact="assignee"]')).to_have_text("alice")
    expect(_row(page, thread_id)).to_contain_text("@alice")
    expect(item.get_by_role("region", name="Decision log")).to_contain_text("claimed by alice")

    second = browser.new_context()
    try:
        bob = second.new_page()
        _sign_in(bob, server, BOB)
        bob_item = _item(bob, thread_id)
        expect(bob_item.locator('[data-fact="assignee"]')).to_have_text("alice")
        bob_item.get_by_role("button", name="Claim").click()
        expect(bob_item.get_by_role("alert")).to_contain_text(
            "Could not claim it: Cannot claim interrupt")
        expect(bob_item.get_by_role("alert")).to_contain_text("'alice' holds it")
    finally:
        second.close()

    item.get_by_role("button", name="Edit").click()
    item.get_by_label("Arguments of send_email (JSON)").fill(
        '{"to": "ann@example.org", "subject": "Hi, edited"}')
    item.get_by_role("button", name="Send edited arguments").click()
    expect(item).to_have_count(0)
    assert _values(client, thread_id)["outcome"] == {
        "decision": "edit", "sent": {"to": "ann@example.org", "subject": "Hi, edited"}}
    logged = [(d["outcome"], d["by"]) for d in client.http.get(
        f"/threads/{thread_id}/decisions")]
    assert logged == [("answered", "alice"), ("claimed", "alice")]


def test_release_and_reassign_change_who_holds_a_question(
        page: Page, start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    server = start_server(config=inbox_config, api_keys=KEYS)
    thread_id = _interrupted(server.client(api_key=ALICE), "policy", {"ask": {"group": "ops"}})
    _sign_in(page, server, ALICE)
    item = _item(page, thread_id)
    assignee = item.locator('[data-fact="assignee"]')
    expect(assignee).to_have_text("nobody yet")
    expect(item.get_by_role("button", name="Release")).to_have_count(0)
    item.get_by_role("button", name="Claim").click()
    expect(assignee).to_have_text("alice")
    item.get_by_role("button", name="Release").click()
    expect(assignee).to_have_text("nobody yet")
    expect(page.locator("#said")).to_contain_text("is free to claim")

    item.get_by_role("button", name="Reassign…").click()
    item.get_by_role("button", name="Reassign", exact=True).click()
    expect(item.get_by_role("alert")).to_have_text("Name the reviewer or group to give it to.")
    item.get_by_label("Reassign to").fill("bob")
    item.get_by_role("button", name="Reassign", exact=True).click()
    expect(assignee).to_have_text("bob")
    expect(_row(page, thread_id)).to_contain_text("@bob")
    page.get_by_role("combobox", name="Assignee").select_option("bob")
    expect(page.locator("#items li")).to_have_count(1)


def _bearer(request: Request) -> str | None:
    """An auth callable that reads "Authorization: Bearer <token>" (not x-api-key)."""
    return {"Bearer token-of-carol": "acme/carol"}.get(request.headers.get("authorization", ""))


def test_with_an_auth_callable_the_key_goes_in_the_header_the_reviewer_chose(
        page: Page, start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    server = start_server(config=inbox_config, auth=_bearer)
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"authorization": "Bearer token-of-carol"}) as http:
        thread_id = http.post("/threads", json={}).json()["thread_id"]
        http.post(f"/threads/{thread_id}/runs/wait",
                  json={"assistant_id": "review", "input": {"topic": "bearer"}})
        _open(page, server)
        page.get_by_role("textbox", name="API key").fill("token-of-carol")
        page.get_by_role("button", name="Use this key").click()  # as x-api-key: refused
        expect(page.get_by_role("alert").filter(has_text="refused this API key")).to_be_visible()
        page.get_by_label("Send it as").select_option(label="Authorization: Bearer")
        page.get_by_role("textbox", name="API key").fill("token-of-carol")
        page.get_by_role("button", name="Use this key").click()
        _answer(_item(page, thread_id), '{"approved": true}')
        expect(_row(page, thread_id)).to_have_count(0)
        [decision] = http.get(f"/threads/{thread_id}/decisions").json()
    assert decision["by"] == "carol"
