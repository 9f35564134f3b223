"""LangChain's Agent Chat UI, the real page, against `hitlgraph serve`.

scripts/agent_chat_ui builds the page from npm (the first time takes minutes) and serves it;
the page is opened in headless Chromium with `?apiUrl=...&assistantId=...` pointing at a
`hitlgraph serve` process, and driven as a person would: a chat whose reply streams in, the
thread history, and a tool review answered with the page's own controls. The browser tests are
opt-in (`-m browser_clients`, or HITLGRAPH_BROWSER_CLIENTS=1): they need npm, the registry and
Debian's Chromium. HITLGRAPH_SCREENSHOTS=1 also saves the README's screenshots in docs/.

The last test needs no browser: it sends the exact resume the page sends for Accept, which
ToolReviewNode refused before this test found it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer, ServerProcess

try:
    from playwright.sync_api import Browser, Page, Response, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "agent_chat_ui"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
TIMEOUT_MS = 30_000
BUILD_SECONDS = 1500
GRAPHS = {"chat": "./chat_ui_graphs.py:chat_builder",
          "review": "./chat_ui_graphs.py:review_builder",
          "inbox": "./chat_ui_graphs.py:inbox_builder"}


def _wanted(config: pytest.Config) -> bool:
    return ("browser_clients" in (config.option.markexpr or "")
            or os.environ.get("HITLGRAPH_BROWSER_CLIENTS") == "1")


@pytest.fixture(scope="module")
def chat_ui(request: pytest.FixtureRequest) -> Iterator[str]:
    """The built page, served by scripts/agent_chat_ui on a free port: its base URL."""
    if not _wanted(request.config):
        pytest.skip("Agent Chat UI takes minutes to build: run with -m browser_clients "
                    "or HITLGRAPH_BROWSER_CLIENTS=1")
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (apt-get install npm)")
    subprocess.run(["bash", str(SCRIPT), "--build-only"], check=True, timeout=BUILD_SECONDS)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serving = subprocess.Popen(["bash", str(SCRIPT), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url)
        yield url
    finally:
        serving.terminate()
        serving.wait(timeout=30)


def _wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers at {url}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser(chat_ui: str) -> Iterator[Browser]:
    """Debian's Chromium, headless (started after the page is built, so a skip is cheap)."""
    if sync_playwright is None:
        pytest.skip("The playwright package is not installed (pip install 'playwright>=1.40').")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"No Chromium at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def chat_config(tmp_path: Path) -> Path:
    """A langgraph.json naming chat_ui_graphs.py's graphs, beside a copy of that module."""
    source = Path(__file__).with_name("chat_ui_graphs.py")
    shutil.copy(source, tmp_path / source.name)
    path = tmp_path / "chat_ui.json"
    path.write_text(json.dumps({"graphs": GRAPHS}), encoding="utf-8")
    return path


@pytest.fixture
def api(start_process: Callable[..., ServerProcess], database: str, chat_config: Path
        ) -> ServerProcess:
    """`hitlgraph serve` on 127.0.0.1, as a person would start it for the page."""
    return start_process(database, config=chat_config)


TEE_STREAMS = """
window.__streams = [];
const fetched = window.fetch;
window.fetch = async (...args) => {
  const response = await fetched(...args);
  const url = String(args[0] instanceof Request ? args[0].url : args[0]);
  if (!url.endsWith("/runs/stream") || !response.body) return response;
  const [page, copy] = response.body.tee();
  const record = {text: "", done: false};
  window.__streams.push(record);
  (async () => {
    const reader = copy.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      record.text += decoder.decode(value, {stream: true});
    }
    record.done = true;
  })();
  return new Response(page, {status: response.status, headers: response.headers});
};
"""
"""Records the body of every run stream the page reads, as it reads it (Playwright cannot
give back the body of a response that was still streaming when the page's address changed)."""


class Session:
    """A page of Agent Chat UI with what it did: its uncaught errors and its API calls that
    failed (status 400 or more)."""

    def __init__(self, page: Page, api_url: str) -> None:
        self.page = page
        self.api_url = api_url
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", self._seen)

    def _seen(self, response: Response) -> None:
        if response.url.startswith(self.api_url) and response.status >= 400:
            self.failed.append(f"{response.request.method} {response.url} {response.status}")

    def open(self, ui: str, graph: str, *query: str) -> None:
        self.page.goto(f"{ui}/?apiUrl={self.api_url}&assistantId={graph}" + "".join(
            f"&{item}" for item in query))

    def send(self, text: str) -> str:
        """Types `text` in the message box and sends it; the body of the run stream it
        started, once that stream has ended (as TEE_STREAMS recorded it)."""
        box = self.page.get_by_placeholder("Type your message...")
        box.fill(text)
        seen = self.page.evaluate("window.__streams.length")
        box.press("Enter")
        self.page.wait_for_function(
            f"window.__streams.length > {seen} && window.__streams[{seen}].done")
        return str(self.page.evaluate(f"window.__streams[{seen}].text"))

    def check(self) -> None:
        assert self.errors == []
        assert self.failed == []


@pytest.fixture
def session(browser: Browser, api: ServerProcess) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(TEE_STREAMS)
    yield Session(context.new_page(), api.url)
    context.close()


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    """Into tmp_path, and into docs/ (for the README) when HITLGRAPH_SCREENSHOTS=1."""
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("HITLGRAPH_SCREENSHOTS") == "1":
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, REPO / "docs" / name)


