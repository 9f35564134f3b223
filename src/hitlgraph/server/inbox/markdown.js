// A small Markdown renderer for descriptions (a tool review's, an interrupt value's), written
// for the inbox rather than taken from a library: it builds DOM nodes from text and never
// parses HTML, so "<script>" in a description shows as those characters. What it knows:
// paragraphs, # headings, - and 1. lists, > quotes, ``` code blocks, `code`, **bold**,
// *italic* / _italic_, and [links](https://...) (http, https and mailto only; any other
// target stays text). Anything else shows as written.
"use strict";

const Markdown = (() => {
  const { h } = Dom;
  const MAX_CHARS = 20_000; // beyond this a description is shown as plain text
  const MAX_NESTING = 4; // **_[...]_** and so on, deeper is text
  const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*(.+?)\*\*|__(.+?)__|\*(\S(?:.*?\S)?)\*|\b_(\S(?:.*?\S)?)_\b|\[([^\]]+)\]\(([^)\s]+)\)/;
  const SAFE_LINK = /^(https?:\/\/|mailto:)/i;

  /** The inline nodes of `text`: code, bold, italic and links; the rest as text nodes. */
  function inline(text, depth = 0) {
    const out = [];
    let rest = text;
    while (rest) {
      const m = depth < MAX_NESTING ? INLINE.exec(rest) : null;
      if (!m) {
        out.push(rest);
        break;
      }
      if (m.index > 0) out.push(rest.slice(0, m.index));
      out.push(token(m, depth));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }

  function token(m, depth) {
    if (m[1] !== undefined) return h("code", {}, m[2]);
    if (m[3] !== undefined || m[4] !== undefined) {
      return h("strong", {}, inline(m[3] ?? m[4], depth + 1));
    }
    if (m[5] !== undefined || m[6] !== undefined) {
      return h("em", {}, inline(m[5] ?? m[6], depth + 1));
    }
    const [label, target] = [m[7], m[8]];
    if (!SAFE_LINK.test(target)) return m[0];
    return h("a", { href: target, rel: "noopener noreferrer nofollow", target: "_blank" },
      inline(label, depth + 1));
  }

  // ---- blocks --------------------------------------------------------------------------------

  const FENCE = /^\s*```/;
  const HEADING = /^(#{1,6})\s+(.*)$/;
  const BULLET = /^\s*[-*+]\s+(.*)$/;
  const NUMBERED = /^\s*\d{1,9}[.)]\s+(.*)$/;
  const QUOTE = /^\s*>\s?(.*)$/;

  /** The block starting at lines[i]: [element, index after it]. */
  function block(lines, i) {
    const line = lines[i];
    if (FENCE.test(line)) {
      const code = [];
      let j = i + 1;
      while (j < lines.length && !FENCE.test(lines[j])) code.push(lines[j++]);
      return [h("pre", { class: "md-code" }, h("code", {}, code.join("\n"))), j + 1];
    }
    const heading = HEADING.exec(line);
    if (heading) {
      // Inside the detail view's own headings: # is one level below them.
      const level = Math.min(6, 3 + heading[1].length);
      return [h(`h${level}`, { class: "md-heading" }, inline(heading[2])), i + 1];
    }
    for (const [pattern, tag] of [[BULLET, "ul"], [NUMBERED, "ol"]]) {
      if (!pattern.test(line)) continue;
      const items = [];
      let j = i;
      for (let m; j < lines.length && (m = pattern.exec(lines[j])); j++) {
        items.push(h("li", {}, inline(m[1])));
      }
      return [h(tag, {}, items), j];
    }
    if (QUOTE.test(line)) {
      const quoted = [];
      let j = i;
      for (let m; j < lines.length && (m = QUOTE.exec(lines[j])); j++) quoted.push(m[1]);
      return [h("blockquote", {}, inline(quoted.join("\n"))), j];
    }
    const para = [];
    let j = i;
    while (j < lines.length && lines[j].trim() !== "" && (j === i || !startsBlock(lines[j]))) {
      para.push(lines[j++]);
    }
    return [h("p", {}, inline(para.join("\n"))), j];
  }

  const startsBlock = (line) => [FENCE, HEADING, BULLET, NUMBERED, QUOTE]
    .some((pattern) => pattern.test(line));

  /** `text` as a <div class="markdown"> of blocks. */
  function render(text) {
    const box = h("div", { class: "markdown" });
    const source = String(text);
    if (source.length > MAX_CHARS) {
      box.append(h("p", {}, source));
      return box;
    }
    const lines = source.replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    while (i < lines.length) {
      if (lines[i].trim() === "") {
        i++;
        continue;
      }
      const [element, next] = block(lines, i);
      box.append(element);
      i = next;
    }
    return box;
  }

  return { render };
})();
