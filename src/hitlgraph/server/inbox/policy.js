// What an interrupt's review policy says about it: the page attaches to each interrupt its
// record in the saver's index of open interrupts (GET /inbox/pending, as `review`): the policy
// interrupt(..., expires_in=, assignee=, group=, approvals=) asked, the deadline, the current
// assignee. Without a record (a saver without the index) nothing is shown. Used by the list
// (badges, filters, the order) and the detail view (the facts beside each question).
"use strict";

const Policy = (() => {
  const { h, isObject } = Dom;

  const text = (v) => (typeof v === "string" && v ? v : null);

  /** The approvals a k-of-n interrupt has so far: the principals its index record counts
   * (`approvals_given`, written with each answer), oldest first, each with the time of its
   * answer when `logged` (the interrupt's "answered" decision log rows) has it. */
  function givenOf(review, logged) {
    const names = Array.isArray(review.approvals_given) ? review.approvals_given : [];
    return names.filter((n) => typeof n === "string").map((by) => {
      const row = logged.find((r) => isObject(r) && r.by === by && text(r.at));
      return { by, at: row ? row.at : null };
    });
  }

  /** {deadline (ms or null), overdue, assignee, group, needed, given, onExpire, indexed};
   * `logged` is the interrupt's "answered" decision log rows, newest first (for the times of
   * the approvals). */
  function of(interrupt, logged = []) {
    const review = isObject(interrupt.review) ? interrupt.review : {};
    const asked = isObject(review.policy) ? review.policy : {};
    const deadline = Date.parse(review.expires_at);
    return {
      deadline: Number.isFinite(deadline) ? deadline : null,
      overdue: Number.isFinite(deadline) && deadline <= Date.now(),
      assignee: text(review.assignee),
      group: text(review.group),
      needed: Number.isInteger(review.approvals) ? review.approvals : 1,
      given: givenOf(review, logged),
      onExpire: isObject(asked.on_expire) ? asked.on_expire : null,
      indexed: isObject(interrupt.review),
    };
  }

  /** The policies of a thread's interrupts, summed up for its row in the list: the earliest
   * deadline, whether any is overdue, every assignee and group named, and the approvals
   * each k-of-n question needs. */
  function ofThread(interrupts) {
    const all = interrupts.map((i) => of(i));
    const deadlines = all.map((p) => p.deadline).filter((d) => d !== null);
    return {
      deadline: deadlines.length ? Math.min(...deadlines) : null,
      overdue: all.some((p) => p.overdue),
      assignees: [...new Set(all.map((p) => p.assignee).filter(Boolean))],
      groups: [...new Set(all.map((p) => p.group).filter(Boolean))],
      approvals: all.map((p) => p.needed).filter((n) => n > 1),
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

  /** "1 of 2 (alice)": each name titled with when it approved, where the log says. */
  function approvalsText(p) {
    const names = p.given.map((g) => h("span", {
      class: "approver", title: g.at ? `approved ${new Date(g.at).toLocaleString()}` : null,
    }, g.by));
    const who = names.flatMap((name, i) => (i ? [", ", name] : [name]));
    return [`${p.given.length} of ${p.needed}`, ...(who.length ? [" (", ...who, ")"] : [])];
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
    else if (p.group) rows.push(["Assignee", "nobody yet"]);
    if (p.group) rows.push(["Group", p.group]);
    if (p.needed > 1) rows.push(["Approvals", approvalsText(p)]);
    if (rows.length === 0) return null;
    return h("dl", { class: "facts" }, rows.flatMap(([term, value]) => [h("dt", {}, term),
      h("dd", { "data-fact": term.toLowerCase() }, value)]));
  }

  return { facts, of, ofThread, relative };
})();
