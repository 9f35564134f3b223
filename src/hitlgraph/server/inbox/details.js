// The context a reviewer needs beside the question: the graph with the paused node marked, the
// thread's current values, its recent history and its decision log. Each part is read from
// the server's API when a thread is shown (GET .../state, POST .../history, GET .../decisions,
// GET /assistants/{id}/graph) and fills its own section; one that fails says so in place.
"use strict";

const Details = (() => {
  const { h, isObject, pretty } = Dom;
  const HISTORY = 10; // checkpoints shown, newest first
  const DECISIONS = 20;
  const graphs = new Map(); // assistant -> Promise of its graph description

  function section(label, ...children) {
    return h("section", { class: "context", "aria-label": label },
      h("h3", {}, label), ...children);
  }

  function valuesTable(values) {
    if (!isObject(values) || Object.keys(values).length === 0) {
      return h("pre", { class: "value" }, pretty(values));
    }
    return h("table", { class: "values" }, h("tbody", {}, Object.entries(values).map(
      ([key, value]) => h("tr", {}, h("th", { scope: "row" }, key),
        h("td", {}, typeof value === "string" ? value : isObject(value) || Array.isArray(value)
          ? h("pre", { class: "value" }, pretty(value)) : h("code", {}, pretty(value)))))));
  }

  function historyList(states) {
    if (!Array.isArray(states) || states.length === 0) return h("p", { class: "hint" }, "None.");
    return h("ol", { class: "history" }, states.slice(0, HISTORY).map((s) => {
      const meta = isObject(s.metadata) ? s.metadata : {};
      const next = Array.isArray(s.next) && s.next.length ? `next: ${s.next.join(", ")}`
        : "finished";
      const when = s.created_at ? new Date(s.created_at) : null;
      return h("li", {},
        h("span", { class: "step" }, `step ${meta.step ?? "?"}`),
        ` · ${meta.source || "?"} · ${next}`,
        when ? [" · ", h("time", { datetime: s.created_at }, when.toLocaleTimeString())] : null);
    }));
  }

  function decisionsList(rows) {
    if (!Array.isArray(rows) || rows.length === 0) {
      return h("p", { class: "hint" }, "No decisions yet.");
    }
    return h("ol", { class: "decisions" }, rows.slice(0, DECISIONS).map((d) => h("li", {},
      h("strong", { class: "outcome" }, d.outcome ?? "decided"),
      " by ", h("span", { class: "by" }, d.by ?? "someone unnamed"),
      d.node ? [" at ", h("code", {}, d.node)] : null,
      d.at ? [" · ", h("time", { datetime: d.at }, new Date(d.at).toLocaleString())] : null,
      h("div", { class: "answer" }, "Answer: ", h("code", {}, JSON.stringify(d.answer) ?? "")),
      d.reason ? h("div", { class: "reason" }, `Reason: ${d.reason}`) : null)));
  }

  /** The names of the nodes the state waits in (its tasks with open interrupts, else next). */
  function pausedAt(state) {
    const tasks = Array.isArray(state.tasks) ? state.tasks : [];
    const asking = tasks.filter((t) => Array.isArray(t.interrupts) && t.interrupts.length);
    const names = (asking.length ? asking.map((t) => t.name) : state.next || []);
    return names.filter((n) => typeof n === "string");
  }

  function graphOf(assistant) {
    if (!graphs.has(assistant)) {
      const loading = Api.call("GET", `assistants/${encodeURIComponent(assistant)}/graph`);
      loading.catch(() => graphs.delete(assistant)); // try again next time
      graphs.set(assistant, loading);
    }
    return graphs.get(assistant);
  }

  /** Each k-of-n question's facts drawn again with the decision log `rows` (newest first) at
   * hand: the index record counts the approvals and names who gave them; the log adds when. */
  function timeApprovals(entry, rows) {
    const answered = (Array.isArray(rows) ? rows : []).filter((r) => r.outcome === "answered");
    for (const interrupt of Questions.interruptsOf(entry.thread)) {
      const at = entry.element.querySelector(
        `section.question[data-interrupt-id="${CSS.escape(interrupt.id)}"] > dl.facts`);
      const mine = answered.filter((r) => r.interrupt_id === interrupt.id);
      const facts = Policy.facts(interrupt, mine);
      if (at && facts && Policy.of(interrupt).given.length) at.replaceWith(facts);
    }
    return rows;
  }

  const failed = (err) => h("p", { class: "error" }, `Could not load this: ${err.message}`);

  /** Append the context sections to `entry` (see questions.js), filling each as its data
   * arrives. */
  function fill(entry) {
    const { thread } = entry;
    const { assistant } = Questions.graphOf(thread);
    const path = Api.threadPath(thread.thread_id);
    const [graphBox, valuesBox, historyBox, decisionsBox] =
      [0, 1, 2, 3].map(() => h("div", { class: "loading" }, "Loading…"));
    entry.body.after(h("div", { class: "contexts" },
      section("Graph", graphBox), section("Decision log", decisionsBox),
      section("Current values", valuesBox), section("History", historyBox)));
    const put = (box, promise, show) => promise.then((data) => box.replaceWith(show(data)),
      (err) => box.replaceWith(failed(err)));
    const state = Api.call("GET", `${path}/state`);
    put(valuesBox, state, (s) => valuesTable(s.values));
    put(graphBox, assistant ? Promise.all([graphOf(assistant), state])
      : Promise.reject(new Error("the thread names no graph")),
    ([graph, s]) => GraphView.draw(graph, pausedAt(s), `Graph ${assistant}`));
    put(historyBox, Api.call("POST", `${path}/history`, { limit: HISTORY }), historyList);
    put(decisionsBox, Api.call("GET", `${path}/decisions?limit=${DECISIONS}`)
      .then((rows) => timeApprovals(entry, rows)), decisionsList);
  }

  return { fill };
})();
