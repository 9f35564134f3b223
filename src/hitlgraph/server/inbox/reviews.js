// Tool-call reviews in the three shapes a graph may ask in, each with its own buttons, and
// each answered in the shape it asked in (see hitlgraph/prebuilt/_review_shapes.py):
//   hitlgraph's own  {type: "tool_review", tool, args, description, allowed: [...]}
//                    -> {type: "accept" | "ignore"}, {type: "edit", args},
//                       {type: "respond", content}
//   Agent Inbox's    a HumanInterrupt {action_request: {action, args}, config: {allow_*},
//                    description}, or a list of them
//                    -> a HumanResponse {type: "accept" | "ignore", args: null},
//                       {type: "edit", args: {action, args}}, {type: "response", args: text}
//                       (a list of them for a list)
//   LangChain's HITL {action_requests: [{name, args, description}],
//                    review_configs: [{action_name, allowed_decisions}]}
//                    -> {decisions: [...]} in the same order, each {type: "approve"},
//                       {type: "edit", edited_action: {name, args}},
//                       {type: "reject", message?} or {type: "respond", message}
"use strict";

const Reviews = (() => {
  const { h, isObject, pretty, problemLine, uid } = Dom;

  // A decision the buttons make, before it is put in a shape: {kind, args?, text?}.
  // kind: accept | edit | respond | ignore | reject (LangChain's, with an optional message).
  const AGENT_INBOX = [
    ["accept", "allow_accept", "Accept"], ["edit", "allow_edit", "Edit"],
    ["respond", "allow_respond", "Respond"], ["ignore", "allow_ignore", "Ignore"],
  ];
  const LANGCHAIN = { approve: ["accept", "Approve"], edit: ["edit", "Edit"],
    reject: ["reject", "Reject"], respond: ["respond", "Respond"] };
  const OWN = { accept: "Accept", edit: "Edit", respond: "Respond", ignore: "Ignore" };

  // ---- recognising a request ---------------------------------------------------------------

  function isHumanInterrupt(v) {
    return isObject(v) && isObject(v.action_request)
      && typeof v.action_request.action === "string" && isObject(v.config)
      && AGENT_INBOX.some(([, flag]) => v.config[flag] === true);
  }

  function agentInbox(value) {
    const list = Array.isArray(value);
    const items = list ? value : [value];
    if (items.length === 0 || !items.every(isHumanInterrupt)) return null;
    return {
      items: items.map((r) => ({
        action: r.action_request.action, args: r.action_request.args,
        description: r.description,
        options: AGENT_INBOX.filter(([, flag]) => r.config[flag] === true)
          .map(([kind, , label]) => [kind, label]),
      })),
      encode(decisions) {
        const out = decisions.map((d, i) => ({
          accept: { type: "accept", args: null },
          ignore: { type: "ignore", args: null },
          respond: { type: "response", args: d.text },
          edit: { type: "edit", args: { action: items[i].action_request.action, args: d.args } },
        })[d.kind]);
        return list ? out : out[0];
      },
    };
  }

  function langChain(value) {
    if (!isObject(value) || !Array.isArray(value.action_requests)
        || !Array.isArray(value.review_configs) || value.action_requests.length === 0) return null;
    const requests = value.action_requests;
    if (!requests.every((r) => isObject(r) && typeof r.name === "string")) return null;
    const configs = new Map(value.review_configs.filter(isObject)
      .map((c) => [c.action_name, c.allowed_decisions]));
    const items = requests.map((r) => {
      const allowed = Array.isArray(configs.get(r.name)) ? configs.get(r.name)
        : ["approve", "edit", "reject"];
      return { action: r.name, args: r.args, description: r.description,
        options: allowed.filter((d) => d in LANGCHAIN).map((d) => LANGCHAIN[d]) };
    });
    if (items.some((i) => i.options.length === 0)) return null;
    return {
      items,
      encode: (decisions) => ({ decisions: decisions.map((d, i) => ({
        accept: () => ({ type: "approve" }),
        edit: () => ({ type: "edit", edited_action: { name: requests[i].name, args: d.args } }),
        reject: () => (d.text ? { type: "reject", message: d.text } : { type: "reject" }),
        respond: () => ({ type: "respond", message: d.text }),
      })[d.kind]()) }),
    };
  }

  function own(value) {
    if (!isObject(value) || value.type !== "tool_review" || typeof value.tool !== "string"
        || !Array.isArray(value.allowed)) return null;
    const options = Object.entries(OWN).filter(([kind]) => value.allowed.includes(kind));
    if (options.length === 0) return null;
    return {
      items: [{ action: value.tool, args: value.args, description: value.description, options }],
      encode: ([d]) => ({
        accept: { type: "accept" }, ignore: { type: "ignore" },
        edit: { type: "edit", args: d.args }, respond: { type: "respond", content: d.text },
      })[d.kind],
    };
  }

  /** {items, encode(decisions)} when `value` is a review request in one of the shapes. */
  const requestOf = (value) => agentInbox(value) || langChain(value) || own(value);

  // ---- showing one ---------------------------------------------------------------------------

  /** Buttons for each request of `review`; `send(answer)` gets the answer in the request's
   * shape. Several requests are decided one by one, then sent together. */
  function render(review, track, send) {
    const { items } = review;
    const several = items.length > 1;
    const decisions = new Array(items.length).fill(undefined);
    const section = h("div", { class: "reviews" });
    const sendAll = several ? track(h("button", {
      type: "button", class: "primary", "data-locked": "1", disabled: true,
      onclick: () => send(review.encode(decisions)),
    }, `Send ${items.length} answers`)) : null;
    items.forEach((item, index) => {
      section.append(requestBlock(item, track, several, (decision, show) => {
        if (!several) {
          send(review.encode([decision]));
          return;
        }
        decisions[index] = decision;
        show(decision);
        const ready = decisions.every((d) => d !== undefined);
        sendAll.dataset.locked = ready ? "0" : "1";
        sendAll.disabled = !ready;
      }));
    });
    if (several) {
      section.append(h("div", { class: "row send-all" },
        h("p", { class: "hint" }, "Choose an answer for each request, then send them together."),
        sendAll));
    }
    return section;
  }

  /** A tool call's arguments as a table of name and value (text, or JSON for a list or an
   * object); arguments that are not an object, as JSON. */
  function argsTable(args, label) {
    if (!isObject(args) || Object.keys(args).length === 0) {
      return h("pre", { class: "value", tabindex: "0", "aria-label": label }, pretty(args));
    }
    return h("table", { class: "args", "aria-label": label },
      h("tbody", {}, Object.entries(args).map(([name, value]) => h("tr", {},
        h("th", { scope: "row" }, name),
        h("td", {}, typeof value === "string" ? value
          : value !== null && typeof value === "object"
            ? h("pre", { class: "value" }, pretty(value)) : pretty(value))))));
  }

  function describe(decision) {
    if (decision.kind === "edit") return `edit ${JSON.stringify(decision.args)}`;
    if (decision.text) return `${decision.kind} “${decision.text}”`;
    return decision.kind;
  }

  function requestBlock(item, track, several, decide) {
    const args = item.args === undefined ? {} : item.args;
    const block = h("div", { class: "request", role: "group",
      "aria-label": `Request: ${item.action}` });
    block.append(h("h3", { class: "action" }, item.action));
    if (typeof item.description === "string" && item.description) {
      const description = Markdown.render(item.description);
      description.classList.add("description");
      block.append(description);
    }
    block.append(argsTable(args, `Arguments of ${item.action}`));
    const chosen = h("p", { class: "chosen", role: "status", hidden: true });
    const panels = [];
    const buttons = h("div", { class: "row actions" });
    const closePanels = () => {
      panels.forEach((p) => { p.hidden = true; });
      for (const b of buttons.querySelectorAll("[aria-expanded]")) {
        b.setAttribute("aria-expanded", "false");
      }
    };
    const choose = (decision) => decide(decision, () => {
      chosen.textContent = `Your answer: ${describe(decision)}`;
      chosen.hidden = false;
      closePanels();
    });
    // The keyboard's a and r (app.js) press the buttons marked approve and reject.
    const rejecting = item.options.some(([kind]) => kind === "reject") ? "reject" : "ignore";
    const keyOf = (kind) => (kind === "accept" ? "approve" : kind === rejecting ? "reject" : null);
    for (const [kind, label] of item.options) {
      if (kind === "accept" || kind === "ignore") {
        buttons.append(track(h("button", { type: "button", class: kind === "accept" ? "primary"
          : "", "data-key": keyOf(kind), onclick: () => choose({ kind }) }, label)));
        continue;
      }
      const panel = kind === "edit" ? editPanel(item.action, args, track, several, choose)
        : textPanel(kind, track, several, choose);
      panels.push(panel);
      buttons.append(track(h("button", {
        type: "button", "aria-expanded": "false", "data-key": keyOf(kind),
        onclick: (event) => {
          const opening = panel.hidden;
          closePanels();
          panel.hidden = !opening;
          event.currentTarget.setAttribute("aria-expanded", String(opening));
          if (opening) panel.querySelector("textarea").focus();
        },
      }, label)));
    }
    block.append(buttons, ...panels);
    if (several) block.append(chosen);
    return block;
  }

  function panelForm(label, field, submitText, onSubmit) {
    const [problem, say] = problemLine();
    const fieldId = uid("panel");
    field.id = fieldId;
    const form = h("form", { class: "panel", hidden: true, novalidate: true },
      h("label", { for: fieldId }, label), field, problem,
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, submitText)));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const refusal = onSubmit();
      say(refusal || "");
      if (refusal) field.focus();
    });
    return form;
  }

  function editPanel(action, args, track, several, choose) {
    const field = track(h("textarea", { rows: "6", spellcheck: "false" }));
    field.value = pretty(args);
    const form = panelForm(`Arguments of ${action} (JSON)`, field,
      several ? "Use edited arguments" : "Send edited arguments", () => {
        let edited;
        try {
          edited = JSON.parse(field.value);
        } catch (err) {
          return `That is not valid JSON: ${err.message}`;
        }
        if (!isObject(edited)) {
          return "The arguments must be a JSON object, like {\"key\": \"value\"}.";
        }
        choose({ kind: "edit", args: edited });
        return null;
      });
    track(form.querySelector("button"));
    return form;
  }

  function textPanel(kind, track, several, choose) {
    const optional = kind === "reject";
    const field = track(h("textarea", { rows: "3" }));
    const label = optional ? "Message to the model (optional)" : "Response";
    const verb = optional ? "rejection" : "response";
    const form = panelForm(label, field, several ? `Use ${verb}` : `Send ${verb}`, () => {
      const text = field.value.trim();
      if (!text && !optional) return "Write a response first.";
      choose(text ? { kind, text: field.value } : { kind });
      return null;
    });
    track(form.querySelector("button"));
    return form;
  }

  return { argsTable, render, requestOf };
})();
