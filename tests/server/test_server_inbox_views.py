"""The inbox's list and detail view (issue 14), in headless Chromium: the graph drawn with the
paused node marked, the thread's values, history and decision log, descriptions in Markdown
(and a `<script>` in one shown as text), the filters, the keyboard, and the list updating by
itself.

The browser, page and server fixtures are test_server_inbox.py's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import test_server_inbox as inbox
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient
from test_server_inbox import _interrupted, _item, _open, _row, _values

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - depends on the machine
    pass

# test_server_inbox.py's fixtures, used here under the same names.
browser = inbox.browser
page = inbox.page
inbox_config = inbox.inbox_config
server = inbox.server
client = inbox.client


def test_the_detail_view_draws_the_graph_and_shows_values_history_and_decisions(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = _interrupted(client, "twice", {})
    client.runs.wait(thread_id, "twice", command={"resume": "Lyon"})
    _open(page, server)
    item = _item(page, thread_id)

    graph = item.get_by_role("img", name=re.compile(r"^Graph twice: 4 nodes, paused at "
                                                    r"ask_second$"))
    expect(graph).to_be_visible()
    expect(graph.locator("g.node.paused")).to_have_count(1)
    expect(graph.locator("g.node.paused text")).to_have_text("ask_second")
    expect(graph.locator("g.node text")).to_have_text(["start", "ask_first", "ask_second",
                                                       "end"])
    expect(graph.locator("path.edge")).to_have_count(3)

    values = item.get_by_role("region", name="Current values")
    expect(values.locator("tr")).to_have_count(1)
    expect(values.locator("tr")).to_have_text(re.compile(r"^first\s*Lyon$"))

    history = item.get_by_role("region", name="History").locator("li")
    expect(history.first).to_contain_text("next: ask_second")
    assert history.count() == len(client.threads.get_history(thread_id, limit=10))

    decisions = item.get_by_role("region", name="Decision log").locator("li")
    expect(decisions).to_have_count(1)
    logged = client.http.get(f"/threads/{thread_id}/decisions")
    expect(decisions.first).to_contain_text(logged[0]["outcome"])
    expect(decisions.first).to_contain_text('"Lyon"')
    expect(decisions.first).to_contain_text("ask_first")


def test_markdown_descriptions_are_rendered_and_markup_in_them_stays_text(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    description = ("## Refund for **order 7**\n\nCheck the `amount` and _the reason_:\n\n"
                   "- <script>window.pwned=1</script>\n- <img src=x onerror=window.pwned=2>\n\n"
                   "[the order](https://example.com/orders/7) and "
                   "[a trap](javascript:window.pwned=3)\n\n```\n<b>code</b>\n```")
    thread_id = _interrupted(client, "described", {"description": description})
    _open(page, server)
    item = _item(page, thread_id)
    md = item.locator(".markdown")
    expect(md.locator("h5")).to_have_text("Refund for order 7")
    expect(md.locator("h5 strong")).to_have_text("order 7")
    expect(md.locator("p code")).to_have_text("amount")
    expect(md.locator("p em")).to_have_text("the reason")
    expect(md.locator("li")).to_have_text(["<script>window.pwned=1</script>",
                                           "<img src=x onerror=window.pwned=2>"])
    expect(md.locator("a")).to_have_count(1)
    expect(md.locator("a")).to_have_attribute("href", "https://example.com/orders/7")
    expect(md).to_contain_text("[a trap](javascript:window.pwned=3)")
    expect(md.locator("pre")).to_have_text("<b>code</b>")
    assert page.locator("main script, main img, main b").count() == 0
    assert page.evaluate("typeof window.pwned") == "undefined"
    expect(_row(page, thread_id)).to_contain_text("Go ahead?")


def test_filters_narrow_the_list_and_keys_move_approve_and_reject(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    ignored = _interrupted(client, "email", {"to": "bo@example.com", "subject": "B"})
    review = _interrupted(client, "review", {"topic": "pears"})
    accepted = _interrupted(client, "email", {"to": "ann@example.com", "subject": "A"})
    _open(page, server)
    rows = page.locator("#items li")
    expect(rows).to_have_count(3)
    expect(_row(page, accepted)).to_have_attribute("aria-current", "true")

    page.keyboard.press("j")
    expect(_row(page, review)).to_have_attribute("aria-current", "true")
    expect(_item(page, review)).to_contain_text("Publish this draft?")
    page.keyboard.press("a")  # not a tool review: says so, sends nothing
    expect(page.locator("#notice")).to_contain_text("a works on tool-call reviews")
    page.keyboard.press("k")
    expect(_row(page, accepted)).to_have_attribute("aria-current", "true")

    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Filter")).to_be_focused()
    page.keyboard.type("bo@example")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ignored)
    expect(page.locator("#summary")).to_contain_text("1 shown, 2 filtered out")
    page.get_by_role("searchbox", name="Filter").fill("")
    page.get_by_role("combobox", name="Graph").select_option("email")
    expect(rows).to_have_count(2)
    page.get_by_role("checkbox", name="Overdue").check()  # no deadline among them
    expect(rows).to_have_count(0)
    expect(page.locator("#detail")).to_have_text("No thread matches the filters.")
    page.get_by_role("checkbox", name="Overdue").uncheck()

    page.locator("#detail").click()  # the focus leaves the filter: keys act again
    expect(_row(page, accepted)).to_have_attribute("aria-current", "true")
    page.keyboard.press("a")
    expect(_item(page, accepted)).to_have_count(0)
    assert _values(client, accepted)["outcome"]["decision"] == "accept"
    expect(_row(page, ignored)).to_have_attribute("aria-current", "true")
    page.keyboard.press("r")  # Agent Inbox has no reject: ignore
    expect(_item(page, ignored)).to_have_count(0)
    assert _values(client, ignored)["outcome"] == {"decision": "ignore"}
    expect(rows).to_have_count(0)

    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_box).to_be_visible()
    help_box.get_by_role("button", name="Close").click()
    expect(help_box).to_be_hidden()


def test_the_list_shows_new_threads_and_drops_answered_ones_by_itself(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    first = _interrupted(client, "review", {"topic": "apples"})
    _open(page, server)
    expect(page.locator("#items li")).to_have_count(1)
    second = _interrupted(client, "review", {"topic": "pears"})
    expect(_row(page, second)).to_be_visible()  # polled, no reload
    client.runs.wait(first, "review", command={"resume": {"approved": False}})
    expect(_row(page, first)).to_have_count(0)
    expect(_item(page, second)).to_contain_text("Tips for pears")


def test_deadlines_order_the_list_and_policies_show_and_filter(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    plain = _interrupted(client, "review", {"topic": "apples"})
    later = _interrupted(client, "policy", {"ask": {"expires_in": 3600, "assignee": "alice",
                                                    "group": "ops"}})
    overdue = _interrupted(client, "policy", {"ask": {"expires_in": 1, "group": "ops"}})
    pair = _interrupted(client, "release", {"version": "2.0"})
    _open(page, server)
    rows = page.locator("#items li")
    # The nearest deadline first, then the newest.
    expect(rows).to_have_count(4)
    for n, thread_id in enumerate((overdue, later, pair, plain)):
        expect(rows.nth(n)).to_contain_text(thread_id)
    expect(_row(page, later)).to_contain_text("@alice")
    expect(_row(page, later)).to_contain_text(re.compile(r"due in (59|60) min"))
    expect(_row(page, pair)).to_contain_text("needs 2 approvals")
    expect(_row(page, overdue)).to_contain_text(re.compile(r"overdue \d+ s ago"))

    facts = _item(page, later).locator("dl.facts")
    expect(facts.locator('[data-fact="deadline"]')).to_contain_text(re.compile(r"in (59|60) min"))
    expect(facts.locator('[data-fact="assignee"]')).to_have_text("alice")
    expect(facts.locator('[data-fact="group"]')).to_have_text("ops")
    facts = _item(page, overdue).locator("dl.facts")
    expect(facts.locator('[data-fact="deadline"]')).to_contain_text("overdue")
    expect(facts.locator('[data-fact="assignee"]')).to_have_text("nobody yet")
    expect(_item(page, pair).locator('[data-fact="approvals"]')).to_have_text("0 of 2")
    expect(_item(page, plain).locator("dl.facts")).to_be_hidden()

    page.get_by_role("combobox", name="Assignee").select_option("alice")
    expect(rows).to_have_count(1)
    page.get_by_role("combobox", name="Assignee").select_option(label="Nobody")
    expect(rows).to_have_count(3)
    page.get_by_role("combobox", name="Assignee").select_option(label="Anyone")
    page.get_by_role("combobox", name="Group").select_option("ops")
    expect(rows).to_have_count(2)
    page.get_by_role("checkbox", name="Overdue").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(overdue)


def test_an_expired_question_shows_its_default_answer(
        page: Page, start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    server = start_server(config=inbox_config, expire_seconds=0.3)
    client = server.client()
    thread_id = _interrupted(client, "expiring", {})
    _open(page, server)
    item = _item(page, thread_id)
    expect(item.locator('[data-fact="deadline"]')).to_contain_text(
        'then answered with {"approved":false}')
    # The server's expiry timer gives the default answer; the page's next poll shows the
    # graph's next question, and the log says the policy answered and why.
    expect(item).to_contain_text("Anything to tell the customer?")
    log = item.get_by_role("region", name="Decision log").locator("li")
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("answered by policy at ask_in_time")
    expect(log.first).to_contain_text('Answer: {"approved":false}')
    expect(log.first).to_contain_text("Reason: expired: default answer")
    assert client.threads.get_state(thread_id)["values"] == {"approved": False}
