"""The reviewer inbox page (GET /inbox), driven in a real headless Chromium (Debian's, at
/usr/bin/chromium) through Playwright, against a real server; the SDK sets threads up and
checks what the page's answers did to them.

Without Chromium or the playwright package the browser tests skip, except under CI=true,
where they fail (scripts/services installs Chromium there)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient

from _services import in_ci

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000

INBOX_GRAPHS = {
    "review": "./graphs.py:review_builder",
    "email": "./inbox_graphs.py:email_builder",
    "tools": "./inbox_graphs.py:tools_builder",
    "pair": "./inbox_graphs.py:pair_builder",
    "twice": "./inbox_graphs.py:twice_builder",
    "steps": "./graphs.py:build_steps",
    "refund": "./inbox_graphs.py:refund_builder",
    "count": "./inbox_graphs.py:count_builder",
    "own_review": "./inbox_graphs.py:own_review_builder",
    "inbox_review": "./inbox_graphs.py:inbox_review_builder",
    "langchain_review": "./inbox_graphs.py:langchain_review_builder",
    "batch": "./inbox_graphs.py:batch_builder",
    "described": "./inbox_graphs.py:described_builder",
    "release": "./inbox_graphs.py:release_builder",
    "policy": "./inbox_graphs.py:policy_builder",
    "expiring": "./inbox_graphs.py:expiring_builder",
}


def _missing(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} Under CI the browser tests must run: scripts/services installs "
                    "Debian's chromium package, and `pip install -e '.[dev]'` installs "
                    "playwright.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless. Playwright's launch() gives it a fresh temporary user
    data dir (profile) of its own, deleted when it closes."""
    if sync_playwright is None:
        _missing("The playwright package is not installed (pip install 'playwright>=1.40').")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"No Chromium at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (its own sessionStorage). The test fails if the page hits
    an uncaught script error or logs one (a refused fetch's own log line excepted)."""
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    opened.on("console", lambda msg: problems.append(f"console: {msg.text}")
              if msg.type == "error" and not msg.text.startswith("Failed to load resource")
              else None)
    yield opened
    context.close()
    assert problems == []


@pytest.fixture
def inbox_config(tmp_path: Path) -> Path:
    """A langgraph.json beside copies of graphs.py and inbox_graphs.py."""
    folder = tmp_path / "inbox_app"
    folder.mkdir()
    for name in ("graphs.py", "inbox_graphs.py"):
        source = Path(__file__).with_name(name)
        shutil.copyfile(source, folder / name)
    path = folder / "langgraph.json"
    path.write_text(json.dumps({"graphs": INBOX_GRAPHS}), encoding="utf-8")
    return path


@pytest.fixture
def server(start_server: Callable[..., RunningServer], inbox_config: Path) -> RunningServer:
    """A server without authentication, serving INBOX_GRAPHS."""
    return start_server(config=inbox_config)


@pytest.fixture
def client(server: RunningServer) -> SyncLangGraphClient:
    return server.client()


def _interrupted(client: SyncLangGraphClient, graph: str, values: dict[str, Any]) -> str:
    """A new thread of `graph`, run until it waits for an answer; its id."""
    thread_id: str = client.threads.create()["thread_id"]
    result = client.runs.wait(thread_id, graph, input=values)
    assert isinstance(result, dict) and result["__interrupt__"], result
    return thread_id


def _open(page: Page, server: RunningServer) -> None:
    page.goto(f"{server.url}/inbox")
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(page.locator("#summary")).not_to_have_text("Loading…")


def _row(page: Page, thread_id: str) -> Locator:
    """The thread's row in the list (a button that shows it in detail)."""
    return page.locator(f'#items li[data-thread-id="{thread_id}"] button')


def _item(page: Page, thread_id: str) -> Locator:
    """The detail view of the thread, chosen in the list first when another one is shown
    (the thread being answered is shown until its row and its view go, together)."""
    item = page.get_by_role("article", name=re.compile(re.escape(thread_id)))
    row = _row(page, thread_id)
    if not item.count() and row.count():
        row.click()
    return item


def _values(client: SyncLangGraphClient, thread_id: str) -> dict[str, Any]:
    thread = client.threads.get(thread_id)
    assert thread["status"] == "idle", thread
    values: dict[str, Any] = thread["values"]  # type: ignore[assignment]
    return values


def _answer(item: Locator, text: str) -> None:
    item.get_by_label("Your answer").fill(text)
    item.get_by_role("button", name="Send answer").click()


def test_opening_the_server_address_shows_the_inbox_without_a_failed_request(
        page: Page, server: RunningServer) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    page.goto(f"{server.url}/")
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    assert page.url == f"{server.url}/inbox"
    expect(page.locator("#summary")).not_to_have_text("Loading…")
    assert failed == []


def test_lists_every_waiting_thread_newest_first_with_its_questions(
        page: Page, server: RunningServer, client: SyncLangGraphClient, tmp_path: Path) -> None:
    older = _interrupted(client, "review", {"topic": "apples"})
    newer = _interrupted(client, "review", {"topic": "pears"})
    email = _interrupted(client, "email", {"to": "ann@example.com", "subject": "Hello"})
    finished = client.threads.create()["thread_id"]
    client.runs.wait(finished, "twice", input={})
    client.runs.wait(finished, "twice", command={"resume": "Lyon"})
    client.runs.wait(finished, "twice", command={"resume": "May"})

    _open(page, server)
    rows = page.locator("#items li")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("status").first).to_have_text("3 threads waiting for an answer.")
    expect(rows.nth(0)).to_contain_text(email)
    expect(rows.nth(0)).to_contain_text("Review: send_email")
    expect(rows.nth(1)).to_contain_text(newer)
    expect(rows.nth(2)).to_contain_text(older)
    expect(rows.nth(2)).to_contain_text("Publish this draft?")
    expect(page.get_by_role("article")).to_have_count(1)  # the newest, shown in detail
    expect(_row(page, email)).to_have_attribute("aria-current", "true")
    for thread_id, topic in ((older, "apples"), (newer, "pears")):
        item = _item(page, thread_id)
        expect(_row(page, thread_id)).to_have_attribute("aria-current", "true")
        expect(item.get_by_role("heading", level=2)).to_contain_text("review")
        expect(item).to_contain_text("Publish this draft?")
        expect(item).to_contain_text(f"Tips for {topic}")
        expect(item.locator("header time")).to_have_attribute(
            "datetime", client.threads.get(thread_id)["updated_at"])
        expect(item.get_by_role("button", name="Send answer")).to_be_enabled()
    expect(_item(page, email)).to_contain_text("Send this email to ann@example.com?")
    expect(_row(page, finished)).to_have_count(0)

    shot = tmp_path / "inbox.png"
    page.set_viewport_size({"width": 1100, "height": 1400})
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_answering_resumes_the_thread_and_it_leaves_the_list(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    first = _interrupted(client, "review", {"topic": "apples"})
    second = _interrupted(client, "review", {"topic": "pears"})
    _open(page, server)
    expect(page.locator("#items li")).to_have_count(2)

    _answer(_item(page, first), '{"approved": true, "text": "Fresh apples"}')

    expect(_item(page, first)).to_have_count(0)
    expect(_item(page, second)).to_be_visible()
    expect(page.locator("#said")).to_contain_text(f"Thread {first} is finished")
    assert _values(client, first) == {"topic": "apples", "draft": "Fresh apples",
                                      "approved": True, "published": "FRESH APPLES"}
    assert client.threads.get(second)["status"] == "interrupted"


def test_agent_inbox_requests_show_only_allowed_buttons_and_send_human_responses(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    editable = _interrupted(client, "email", {"to": "ann@example.com", "subject": "Hi",
                                              "allow": ["accept", "edit"]})
    answerable = _interrupted(client, "email", {"to": "bob@example.com", "subject": "Yo",
                                                "allow": ["response", "ignore"],
                                                "as_list": False})
    acceptable = _interrupted(client, "email", {"to": "cy@example.com", "subject": "Hey"})
    ignorable = _interrupted(client, "email", {"to": "di@example.com", "subject": "Ho"})
    _open(page, server)

    item = _item(page, editable)
    expect(item.get_by_role("heading", name="send_email")).to_be_visible()
    expect(item).to_contain_text("Send this email to ann@example.com?")
    buttons = item.get_by_role("group", name="Request: send_email").get_by_role("button")
    expect(buttons).to_have_text(["Accept", "Edit"])
    expect(item.get_by_label("Your answer")).to_have_count(0)
    item.get_by_role("button", name="Edit").click()
    args = item.get_by_label("Arguments of send_email (JSON)")
    expect(args).to_be_focused()
    assert json.loads(args.input_value()) == {"to": "ann@example.com", "subject": "Hi"}
    args.fill("{not json")
    item.get_by_role("button", name="Send edited arguments").click()
    expect(item.get_by_role("alert")).to_contain_text("That is not valid JSON")
    args.fill('{"to": "ann@example.org", "subject": "Hi, edited", "cc": ["x@example.org"]}')
    item.get_by_role("button", name="Send edited arguments").click()
    expect(item).to_have_count(0)
    assert _values(client, editable)["outcome"] == {
        "decision": "edit",
        "sent": {"to": "ann@example.org", "subject": "Hi, edited", "cc": ["x@example.org"]}}

    item = _item(page, answerable)
    expect(item.get_by_role("group", name="Request: send_email").get_by_role("button")
           ).to_have_text(["Respond", "Ignore"])
    item.get_by_role("button", name="Respond").click()
    item.get_by_label("Response").fill("Not before Monday, please.")
    item.get_by_role("button", name="Send response").click()
    expect(item).to_have_count(0)
    assert _values(client, answerable)["outcome"] == {
        "decision": "response", "feedback": "Not before Monday, please."}

    item = _item(page, acceptable)
    expect(item.get_by_role("group", name="Request: send_email").get_by_role("button")
           ).to_have_text(["Accept", "Edit", "Respond", "Ignore"])
    item.get_by_role("button", name="Accept").click()
    expect(item).to_have_count(0)
    assert _values(client, acceptable)["outcome"] == {
        "decision": "accept", "sent": {"to": "cy@example.com", "subject": "Hey"}}

    item = _item(page, ignorable)
    item.get_by_role("button", name="Ignore").click()
    expect(item).to_have_count(0)
    assert _values(client, ignorable)["outcome"] == {"decision": "ignore"}
    expect(page.locator("#said")).to_contain_text("Nothing else is waiting.")


def test_a_list_of_agent_inbox_requests_is_answered_with_a_list(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = _interrupted(client, "tools", {})
    _open(page, server)
    item = _item(page, thread_id)
    search = item.get_by_role("group", name="Request: search")
    book = item.get_by_role("group", name="Request: book_table")
    expect(search.get_by_role("button")).to_have_text(["Accept", "Ignore"])
    expect(book.get_by_role("button")).to_have_text(["Accept", "Edit"])
    send = item.get_by_role("button", name="Send 2 answers")
    expect(send).to_be_disabled()

    search.get_by_role("button", name="Ignore").click()
    expect(search.get_by_role("status")).to_have_text("Your answer: ignore")
    expect(send).to_be_disabled()
    book.get_by_role("button", name="Edit").click()
    book.get_by_label("Arguments of book_table (JSON)").fill(
        '{"restaurant": "Chez Nous", "seats": 4}')
    book.get_by_role("button", name="Use edited arguments").click()
    expect(send).to_be_enabled()
    send.click()

    expect(item).to_have_count(0)
    assert _values(client, thread_id)["outcomes"] == [
        {"decision": "ignore"},
        {"decision": "edit", "sent": {"restaurant": "Chez Nous", "seats": 4}}]


def test_several_interrupts_are_answered_one_at_a_time_by_id(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = _interrupted(client, "pair", {})
    _open(page, server)
    item = _item(page, thread_id)
    questions = item.locator(".questions").get_by_role("region")
    expect(questions).to_have_count(2)
    colour = questions.filter(has_text="Your favourite colour?")
    expect(colour).to_have_attribute("aria-label", re.compile(r"Question \d of 2"))

    _answer(colour, "blue")  # not JSON: sent as the string

    expect(item.locator(".questions").get_by_role("region")).to_have_count(1)
    expect(item).to_contain_text("Your name?")
    expect(item).not_to_contain_text("Your favourite colour?")
    _answer(item, '"Ann"')
    expect(item).to_have_count(0)
    assert sorted(_values(client, thread_id)["answers"]) == ["color=blue", "name=Ann"]


def test_a_graph_that_asks_again_shows_its_next_question(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = _interrupted(client, "twice", {})
    _open(page, server)
    item = _item(page, thread_id)
    expect(item).to_contain_text("First question: which city?")
    _answer(item, "Lyon")
    expect(item).to_contain_text("Second question: when in Lyon?")
    expect(item).not_to_contain_text("First question")
    expect(page.locator("#said")).to_contain_text("asks again")
    _answer(item, '{"month": "May"}')
    expect(item).to_have_count(0)
    assert _values(client, thread_id) == {"first": "Lyon", "second": {"month": "May"}}


def test_a_thread_paused_at_a_breakpoint_is_listed_and_continues(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "steps", input={"value": "v"}, interrupt_before=["step_b"])
    _open(page, server)
    item = _item(page, thread_id)
    expect(item.get_by_role("region", name="Breakpoint")).to_contain_text("Paused at a breakpoint")
    item.get_by_role("button", name="Continue").click()
    expect(item).to_have_count(0)
    assert _values(client, thread_id)["log"] == ["a", "b saw v", "c"]


def test_answering_an_already_answered_interrupt_shows_the_conflict(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    done = _interrupted(client, "review", {"topic": "apples"})
    moved_on = _interrupted(client, "twice", {})
    _open(page, server)
    expect(page.locator("#items li")).to_have_count(2)
    notice = page.locator("#notice")

    # Someone else answers behind the page's back; the graph then asks its next question.
    # The page's answer to the first one must not land on it: answers go by interrupt id.
    client.runs.wait(moved_on, "twice", command={"resume": "Paris"})
    item = _item(page, moved_on)
    expect(item).to_contain_text("First question")
    _answer(item, "Rome")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(f"Thread {moved_on} was not resumed")
    expect(notice).to_contain_text("already answered")
    expect(item).to_contain_text("Second question: when in Paris?")  # the list was refreshed
    assert client.threads.get_state(moved_on)["values"] == {"first": "Paris"}
    page.get_by_role("button", name="Dismiss").click()
    expect(notice).to_be_hidden()

    # Someone else answers the last question of a thread: the page's answer finds nothing.
    client.runs.wait(done, "review", command={"resume": {"approved": False}})
    _answer(_item(page, done), '{"approved": true}')
    expect(notice).to_contain_text(f"Thread {done} was not resumed")
    expect(notice).to_contain_text("already answered")
    expect(_item(page, done)).to_have_count(0)
    assert _values(client, done)["approved"] is False


def test_a_bad_answer_shows_the_error_and_the_item_stays_answerable(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    thread_id = _interrupted(client, "review", {"topic": "apples"})
    _open(page, server)
    item = _item(page, thread_id)

    _answer(item, "yes please")

    error = item.get_by_role("alert").filter(has_text="The run failed")
    expect(error).to_contain_text("ValueError: The answer must be {'approved': bool}, "
                                  "got 'yes please'")
    expect(item.get_by_role("button", name="Send answer")).to_be_enabled()
    assert client.threads.get(thread_id)["status"] == "error"

    page.get_by_role("button", name="Refresh").click()  # still listed after a reload
    expect(item.get_by_text("last answer failed")).to_be_visible()
    _answer(item, '{"approved": true}')
    expect(item).to_have_count(0)
    assert _values(client, thread_id)["published"] == "TIPS FOR APPLES"


def test_with_api_keys_the_page_asks_for_the_key_and_refuses_a_wrong_one(
        page: Page, start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    secured = start_server(config=inbox_config, api_keys={"alice": "alice-key"})
    client = secured.client(api_key="alice-key")
    thread_id = _interrupted(client, "review", {"topic": "keys"})
    _open(page, secured)

    key = page.get_by_role("textbox", name="API key")
    expect(key).to_be_visible()
    expect(page.get_by_role("article")).to_have_count(0)
    key.fill("not-the-key")
    page.get_by_role("button", name="Use this key").click()
    expect(page.get_by_role("alert").filter(has_text="refused this API key")).to_be_visible()
    expect(key).to_be_visible()
    expect(page.get_by_role("article")).to_have_count(0)

    key.fill("alice-key")
    page.get_by_role("button", name="Use this key").click()
    item = _item(page, thread_id)
    expect(item).to_contain_text("Tips for keys")
    expect(key).to_be_hidden()

    page.reload()  # the key is kept for this tab
    expect(item).to_be_visible()
    _answer(item, '{"approved": true}')  # the POST carries the key too
    expect(item).to_have_count(0)
    assert _values(client, thread_id)["published"] == "TIPS FOR KEYS"

    page.get_by_role("button", name="Forget API key").click()
    expect(key).to_be_visible()


def test_values_from_graphs_are_shown_as_text_never_as_markup(
        page: Page, server: RunningServer, client: SyncLangGraphClient) -> None:
    attack = "<img src=x onerror=window.pwned=1><b>bold</b>"
    review = _interrupted(client, "review", {"topic": attack})
    email = _interrupted(client, "email", {"to": attack, "subject": "<script>pwned=2</script>"})
    _open(page, server)
    expect(_item(page, review)).to_contain_text(f"Tips for {attack}")
    expect(_item(page, email)).to_contain_text(f"Send this email to {attack}?")
    expect(_item(page, email)).to_contain_text("<script>pwned=2</script>")
    assert page.locator("main img, main b, main script").count() == 0
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_the_static_shell_loads_without_a_key_and_the_data_does_not(
        start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    from hitlgraph.server import auth
    from hitlgraph.server.routes.inbox import PAGES
    from hitlgraph.server.routes.root import PATHS

    # The exemption is exactly the inbox's files, / (a redirect to it) and the icon.
    assert set(PAGES) | set(PATHS) == auth._STATIC_PATHS
    secured = start_server(config=inbox_config, api_keys={"alice": "alice-key"})
    with httpx.Client(base_url=secured.url, timeout=30) as http:
        for path, (_, media_type) in PAGES.items():
            for method in ("GET", "HEAD"):
                got = http.request(method, path)
                assert got.status_code == 200, (method, path, got.text)
                assert got.headers["content-type"] == media_type
                assert "script-src 'self'" in got.headers["content-security-policy"]
                assert got.headers["x-content-type-options"] == "nosniff"
        page = http.get("/inbox").text
        assert 'src="inbox/inbox.js"' in page and 'href="inbox/inbox.css"' in page
        for method, path in (("POST", "/threads/search"), ("GET", "/inbox/"),
                             ("GET", "/inbox/index.html"), ("GET", "/inbox/../threads"),
                             ("POST", "/inbox"), ("GET", "/docs"), ("GET", "/openapi.json")):
            assert http.request(method, path, json={} if method == "POST" else None
                                ).status_code == 401, (method, path)
        assert http.post("/threads/search", json={}, headers={"x-api-key": "alice-key"}
                         ).status_code == 200


def test_the_inbox_files_are_package_data() -> None:
    folder = files("hitlgraph.server.inbox")
    from hitlgraph.server.routes.inbox import PAGES

    for names, _ in PAGES.values():
        for name in names:
            assert folder.joinpath(name).read_bytes(), name
