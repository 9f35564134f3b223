// The reviewer inbox: lists the threads waiting for a person and answers them, using only
// this server's REST API. Everything shown is built with text nodes (never innerHTML, see
// dom.js), so a value from a graph cannot inject markup. No build step, no dependencies.
// Answers: review requests get buttons (reviews.js), an interrupt with a response_schema a
// form (form.js), anything else a JSON-or-text box.
"use strict";

(() => {
  const { h, isObject, pretty, problemLine, uid } = Dom;
  const KEY_STORAGE = "hitlgraph.inbox.apiKey";
  const PAGE_SIZE = 100;
  const MAX_PAGES = 10; // at most 1,000 threads per status

  const $ = (id) => document.getElementById(id);
  const list = $("items");
  const summary = $("summary");
  const keyForm = $("key-form");
  const keyInput = $("api-key");
  const keyError = $("key-error");
  const forgetKey = $("forget-key");
  const notice = $("notice");
  const noticeText = $("notice-text");

  /** thread_id -> {thread, signature, element, setBusy, showError} */
  const entries = new Map();
  let loading = null;

  function showNotice(text) {
    noticeText.textContent = text;
    notice.hidden = false;
  }

  function clearNotice() {
    notice.hidden = true;
    noticeText.textContent = "";
  }

  // ---- The API ---------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function detailOf(data, status) {
    if (data && typeof data === "object" && "detail" in data) {
      const detail = data.detail;
      if (typeof detail === "string") return detail;
      if (Array.isArray(detail)) {
        return detail.map((d) => (d && d.msg ? `${(d.loc || []).join(".")}: ${d.msg}` : pretty(d)))
          .join("; ");
      }
      return pretty(detail);
    }
    if (typeof data === "string" && data) return data;
    return `HTTP ${status}`;
  }

  async function call(method, path, body) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) headers["x-api-key"] = key;
    let response;
    try {
      // Relative to the page: /inbox -> /threads/..., and /prefix/inbox -> /prefix/threads/...
      response = await fetch(new URL(path, document.baseURI), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch (err) {
      throw new ApiError(0, `The server did not answer (${err.message}). Is it running?`);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (err) {
        data = text;
      }
    }
    if (response.status === 401) {
      askForKey(Boolean(key));
      throw new ApiError(401, detailOf(data, 401));
    }
    if (!response.ok) throw new ApiError(response.status, detailOf(data, response.status));
    return data;
  }

  const threadPath = (threadId) => `threads/${encodeURIComponent(threadId)}`;

  async function search(status) {
    const found = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const batch = await call("POST", "threads/search", {
        status, limit: PAGE_SIZE, offset: page * PAGE_SIZE,
        sort_by: "updated_at", sort_order: "desc",
      });
      found.push(...batch);
      if (batch.length < PAGE_SIZE) break;
    }
    return found;
  }

  /** The thread's open interrupts, flattened: [{id, value, response_schema?}, ...]. */
  function interruptsOf(thread) {
    const out = [];
    for (const items of Object.values(thread.interrupts || {})) {
      for (const item of items || []) out.push(item);
    }
    return out;
  }

  function isWaiting(thread) {
    if (thread.status === "interrupted") return true;
    // A failed answer leaves the thread in "error" with its interrupt still open.
    return thread.status === "error" && interruptsOf(thread).length > 0;
  }

  const signatureOf = (thread) =>
    `${thread.status}|${interruptsOf(thread).map((i) => i.id).join(",")}`;

  function graphOf(thread) {
    const meta = thread.metadata || {};
    return { graph: meta.graph_id || null, assistant: meta.graph_id || meta.assistant_id || null };
  }

  // ---- API key ---------------------------------------------------------------------------

  function askForKey(refused) {
    if (refused) sessionStorage.removeItem(KEY_STORAGE);
    keyError.hidden = !refused;
    keyError.textContent = refused
      ? "The server refused this API key. Check it and try again." : "";
    keyForm.hidden = false;
    list.hidden = true;
    forgetKey.hidden = true;
    summary.textContent = "Waiting for an API key.";
    keyInput.value = "";
    keyInput.focus();
  }

  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    if (!key) {
      keyError.textContent = "Enter the API key first.";
      keyError.hidden = false;
      keyInput.focus();
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    keyInput.value = "";
    keyForm.hidden = true;
    list.hidden = false;
    load();
  });

  forgetKey.addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    for (const entry of entries.values()) entry.element.remove();
    entries.clear();
    load();
  });

  // ---- Loading and listing ---------------------------------------------------------------

  function updateSummary() {
    const n = entries.size;
    summary.textContent = n === 0 ? "Nothing is waiting for you."
      : `${n} thread${n === 1 ? "" : "s"} waiting for an answer.`;
  }

  function load() {
    // One load at a time; a request made meanwhile waits for it, then loads again.
    if (loading) return loading.then(() => load());
    loading = (async () => {
      summary.textContent = "Loading…";
      try {
        const [interrupted, failed] = await Promise.all([search("interrupted"), search("error")]);
        const threads = interrupted.concat(failed).filter(isWaiting);
        threads.sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
        keyForm.hidden = true;
        list.hidden = false;
        forgetKey.hidden = !sessionStorage.getItem(KEY_STORAGE);
        render(threads);
      } catch (err) {
        if (err.status !== 401) {
          summary.textContent = "Could not load the inbox.";
          showNotice(`Could not load the inbox: ${err.message}`);
        }
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  function render(threads) {
    const seen = new Set();
    threads.forEach((thread, index) => {
      seen.add(thread.thread_id);
      let entry = entries.get(thread.thread_id);
      if (!entry || entry.signature !== signatureOf(thread)) {
        // New, or asking something else now; an unchanged item keeps what was typed in it.
        const fresh = buildEntry(thread);
        if (entry) entry.element.replaceWith(fresh.element);
        entries.set(thread.thread_id, fresh);
        entry = fresh;
      }
      if (list.children[index] !== entry.element) {
        list.insertBefore(entry.element, list.children[index] || null);
      }
    });
    for (const [threadId, entry] of entries) {
      if (!seen.has(threadId)) {
        entry.element.remove();
        entries.delete(threadId);
      }
    }
    updateSummary();
  }

  function timeAgo(iso) {
    const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (!Number.isFinite(seconds)) return "";
    if (seconds < 45) return "just now";
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    if (hours < 36) return `${hours} h ago`;
    return `${Math.round(hours / 24)} days ago`;
  }

  // ---- One thread ------------------------------------------------------------------------

  function buildEntry(thread) {
    const { graph, assistant } = graphOf(thread);
    const titleId = uid("thread");
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const when = thread.updated_at ? new Date(thread.updated_at) : null;
    const interrupts = interruptsOf(thread);
    const body = h("div", { class: "questions" });
    const article = h("article", { class: "card", "aria-labelledby": titleId },
      h("header", { class: "item-head" },
        h("h2", { id: titleId },
          h("span", { class: "graph" }, graph || "unknown graph"),
          h("span", { class: "sep", "aria-hidden": "true" }, " · "),
          h("code", { class: "thread-id", title: "Thread id" }, thread.thread_id)),
        h("p", { class: "meta" },
          "Stopped ",
          when ? h("time", { datetime: thread.updated_at, title: when.toLocaleString() },
            `${when.toLocaleString()} (${timeAgo(thread.updated_at)})`) : "at an unknown time",
          thread.status === "error" ? h("span", { class: "badge" }, "last answer failed") : null)),
      error, body);
    const element = h("li", { class: "item", "data-thread-id": thread.thread_id }, article);

    const entry = {
      thread, element, signature: signatureOf(thread),
      controls: [],
      setBusy(busy) {
        article.setAttribute("aria-busy", busy ? "true" : "false");
        for (const control of entry.controls) {
          control.disabled = busy || control.dataset.locked === "1";
        }
      },
      showError(text) {
        error.textContent = text;
        error.hidden = !text;
      },
    };

    if (!assistant) {
      entry.showError("This thread names no graph in its metadata, so the inbox cannot resume it.");
    }
    if (interrupts.length === 0) {
      body.append(h("section", { class: "question", "aria-label": "Breakpoint" },
        h("p", {}, "Paused at a breakpoint: nothing is asked, it waits to be continued."),
        track(entry, h("button", {
          type: "button", class: "primary",
          onclick: () => send(entry, { input: null }),
        }, "Continue"))));
    }
    interrupts.forEach((interrupt, index) => {
      const label = interrupts.length > 1 ? `Question ${index + 1} of ${interrupts.length}`
        : "Question";
      const section = h("section", { class: "question", "aria-label": label });
      if (interrupts.length > 1) section.append(h("h3", { class: "question-title" }, label));
      const review = Reviews.requestOf(interrupt.value);
      const tracker = (control) => track(entry, control);
      if (review) {
        section.append(Reviews.render(review, tracker, (value) => answer(entry, interrupt, value)));
      } else if (isObject(interrupt.response_schema)) {
        renderTypedAnswer(entry, section, interrupt);
      } else {
        renderFreeAnswer(entry, section, interrupt);
      }
      body.append(section);
    });
    entry.setBusy(false);
    if (!assistant) for (const control of entry.controls) control.disabled = true;
    return entry;
  }

  function track(entry, control) {
    entry.controls.push(control);
    return control;
  }

  /** Resume the thread with `value` as the answer to `interrupt` (by its id, so an answer
   * never lands on a newer question than the one shown). `refused(detail)`, if given, is
   * told of a 422 and returns whether it showed the errors itself. */
  function answer(entry, interrupt, value, refused) {
    return send(entry, { command: { resume: { [interrupt.id]: value } } }, refused);
  }

  async function send(entry, what, refused) {
    const threadId = entry.thread.thread_id;
    const { assistant } = graphOf(entry.thread);
    clearNotice();
    entry.showError("");
    entry.setBusy(true);
    let done = false;
    try {
      const out = await call("POST", `${threadPath(threadId)}/runs/wait`,
        { assistant_id: assistant, ...what });
      if (out && typeof out === "object" && out.__error__) {
        const { error, message } = out.__error__;
        entry.showError(`The run failed: ${error || "Error"}: ${message || ""}. `
          + "Nothing was lost: the question is still open, answer it again.");
        return;
      }
      done = true;
      const fresh = await call("GET", threadPath(threadId));
      if (isWaiting(fresh)) {
        render(orderedWith(fresh));
        summary.textContent = `Answer sent. Thread ${threadId} asks again.`;
      } else {
        forget(threadId);
        summary.textContent = `Answer sent. Thread ${threadId} is ${fresh.status === "idle"
          ? "finished" : fresh.status}. ${summaryCount()}`;
      }
    } catch (err) {
      if (err.status === 401) return; // the key form is up; the item keeps what was typed
      if (err.status === 409) {
        showNotice(`Thread ${threadId} was not resumed: its question was already answered `
          + `(someone else answered first, or it changed meanwhile). The list was refreshed. `
          + `The server said: ${err.message}`);
        await load();
        return;
      }
      if (err.status === 404) {
        showNotice(`Thread ${threadId} no longer exists. The list was refreshed.`);
        await load();
        return;
      }
      if (done) {
        // The answer went through; only reading the thread back failed.
        showNotice(`The answer was sent, but reading thread ${threadId} back failed: `
          + `${err.message}`);
        await load();
        return;
      }
      if (err.status === 422 && refused && refused(err.message)) {
        entry.showError("The answer was not taken: fix the fields marked below. Nothing ran; "
          + "the question is still open.");
        return;
      }
      entry.showError(`The answer was not taken: ${err.message}`);
    } finally {
      if (entries.get(threadId) === entry) entry.setBusy(false);
    }
  }

  function summaryCount() {
    const n = entries.size;
    return n === 0 ? "Nothing else is waiting." : `${n} still waiting.`;
  }

  function orderedWith(thread) {
    const threads = [...entries.values()].map((e) => e.thread)
      .filter((t) => t.thread_id !== thread.thread_id);
    threads.push(thread);
    threads.sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
    return threads;
  }

  function forget(threadId) {
    const entry = entries.get(threadId);
    if (!entry) return;
    const next = entry.element.nextElementSibling || entry.element.previousElementSibling;
    entry.element.remove();
    entries.delete(threadId);
    updateSummary();
    // Keep keyboard users in the list rather than dropping focus to the page.
    const target = next && next.querySelector("button, textarea, input");
    if (target) target.focus({ preventScroll: true });
  }

  // ---- Free answers ----------------------------------------------------------------------

  function renderFreeAnswer(entry, section, interrupt) {
    const value = interrupt.value;
    const question = isObject(value) && typeof value.question === "string" ? value.question
      : null;
    if (typeof value === "string") section.append(h("p", { class: "ask" }, value));
    if (question !== null) section.append(h("p", { class: "ask" }, question));
    // The whole value as JSON, unless the text above already said all of it.
    const saidAll = typeof value === "string"
      || (question !== null && Object.keys(value).length === 1);
    if (!saidAll) {
      section.append(h("pre", { class: "value", tabindex: "0", "aria-label": "Interrupt value" },
        pretty(value)));
    }
    const fieldId = uid("answer");
    const hintId = uid("hint");
    const [problem, say] = problemLine();
    const field = track(entry, h("textarea", {
      id: fieldId, rows: "3", spellcheck: "false", "aria-describedby": hintId,
    }));
    const form = h("form", { class: "answer", novalidate: true },
      h("label", { for: fieldId }, "Your answer"),
      h("p", { id: hintId, class: "hint" },
        "Sent as JSON when it parses (e.g. {\"approved\": true}, 42, true), otherwise as text."),
      field, problem,
      h("div", { class: "row" }, track(entry, h("button", { type: "submit", class: "primary" },
        "Send answer"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = field.value.trim();
      if (!text) {
        say("Type an answer first.");
        field.focus();
        return;
      }
      say("");
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        parsed = text;
      }
      answer(entry, interrupt, parsed);
    });
    section.append(form);
  }

  // ---- Typed answers -----------------------------------------------------------------------

  function renderTypedAnswer(entry, section, interrupt) {
    const value = interrupt.value;
    const question = isObject(value) && typeof value.question === "string" ? value.question
      : typeof value === "string" ? value : null;
    if (question !== null) section.append(h("p", { class: "ask" }, question));
    if (question === null || (isObject(value) && Object.keys(value).length > 1)) {
      section.append(h("pre", { class: "value", tabindex: "0", "aria-label": "Interrupt value" },
        pretty(value)));
    }
    const form = SchemaForm.build(interrupt.response_schema, (control) => track(entry, control));
    const [problem, say] = problemLine();
    const element = h("form", { class: "answer typed", novalidate: true }, form.element, problem,
      h("div", { class: "row" }, track(entry, h("button", { type: "submit", class: "primary" },
        "Send answer"))));
    const refused = (detail) => {
      const errors = SchemaForm.errorsFromDetail(detail, interrupt.id);
      if (!errors) return false;
      const unplaced = form.showErrors(errors);
      say(unplaced.map((e) => `${e.path.join(".") || "answer"}: ${e.msg}`).join("; "));
      return true;
    };
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      say("");
      const got = form.collect();
      if (got.problems) {
        form.showErrors(got.problems.map(([one, msg]) => ({ path: one.path, msg })));
        return;
      }
      form.clear();
      answer(entry, interrupt, got.value, refused);
    });
    section.append(element);
  }

  // ---- Start -----------------------------------------------------------------------------

  $("refresh").addEventListener("click", () => {
    clearNotice();
    load();
  });
  $("notice-close").addEventListener("click", clearNotice);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && keyForm.hidden) load();
  });
  load();
})();
