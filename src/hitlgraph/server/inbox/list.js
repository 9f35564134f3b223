// The list of waiting threads: their order (the nearest deadline first, then the newest), the
// filters (text, graph, assignee, group, overdue) and one row per thread. Rows hold nothing a
// reviewer types, so the list is drawn again from the data each time it changes.
"use strict";

const ListView = (() => {
  const { h, isObject } = Dom;
  const { interruptsOf, graphOf, timeAgo } = Questions;
  const NOBODY = " nobody"; // the "not assigned" choice: principals never start with a space

  const policyOf = (thread) => Policy.ofThread(interruptsOf(thread));

  /** Threads by deadline (soonest first; none last), then the most recently stopped first. */
  function sorted(threads) {
    const keyed = threads.map((t) => [policyOf(t).deadline ?? Infinity, String(t.updated_at), t]);
    keyed.sort((a, b) => (a[0] - b[0]) || b[1].localeCompare(a[1]));
    return keyed.map((k) => k[2]);
  }

  /** What the thread asks, in one line. */
  function summaryOf(thread) {
    const interrupts = interruptsOf(thread);
    if (interrupts.length === 0) return "Paused at a breakpoint";
    const value = interrupts[0].value;
    const more = interrupts.length > 1 ? ` (+${interrupts.length - 1} more)` : "";
    const review = Reviews.requestOf(value);
    let text;
    if (review) text = `Review: ${review.items.map((i) => i.action).join(", ")}`;
    else if (typeof value === "string") text = value;
    else if (isObject(value) && typeof value.question === "string") text = value.question;
    else if (isObject(value) && typeof value.description === "string") text = value.description;
    else text = JSON.stringify(value) ?? "null";
    return (text.length > 140 ? `${text.slice(0, 139)}…` : text) + more;
  }

  function haystack(thread) {
    return [thread.thread_id, graphOf(thread).graph || "", summaryOf(thread),
      JSON.stringify(interruptsOf(thread).map((i) => i.value))].join("\n").toLowerCase();
  }

  /** Whether `thread` passes the filters {text, graph, assignee, group, overdue}. */
  function matches(thread, f) {
    const p = policyOf(thread);
    if (f.graph && graphOf(thread).graph !== f.graph) return false;
    if (f.assignee === NOBODY ? p.assignees.length > 0
      : f.assignee && !p.assignees.includes(f.assignee)) return false;
    if (f.group && !p.groups.includes(f.group)) return false;
    if (f.overdue && !p.overdue) return false;
    return !f.text || haystack(thread).includes(f.text.toLowerCase());
  }

  /** Refill `select` with "all" (its first option), `extra` options, and `names`, keeping
   * the choice (offered still when no thread has it any more, so the list stays filtered). */
  function options(select, names, extra = []) {
    const keep = select.value;
    const first = select.options[0];
    if (keep && !extra.some(([value]) => value === keep)) names.add(keep);
    select.replaceChildren(first, ...extra.map(([value, label]) => h("option", { value }, label)),
      ...[...names].sort().map((n) => h("option", { value: n }, n)));
    select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
  }

  function badges(thread) {
    const p = policyOf(thread);
    const out = [];
    if (thread.status === "error") out.push(h("span", { class: "badge" }, "last answer failed"));
    if (p.deadline !== null) {
      out.push(h("span", { class: p.overdue ? "badge overdue" : "badge due" },
        `${p.overdue ? "overdue" : "due"} ${Policy.relative(p.deadline)}`));
    }
    for (const name of p.assignees) out.push(h("span", { class: "badge who" }, `@${name}`));
    for (const name of p.groups) out.push(h("span", { class: "badge who" }, `group ${name}`));
    for (const needed of p.approvals) {
      out.push(h("span", { class: "badge" }, `needs ${needed} approvals`));
    }
    return out;
  }

  /** The row of `thread`; `pick(threadId)` is called when it is chosen. */
  function row(thread, selected, pick) {
    const { graph } = graphOf(thread);
    return h("li", { class: "row", "data-thread-id": thread.thread_id },
      h("button", { type: "button", class: "pick", "aria-current": selected ? "true" : false,
        onclick: () => pick(thread.thread_id) },
      h("span", { class: "row-top" }, h("span", { class: "graph" }, graph || "unknown graph"),
        h("span", { class: "when" }, thread.updated_at ? timeAgo(thread.updated_at) : "")),
      h("span", { class: "row-ask" }, summaryOf(thread)),
      h("span", { class: "row-meta" }, h("code", { class: "thread-id" }, thread.thread_id),
        ...badges(thread))));
  }

  /** The filter choices offered: the graphs, assignees and groups of `threads`. */
  function offer(controls, threads) {
    const graphs = new Set();
    const assignees = new Set();
    const groups = new Set();
    for (const t of threads) {
      const p = policyOf(t);
      if (graphOf(t).graph) graphs.add(graphOf(t).graph);
      p.assignees.forEach((a) => assignees.add(a));
      p.groups.forEach((g) => groups.add(g));
    }
    options(controls.graph, graphs);
    options(controls.assignee, assignees, [[NOBODY, "Nobody"]]);
    options(controls.group, groups);
  }

  return { matches, offer, row, sorted };
})();