@pytest.mark.browser_clients
def test_a_message_gets_its_reply_streamed_token_by_token(
        session: Session, chat_ui: str, tmp_path: Path) -> None:
    session.open(chat_ui, "chat")
    body = session.send("Hi, I am Bob")
    reply = "You said: Hi, I am Bob. Nice to meet you!"
    expect(session.page.get_by_text(reply)).to_be_visible()
    # The page asks for "messages-tuple": the reply came as chunks before the last values.
    assert body.count("event: messages\n") >= 5
    assert body.index("event: messages\n") < body.rindex("event: values\n")
    _screenshot(session.page, tmp_path, "agent-chat-ui-reply.png")
    session.check()


@pytest.mark.browser_clients
def test_thread_history_lists_each_conversation_and_reopens_it(
        session: Session, chat_ui: str) -> None:
    for text in ("First conversation", "Second conversation"):
        session.open(chat_ui, "chat")
        session.send(text)
        expect(session.page.get_by_text(f"You said: {text}.", exact=False)).to_be_visible()
    session.open(chat_ui, "chat", "chatHistoryOpen=true")
    history = session.page.locator("div.w-full.px-1 button")
    expect(history).to_have_text(["Second conversation", "First conversation"])
    history.filter(has_text="First conversation").click()
    expect(session.page.get_by_text("You said: First conversation.", exact=False)
           ).to_be_visible()
    session.check()


def _answer(page: Page, action: str) -> None:
    """Answers the tool review with the page's controls."""
    if action == "accept":
        page.get_by_role("button", name="Accept").click()
    elif action == "edit":
        page.get_by_text("Subject", exact=True).locator("..").locator("textarea").fill(
            "Hello again")
        page.get_by_role("button", name="Submit").click()
    elif action == "respond":
        page.get_by_placeholder("Your response here...").fill("Do not send it")
        page.get_by_role("button", name="Send Response").click()
    else:
        page.get_by_role("button", name="Ignore").click()


OUTCOMES = {
    "accept": "Email sent to ann@example.com with subject 'Hello'.",
    "edit": "Email sent to ann@example.com with subject 'Hello again'.",
    "respond": "Do not send it",
    "ignore": "The reviewer skipped this call to 'send_email'; it did not run.",
}

def _ask(session: Session, chat_ui: str, graph: str) -> Page:
    session.open(chat_ui, graph)
    session.send("Please email Ann")
    expect(session.page.get_by_text("Edit/Accept")).to_be_visible()
    return session.page


@pytest.mark.browser_clients
@pytest.mark.parametrize(("graph", "action"), [
    ("review", "accept"), ("review", "edit"), ("review", "respond"), ("review", "ignore"),
    ("inbox", "accept")])
def test_a_tool_review_answered_in_the_page_lets_the_graph_finish(
        session: Session, chat_ui: str, graph: str, action: str, tmp_path: Path) -> None:
    """`review` asks through ToolReviewNode, `inbox` with a plain interrupt() read as graphs
    written for LangGraph read it."""
    page = _ask(session, chat_ui, graph)
    if action == "edit":  # from the top of the conversation: the message, call and review
        page.locator("div.overflow-y-scroll").evaluate_all(
            "all => all.forEach(e => { e.scrollTop = 0; })")
        _screenshot(page, tmp_path, "agent-chat-ui-interrupt.png")
    _answer(page, action)
    expect(page.get_by_text(f"Done. The tool said: {OUTCOMES[action]}")).to_be_visible()
    expect(page.get_by_text("Edit/Accept")).to_be_hidden()
    session.check()


@pytest.mark.browser_clients
def test_mark_as_resolved_leaves_the_question_open_as_on_langgraph(
        session: Session, chat_ui: str, api: ServerProcess) -> None:
    """The button sends `command: {"goto": "__end__"}` without an answer: LangGraph's server
    (and library) run nothing and ask again, and so does hitlgraph (compared by hand with
    `langgraph dev` 0.16.7 serving the same graph)."""
    page = _ask(session, chat_ui, "inbox")
    runs = session.page.evaluate("window.__streams.length")
    page.get_by_role("button", name="Mark as Resolved").click()
    page.wait_for_function(f"window.__streams.length > {runs} && window.__streams[{runs}].done")
    expect(page.get_by_text("Edit/Accept")).to_be_visible()
    expect(page.get_by_text("Done. The tool said:", exact=False)).to_have_count(0)
    thread = httpx.post(f"{api.url}/threads/search", json={"metadata": {"graph_id": "inbox"}})
    assert [t["status"] for t in thread.json()] == ["interrupted"]
    session.check()


def test_the_pages_accept_answer_is_an_accept(start_server: Callable[..., RunningServer],
                                              chat_config: Path) -> None:
    """The resume Agent Chat UI sends for Accept when the request also allows edits (recorded
    from the page): the edit form's untouched action request rides along as `args`, and
    ToolReviewNode takes it as an accept."""
    server = start_server(config=chat_config)
    client = server.client()
    thread = client.threads.create()["thread_id"]
    paused = client.runs.wait(thread, "review", input={"messages": [
        {"type": "human", "content": "Please email Ann"}]})
    request = paused["__interrupt__"][0]["value"][0]["action_request"]
    body = {"input": {}, "command": {"resume": [{"type": "accept", "args": request}]},
            "stream_mode": ["messages-tuple", "values", "custom"], "assistant_id": "review"}
    answered = httpx.post(f"{server.url}/threads/{thread}/runs/wait", json=body, timeout=30)
    assert answered.status_code == 200
    state: dict[str, Any] = client.threads.get_state(thread)
    assert state["next"] == []
    assert state["values"]["messages"][-1]["content"] == (
        f"Done. The tool said: {OUTCOMES['accept']}")
