// The inbox's DOM helpers, shared by every other file of the page's script (the server serves
// the files joined as one script, dom.js first; see routes/inbox.py). Everything is built from
// text nodes, never innerHTML, so a value from a graph cannot inject markup.
"use strict";

const Dom = (() => {
  let nextId = 0;

  /** A fresh element id: `${prefix}-N`. */
  const uid = (prefix) => `${prefix}-${++nextId}`;

  /** An element with attributes (on* ones become listeners) and text or element children. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (name === "class") el.className = value;
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";

  /** An SVG element with attributes and text or element children (text nodes only). */
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) el.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  /** A value as indented JSON (what JSON cannot hold, as text). */
  function pretty(value) {
    if (value === undefined) return "null";
    try {
      return JSON.stringify(value, null, 2);
    } catch (err) {
      return String(value);
    }
  }

  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

  /** A hidden alert paragraph, and a function that shows a text in it (or hides it: ""). */
  function problemLine() {
    const line = h("p", { class: "error", role: "alert", hidden: true });
    const say = (text) => {
      line.textContent = text || "";
      line.hidden = !text;
    };
    return [line, say];
  }

  return { h, isObject, pretty, problemLine, svg, uid };
})();
