// The graph a thread runs, drawn as SVG in the page from GET /assistants/{id}/graph (nodes and
// edges, as LangGraph's server describes them): no layout service, no library. Nodes go in
// layers by their longest distance from __start__ (edges that loop back are drawn curving
// round the side), conditional edges dashed, and the nodes a thread is paused at marked.
"use strict";

const GraphView = (() => {
  const { h, svg } = Dom;
  const MAX_NODES = 150; // a bigger graph is listed by name instead of drawn
  const MAX_EDGES = 600;
  const ROW = 64;
  const GAP = 18;
  const BOX_H = 30;
  const CHAR_W = 7.2;
  const MARGIN = 24;
  let drawn = 0; // makes each drawing's arrowhead id unique in the page

  /** node id -> layer (longest path from the roots, back edges left out). */
  function layers(ids, edges) {
    const out = new Map();
    const next = new Map(ids.map((id) => [id, []]));
    for (const e of edges) {
      if (next.has(e.source) && next.has(e.target)) next.get(e.source).push(e.target);
    }
    // Back edges: those that close a cycle in a depth-first walk from the start.
    const state = new Map();
    const back = new Set();
    const order = ids.includes("__start__") ? ["__start__", ...ids] : ids;
    for (const root of order) {
      if (state.has(root)) continue;
      const stack = [[root, 0]];
      state.set(root, 1);
      while (stack.length) {
        const top = stack[stack.length - 1];
        const targets = next.get(top[0]);
        if (top[1] >= targets.length) {
          state.set(top[0], 2);
          stack.pop();
          continue;
        }
        const target = targets[top[1]++];
        if (state.get(target) === 1) back.add(`${top[0]}\u0000${target}`);
        else if (!state.has(target)) {
          state.set(target, 1);
          stack.push([target, 0]);
        }
      }
    }
    for (const id of ids) out.set(id, 0);
    // Longest path over the acyclic rest: at most |ids| rounds of relaxing.
    for (let round = 0; round < ids.length; round++) {
      let changed = false;
      for (const e of edges) {
        const skip = back.has(`${e.source}\u0000${e.target}`);
        if (skip || !out.has(e.source) || !out.has(e.target)) continue;
        if (out.get(e.target) < out.get(e.source) + 1) {
          out.set(e.target, out.get(e.source) + 1);
          changed = true;
        }
      }
      if (!changed) break;
    }
    return out;
  }

  /** Positions: id -> {x, y, w} (centre x, top y, width), and the drawing's size. */
  function place(nodes, layerOf) {
    const rows = new Map();
    for (const node of nodes) {
      const layer = layerOf.get(node.id);
      if (!rows.has(layer)) rows.set(layer, []);
      rows.get(layer).push(node);
    }
    const widthOf = (node) => Math.max(64, labelOf(node).length * CHAR_W + 24);
    const rowWidth = (row) => row.reduce((sum, n) => sum + widthOf(n), 0) + GAP * (row.length - 1);
    const width = Math.max(...[...rows.values()].map(rowWidth)) + 2 * MARGIN;
    const at = new Map();
    for (const [layer, row] of rows) {
      let x = (width - rowWidth(row)) / 2;
      for (const node of row) {
        const w = widthOf(node);
        at.set(node.id, { x: x + w / 2, y: MARGIN + layer * ROW, w });
        x += w + GAP;
      }
    }
    return { at, width, height: MARGIN * 2 + (Math.max(...rows.keys()) * ROW) + BOX_H };
  }

  const labelOf = (node) => {
    const name = node.data && typeof node.data === "object" && typeof node.data.name === "string"
      ? node.data.name : node.id;
    return name === "__start__" ? "start" : name === "__end__" ? "end" : String(name);
  };

  function edgePath(from, to) {
    const [x1, y1] = [from.x, from.y + BOX_H];
    const [x2, y2] = [to.x, to.y];
    if (to.y > from.y) {
      const mid = (y1 + y2) / 2;
      return `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`;
    }
    // Back up the drawing: round the right-hand side of both boxes.
    const side = Math.max(from.x + from.w / 2, to.x + to.w / 2) + 30;
    return `M${from.x + from.w / 2},${from.y + BOX_H / 2} C${side},${from.y + BOX_H / 2} `
      + `${side},${to.y + BOX_H / 2} ${to.x + to.w / 2},${to.y + BOX_H / 2}`;
  }

  /** An <svg> of `graph` ({nodes, edges}) with the nodes named in `paused` marked; or, for a
   * graph too big to draw, a list of its nodes. */
  function draw(graph, paused, title) {
    const nodes = Array.isArray(graph && graph.nodes) ? graph.nodes.filter((n) => n && n.id) : [];
    const edges = Array.isArray(graph && graph.edges) ? graph.edges.filter((e) => e) : [];
    const marked = new Set(paused);
    if (nodes.length === 0) return h("p", { class: "hint" }, "The server describes no nodes.");
    if (nodes.length > MAX_NODES || edges.length > MAX_EDGES) {
      return h("p", { class: "hint" }, `Too big to draw (${nodes.length} nodes); paused at: `
        + `${[...marked].join(", ") || "—"}.`);
    }
    const ids = nodes.map((n) => String(n.id));
    const { at, width, height } = place(nodes, layers(ids, edges));
    const arrow = `arrow-${++drawn}`;
    const where = [...marked].join(", ") || "none";
    const picture = svg("svg", {
      class: "graph-svg", viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
      "aria-label": `${title}: ${nodes.length} nodes, paused at ${where}`,
    }, svg("defs", {}, svg("marker", { id: arrow, viewBox: "0 0 10 10", refX: 9, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }))));
    for (const e of edges) {
      const from = at.get(String(e.source));
      const to = at.get(String(e.target));
      if (!from || !to) continue;
      picture.append(svg("path", { d: edgePath(from, to), "marker-end": `url(#${arrow})`,
        class: e.conditional ? "edge conditional" : "edge" }));
    }
    for (const node of nodes) {
      const p = at.get(String(node.id));
      const name = labelOf(node);
      const kind = marked.has(String(node.id)) ? "node paused"
        : node.id === "__start__" || node.id === "__end__" ? "node terminal" : "node";
      picture.append(svg("g", { class: kind, "data-node": node.id },
        svg("title", {}, marked.has(String(node.id)) ? `${name} (paused here)` : name),
        svg("rect", { x: p.x - p.w / 2, y: p.y, width: p.w, height: BOX_H, rx: 8 }),
        svg("text", { x: p.x, y: p.y + BOX_H / 2 + 4, "text-anchor": "middle" }, name)));
    }
    return picture;
  }

  return { draw };
})();
