// The reviewer inbox: the list of threads waiting for a person (list.js), the one chosen shown
// in detail with its questions (questions.js) and context (details.js), answered through this
// server's REST API (api.js). Everything shown is built with text nodes (never innerHTML, see
// dom.js), so a value from a graph cannot inject markup. The list is read again every few
// seconds while the tab is visible. No build step, no dependencies.
"use strict";

(() => {
  const { interruptsOf, graphOf } = Questions;
  const PAGE_SIZE = 100;
  const MAX_PAGES = 10; // at most 1,000 threads per status
  const POLL_MS = 5_000;
  const MAX_POLL_MS = 60_000; // after failures the wait doubles up to this

  const $ = (id) => document.getElementById(id);
  const list = $("items");
  const detail = $("detail");
  const summary = $("summary");
  const said = $("said"); // what became of the last answer sent
  const keyForm = $("key-form");
  const keyInput = $("api-key");
  const keyError = $("key-error");
  const forgetKey = $("forget-key");
  const notice = $("notice");
  const noticeText = $("notice-text");
  const filters = { text: $("f-text"), graph: $("f-graph"), assignee: $("f-assignee"),
    group: $("f-group"), overdue: $("f-overdue") };

  let threads = []; // every waiting thread, in list order
  let selected = null; // the thread id shown in detail
  let shown = null; // its entry (questions.js), kept while the thread asks the same
  let loading = null;
  let pollTimer = null;
  let pollWait = POLL_MS;

  function showNotice(text) {
    noticeText.textContent = text;
    notice.hidden = false;
  }

  function say(text) {
    said.textContent = text;
    said.hidden = !text;
  }

  function clearNotice() {
    notice.hidden = true;
    noticeText.textContent = "";
  }

  // ---- API key ---------------------------------------------------------------------------

  /** Show the key form, after a 401 to a request that sent `sentKey` (null: none). A late
   * 401 to a key already replaced changes nothing, and one that comes while the form is up
   * keeps what is being typed in it. */
  function askForKey(sentKey) {
    if (sentKey && sentKey !== Api.getKey()) return;
    const refused = Boolean(sentKey);
    if (refused) Api.forgetKey();
    if (!keyForm.hidden) return;
    keyError.hidden = !refused;
    keyError.textContent = refused
      ? "The server refused this API key. Check it and try again." : "";
    keyForm.hidden = false;
    document.body.classList.add("signed-out");
    forgetKey.hidden = true;
    summary.textContent = "Waiting for an API key.";
    keyInput.value = "";
    keyInput.focus();
  }

  Api.onUnauthorized(askForKey);

  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    if (!key) {
      keyError.textContent = "Enter the API key first.";
      keyError.hidden = false;
      keyInput.focus();
      return;
    }
    Api.setKey(key, $("key-header").value);
    keyInput.value = "";
    keyForm.hidden = true;
    document.body.classList.remove("signed-out");
    load();
  });

  forgetKey.addEventListener("click", () => {
    Api.forgetKey();
    threads = [];
    selected = null;
    draw();
    load();
  });

  // ---- Loading ---------------------------------------------------------------------------

  async function search(status) {
    const found = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const batch = await Api.call("POST", "threads/search", {
        status, limit: PAGE_SIZE, offset: page * PAGE_SIZE,
        sort_by: "updated_at", sort_order: "desc",
      });
      found.push(...batch);
      if (batch.length < PAGE_SIZE) break;
    }
    return found;
  }

  function isWaiting(thread) {
    if (thread.status === "interrupted") return true;
    // A failed answer leaves the thread in "error" with its interrupt still open.
    return thread.status === "error" && interruptsOf(thread).length > 0;
  }

  /** Changes when the thread asks something else, or its review state moves on. */
  const signatureOf = (thread) => JSON.stringify([thread.status, interruptsOf(thread).map(
    (i) => [i.id, i.review || null])]);

  /** Each open interrupt's record in the saver's index (policy, deadline, assignee), by
   * interrupt id; empty when the server has no such route or index. */
  async function indexed() {
    try {
      const records = await Api.call("GET", "inbox/pending");
      return new Map((Array.isArray(records) ? records : []).map((r) => [r.interrupt_id, r]));
    } catch (err) {
      if (err.status === 401) throw err;
      return new Map(); // an older server: the list still works, without policies
    }
  }

  /** `thread` with each interrupt's index record attached as `review`. */
  function withReviews(thread, records) {
    const interrupts = {};
    for (const [task, items] of Object.entries(thread.interrupts || {})) {
      interrupts[task] = (items || []).map((i) => (records.has(i.id)
        ? { ...i, review: records.get(i.id) } : i));
    }
    return { ...thread, interrupts };
  }

  function load() {
    // One load at a time; a request made meanwhile waits for it, then loads again.
    if (loading) return loading.then(() => load());
    clearTimeout(pollTimer);
    loading = (async () => {
      try {
        const [interrupted, failed, records] = await Promise.all(
          [search("interrupted"), search("error"), indexed()]);
        threads = ListView.sorted(interrupted.concat(failed).filter(isWaiting)
          .map((t) => withReviews(t, records)));
        keyForm.hidden = true;
        document.body.classList.remove("signed-out");
        forgetKey.hidden = !Api.getKey();
        draw();
        pollWait = POLL_MS;
      } catch (err) {
        if (err.status === 401) return; // the key form is up; no polling until a key is given
        summary.textContent = "Could not load the inbox.";
        showNotice(`Could not load the inbox: ${err.message}`);
        pollWait = Math.min(pollWait * 2, MAX_POLL_MS);
      } finally {
        loading = null;
      }
      schedule();
    })();
    return loading;
  }

  function schedule() {
    clearTimeout(pollTimer);
    if (document.visibilityState === "visible" && keyForm.hidden) {
      pollTimer = setTimeout(load, pollWait);
    }
  }

  // ---- Drawing ---------------------------------------------------------------------------

  const chosen = () => ({ text: filters.text.value.trim(), graph: filters.graph.value,
    assignee: filters.assignee.value, group: filters.group.value,
    overdue: filters.overdue.checked });

  const visible = () => threads.filter((t) => ListView.matches(t, chosen()));

  function draw() {
    ListView.offer(filters, threads);
    const rows = visible();
    if (!rows.some((t) => t.thread_id === selected)) {
      selected = rows.length ? rows[0].thread_id : null;
    }
    const focused = document.activeElement && document.activeElement.closest("#items li");
    const refocus = focused ? focused.dataset.threadId : null;
    list.replaceChildren(...rows.map((t) => ListView.row(t, t.thread_id === selected, pick)));
    if (refocus) {
      const again = list.querySelector(`li[data-thread-id="${CSS.escape(refocus)}"] button`);
      if (again) again.focus({ preventScroll: true });
    }
    const n = threads.length;
    const hiddenCount = n - rows.length;
    summary.textContent = (n === 0 ? "Nothing is waiting for you."
      : `${n} thread${n === 1 ? "" : "s"} waiting for an answer.`)
      + (hiddenCount ? ` ${rows.length} shown, ${hiddenCount} filtered out.` : "");
    showDetail(rows.find((t) => t.thread_id === selected) || null);
  }

  function showDetail(thread) {
    if (!thread) {
      shown = null;
      detail.replaceChildren(Dom.h("p", { class: "empty" }, threads.length
        ? "No thread matches the filters." : "Nothing is waiting for you."));
      return;
    }
    if (shown && shown.thread.thread_id === thread.thread_id
        && shown.signature === signatureOf(thread)) return; // keeps what was typed
    shown = Questions.build(thread, { send, assign });
    shown.signature = signatureOf(thread);
    detail.replaceChildren(shown.element);
    Details.fill(shown);
  }

  function pick(threadId) {
    selected = threadId;
    draw();
  }

  /** Select the row `step` away from the selected one (j/k). */
  function move(step) {
    const rows = visible();
    if (rows.length === 0) return;
    const at = rows.findIndex((t) => t.thread_id === selected);
    const next = rows[Math.min(rows.length - 1, Math.max(0, at + step))];
    pick(next.thread_id);
    const button = list.querySelector(`li[data-thread-id="${CSS.escape(next.thread_id)}"] button`);
    if (button) button.focus();
  }

  // ---- Answering -------------------------------------------------------------------------

  /** Resume the entry's thread with `what` ({command} or {input}). `refused(detail)`, if
   * given, is told of a 422 and returns whether it showed the errors itself. */
  async function send(entry, what, refused) {
    const threadId = entry.thread.thread_id;
    const { assistant } = graphOf(entry.thread);
    clearNotice();
    entry.showError("");
    entry.setBusy(true);
    let done = false;
    try {
      const out = await Api.call("POST", `${Api.threadPath(threadId)}/runs/wait`,
        { assistant_id: assistant, ...what });
      if (out && typeof out === "object" && out.__error__) {
        const { error, message } = out.__error__;
        entry.showError(`The run failed: ${error || "Error"}: ${message || ""}. `
          + "Nothing was lost: the question is still open, answer it again.");
        return;
      }
      done = true;
      const [row, records] = await Promise.all([Api.call("GET", Api.threadPath(threadId)),
        indexed()]);
      const fresh = withReviews(row, records);
      if (isWaiting(fresh)) {
        threads = ListView.sorted(threads.map((t) => (t.thread_id === threadId ? fresh : t)));
        shown = null; // a question open still (k-of-n) is shown afresh: its approvals so far
        draw();
        say(`Answer sent. Thread ${threadId} asks again.`);
      } else {
        forget(threadId);
        say(`Answer sent. Thread ${threadId} is ${fresh.status === "idle" ? "finished"
          : fresh.status}. ${threads.length === 0 ? "Nothing else is waiting."
          : `${threads.length} still waiting.`}`);
      }
    } catch (err) {
      failedSend(err, entry, threadId, done, refused);
    } finally {
      if (shown === entry) entry.setBusy(false);
    }
  }

  /** Claim, release or reassign (`action`) one of the entry's questions, then show the
   * thread again as the server has it. */
  async function assign(entry, interrupt, action, body) {
    const threadId = entry.thread.thread_id;
    clearNotice();
    entry.showError("");
    entry.setBusy(true);
    try {
      const row = await Api.call("POST", `${Api.threadPath(threadId)}/interrupts/`
        + `${encodeURIComponent(interrupt.id)}/${action}`, body);
      const holder = row && row.answer && row.answer.to;
      say(`${action === "claim" ? "Claimed" : action === "release" ? "Released"
        : "Reassigned"}: thread ${threadId} is ${holder ? `with ${holder}` : "free to claim"}.`);
      shown = null;
      await load();
    } catch (err) {
      if (err.status !== 401) entry.showError(`Could not ${action} it: ${err.message}`);
    } finally {
      if (shown === entry) entry.setBusy(false);
    }
  }

  function failedSend(err, entry, threadId, done, refused) {
    if (err.status === 401) return; // the key form is up; the detail keeps what was typed
    if (err.status === 409) {
      showNotice(`Thread ${threadId} was not resumed: its question was already answered `
        + "(someone else answered first, or it changed meanwhile). The list was refreshed. "
        + `The server said: ${err.message}`);
    } else if (err.status === 404) {
      showNotice(`Thread ${threadId} no longer exists. The list was refreshed.`);
    } else if (done) {
      // The answer went through; only reading the thread back failed.
      showNotice(`The answer was sent, but reading thread ${threadId} back failed: `
        + `${err.message}`);
    } else if (err.status === 422 && refused && refused(err.message)) {
      entry.showError("The answer was not taken: fix the fields marked below. Nothing ran; "
        + "the question is still open.");
      return;
    } else {
      entry.showError(`The answer was not taken: ${err.message}`);
      return;
    }
    shown = null; // show the thread as it is now
    load();
  }

  /** Drop an answered thread; the row after it (or before, at the end) is shown next. */
  function forget(threadId) {
    const rows = visible();
    const at = rows.findIndex((t) => t.thread_id === threadId);
    const next = rows[at + 1] || rows[at - 1] || null;
    threads = threads.filter((t) => t.thread_id !== threadId);
    selected = next ? next.thread_id : null;
    draw();
  }

  // ---- Start -----------------------------------------------------------------------------

  $("refresh").addEventListener("click", () => {
    clearNotice();
    load();
  });
  $("notice-close").addEventListener("click", clearNotice);
  for (const control of Object.values(filters)) control.addEventListener("input", draw);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && keyForm.hidden) load();
  });
  Keys.install({ move, showNotice, filter: () => filters.text.focus() });
  load();
})();
