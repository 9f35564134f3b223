// Who works on a question: Claim (hold it as yourself), Release (let go of it) and Reassign
// (give it to someone, or to a group), through POST /threads/{id}/interrupts/{iid}/claim,
// /release and /reassign. The server takes the reviewer from the API key, never from the page;
// someone else holding the question is its 409, shown by the page.
"use strict";

const Assign = (() => {
  const { h, problemLine, uid } = Dom;

  /** The buttons for `interrupt` (one the saver's index holds: see policy.js), or null.
   * `act(action, body)` sends one; `track` registers each control with the entry. */
  function bar(interrupt, track, act) {
    if (!Policy.of(interrupt).indexed) return null;
    const held = Policy.of(interrupt).assignee;
    const fieldId = uid("reassign");
    const [problem, say] = problemLine();
    const field = track(h("input", { id: fieldId, type: "text", spellcheck: "false",
      autocomplete: "off", placeholder: "a reviewer or a group" }));
    const form = h("form", { class: "panel reassign", hidden: true, novalidate: true },
      h("label", { for: fieldId }, "Reassign to"),
      h("div", { class: "row" }, field, track(h("button", { type: "submit", class: "primary" },
        "Reassign"))), problem);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const to = field.value.trim();
      if (!to) {
        say("Name the reviewer or group to give it to.");
        field.focus();
        return;
      }
      say("");
      act("reassign", { to });
    });
    const open = track(h("button", { type: "button", "aria-expanded": "false",
      onclick: (event) => {
        form.hidden = !form.hidden;
        event.currentTarget.setAttribute("aria-expanded", String(!form.hidden));
        if (!form.hidden) field.focus();
      } }, "Reassign…"));
    return h("div", { class: "assign" },
      h("div", { class: "row" },
        track(h("button", { type: "button", onclick: () => act("claim", {}) }, "Claim")),
        held ? track(h("button", { type: "button", onclick: () => act("release", {}) },
          "Release")) : null,
        open),
      form);
  }

  return { bar };
})();
