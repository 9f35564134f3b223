// Keyboard shortcuts: j / k next and previous thread, a approve, r reject, / filter, ? help.
// They act only when no text field has the focus (so typing an answer never triggers one) and
// no modifier key is held (the browser's own shortcuts stay).
"use strict";

const Keys = (() => {
  const TYPING = "input, textarea, select, [contenteditable]";

  /** The detail view's one button marked `key` (reviews.js marks approve and reject), or a
   * reason there is none. */
  function button(key) {
    const found = [...document.querySelectorAll(`#detail [data-key="${key}"]`)]
      .filter((b) => !b.disabled);
    if (found.length === 1) return found[0];
    return found.length === 0
      ? `Nothing to ${key} here: ${key === "approve" ? "a" : "r"} works on tool-call reviews.`
      : `Several requests wait here: choose an answer for each with its own buttons.`;
  }

  /** Listen for the shortcuts: `move(step)`, `filter()` and `showNotice(text)` come from
   * the page (app.js). */
  function install({ move, filter, showNotice }) {
    const help = document.getElementById("help");
    document.getElementById("help-open").addEventListener("click", () => help.showModal());
    document.getElementById("help-close").addEventListener("click", () => help.close());
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (event.target instanceof Element && event.target.closest(TYPING)) return;
      if (help.open || !document.querySelector("#key-form[hidden]")) return;
      const act = {
        j: () => move(1),
        k: () => move(-1),
        "/": filter,
        "?": () => help.showModal(),
        a: () => press("approve", showNotice),
        r: () => press("reject", showNotice),
      }[event.key];
      if (!act) return;
      event.preventDefault();
      act();
    });
  }

  function press(key, showNotice) {
    const found = button(key);
    if (typeof found === "string") showNotice(found);
    else found.click();
  }

  return { install };
})();
