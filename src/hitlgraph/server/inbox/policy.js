// What an interrupt's review policy says about it, read from the interrupt as the server lists
// it (its `policy`, as interrupt(..., expires_in=, assignee=, group=, approvals=) asked, and
// what the pending index adds: the deadline, the current assignee, the answers so far). A
// field the server does not send is simply not shown. Used by the list (badges, filters, the
// order) and the detail view (the facts beside each question).
"use strict";

const Policy = (() => {
  const { h, isObject } = Dom;

  const text = (v) => (typeof v === "string" && v ? v : null);

  /** {deadline (ms or null), overdue, assignee, group, needed, given: [{by, at}]}; the
   * answers given so far are the interrupt's own list, else `logged` (its decision log rows:
   * while a k-of-n interrupt is open, each row for it is one approval). */
  function of(interrupt, logged = []) {
    const asked = isObject(interrupt.policy) ? interrupt.policy : {};
    const deadline = Date.parse(interrupt.expires_at);
    const given = [interrupt.approvals, interrupt.decisions].find(Array.isArray) || logged;
    return {
      deadline: Number.isFinite(deadline) ? deadline : null,
      overdue: Number.isFinite(deadline) && deadline <= Date.now(),
      assignee: "assignee" in interrupt ? text(interrupt.assignee) : text(asked.assignee),
      group: "group" in interrupt ? text(interrupt.group) : text(asked.group),
      needed: Number.isInteger(asked.approvals) ? asked.approvals : 1,
      given: given.filter(isObject),
      onExpire: isObject(asked.on_expire) ? asked.on_expire : null,
    };
  }

  /** The policies of a thread's interrupts, summed up for its row in the list: the earliest
   * deadline, whether any is overdue, and every assignee and group named. */
  function ofThread(interrupts) {
    const all = interrupts.map((i) => of(i));
    const deadlines = all.map((p) => p.deadline).filter((d) => d !== null);
    return {
      deadline: deadlines.length ? Math.min(...deadlines) : null,
      overdue: all.some((p) => p.overdue),
      assignees: [...new Set(all.map((p) => p.assignee).filter(Boolean))],
      groups: [...new Set(all.map((p) => p.group).filter(Boolean))],
      approvals: all.filter((p) => p.needed > 1).map((p) => [p.given.length, p.needed]),
    };
  }

  /** "in 5 min", "3 h ago": how far `ms` is from now. */
  function relative(ms) {
    const seconds = Math.round((ms - Date.now()) / 1000);
    const size = Math.abs(seconds);
    const [n, unit] = size < 90 ? [size, "s"] : size < 5400 ? [Math.round(size / 60), "min"]
      : size < 129600 ? [Math.round(size / 3600), "h"] : [Math.round(size / 86400), "days"];
    return seconds >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
  }

  function onExpireText(rule) {
    if (!rule) return null;
    if (rule.kind === "answer") return `then answered with ${JSON.stringify(rule.value)}`;
    if (rule.kind === "cancel") return "then the run is cancelled";
    if (rule.kind === "escalate") return `then it goes to ${rule.to}`;
    return null;
  }

  /** A <dl> of what the policy says (deadline, assignee, group, approvals), or null. */
  function facts(interrupt, logged) {
    const p = of(interrupt, logged);
    const rows = [];
    if (p.deadline !== null) {
      const when = new Date(p.deadline);
      rows.push(["Deadline", h("span", { class: p.overdue ? "overdue" : "" },
        h("time", { datetime: when.toISOString() }, when.toLocaleString()),
        ` (${p.overdue ? "overdue, " : ""}${relative(p.deadline)})`,
        onExpireText(p.onExpire) ? `, ${onExpireText(p.onExpire)}` : "")]);
    }
    if (p.assignee) rows.push(["Assignee", p.assignee]);
    else if (p.group || "assignee" in interrupt) rows.push(["Assignee", "nobody yet"]);
    if (p.group) rows.push(["Group", p.group]);
    if (p.needed > 1) {
      const who = p.given.map((g) => text(g.by) || "someone").join(", ");
      rows.push(["Approvals", `${p.given.length} of ${p.needed}${who ? ` (${who})` : ""}`]);
    }
    if (rows.length === 0) return null;
    return h("dl", { class: "facts" }, rows.map(([term, value]) => [h("dt", {}, term),
      h("dd", { "data-fact": term.toLowerCase() }, value)]));
  }

  return { facts, of, ofThread, relative };
})();
