// One waiting thread in the detail view: its heading, and each open question with its review
// facts (policy.js), who works on it (assign.js) and the way to answer it: review requests get
// buttons (reviews.js), an interrupt with a response_schema a form (form.js), anything else a
// JSON-or-text box. Sending is the page's (app.js): answers call `send(entry, what, refused)`,
// the assignment buttons `assign(entry, interrupt, action, body)`.
"use strict";

const Questions = (() => {
  const { h, isObject, pretty, problemLine, uid } = Dom;

  /** The thread's open interrupts, flattened: [{id, value, response_schema?, ...}, ...]. */
  function interruptsOf(thread) {
    const out = [];
    for (const items of Object.values(thread.interrupts || {})) {
      for (const item of items || []) out.push(item);
    }
    return out;
  }

  function graphOf(thread) {
    const meta = thread.metadata || {};
    return { graph: meta.graph_id || null, assistant: meta.graph_id || meta.assistant_id || null };
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

  /** The entry for `thread`: {thread, element, body, controls, setBusy, showError}. */
  function build(thread, { send, assign }) {
    const { graph, assistant } = graphOf(thread);
    const titleId = uid("thread");
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const when = thread.updated_at ? new Date(thread.updated_at) : null;
    const interrupts = interruptsOf(thread);
    const body = h("div", { class: "questions" });
    const element = h("article", { class: "card detail", "aria-labelledby": titleId,
      "data-thread-id": thread.thread_id },
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
    const entry = {
      thread, element, body, controls: [],
      setBusy(busy) {
        element.setAttribute("aria-busy", busy ? "true" : "false");
        for (const control of entry.controls) {
          control.disabled = busy || control.dataset.locked === "1" || !assistant;
        }
      },
      showError(text) {
        error.textContent = text;
        error.hidden = !text;
      },
    };
    const track = (control) => {
      entry.controls.push(control);
      return control;
    };
    if (!assistant) {
      entry.showError("This thread names no graph in its metadata, so the inbox cannot resume it.");
    }
    if (interrupts.length === 0) {
      body.append(h("section", { class: "question", "aria-label": "Breakpoint" },
        h("p", {}, "Paused at a breakpoint: nothing is asked, it waits to be continued."),
        track(h("button", { type: "button", class: "primary",
          onclick: () => send(entry, { input: null }) }, "Continue"))));
    }
    interrupts.forEach((interrupt, index) => {
      body.append(question(interrupt, index, interrupts.length, track,
        (value, refused) => send(entry, { command: { resume: { [interrupt.id]: value } } },
          refused), (action, what) => assign(entry, interrupt, action, what)));
    });
    entry.setBusy(false);
    return entry;
  }

  function question(interrupt, index, count, track, answer, act) {
    const label = count > 1 ? `Question ${index + 1} of ${count}` : "Question";
    const section = h("section", { class: "question", "aria-label": label,
      "data-interrupt-id": interrupt.id });
    if (count > 1) section.append(h("h3", { class: "question-title" }, label));
    const facts = Policy.facts(interrupt);
    section.append(facts || h("dl", { class: "facts", hidden: true }));
    const holders = Assign.bar(interrupt, track, act);
    if (holders) section.append(holders);
    const review = Reviews.requestOf(interrupt.value);
    if (review) section.append(Reviews.render(review, track, (value) => answer(value)));
    else if (isObject(interrupt.response_schema)) typedAnswer(section, interrupt, track, answer);
    else freeAnswer(section, interrupt, track, answer);
    return section;
  }

  /** What the interrupt asks, readably: its question or text, a Markdown description, and
   * the whole value as JSON unless those said all of it. */
  function asked(section, value) {
    const question = isObject(value) && typeof value.question === "string" ? value.question
      : typeof value === "string" ? value : null;
    const description = isObject(value) && typeof value.description === "string"
      ? value.description : null;
    if (question !== null) section.append(h("p", { class: "ask" }, question));
    if (description !== null) section.append(Markdown.render(description));
    const said = ["question", "description"].filter((k) => isObject(value) && k in value);
    if (typeof value !== "string" && !(isObject(value) && Object.keys(value).length === said.length
        && said.length > 0)) {
      section.append(h("pre", { class: "value", tabindex: "0", "aria-label": "Interrupt value" },
        pretty(value)));
    }
  }

  function freeAnswer(section, interrupt, track, answer) {
    asked(section, interrupt.value);
    const fieldId = uid("answer");
    const hintId = uid("hint");
    const [problem, say] = problemLine();
    const field = track(h("textarea", {
      id: fieldId, rows: "3", spellcheck: "false", "aria-describedby": hintId,
    }));
    const form = h("form", { class: "answer", novalidate: true },
      h("label", { for: fieldId }, "Your answer"),
      h("p", { id: hintId, class: "hint" },
        "Sent as JSON when it parses (e.g. {\"approved\": true}, 42, true), otherwise as text."),
      field, problem,
      h("div", { class: "row" }, track(h("button", { type: "submit", class: "primary" },
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
      answer(parsed);
    });
    section.append(form);
  }

  function typedAnswer(section, interrupt, track, answer) {
    asked(section, interrupt.value);
    const form = SchemaForm.build(interrupt.response_schema, track);
    const [problem, say] = problemLine();
    const element = h("form", { class: "answer typed", novalidate: true }, form.element, problem,
      h("div", { class: "row" }, track(h("button", { type: "submit", class: "primary" },
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
      answer(got.value, refused);
    });
    section.append(element);
  }

  return { build, graphOf, interruptsOf, timeAgo };
})();
