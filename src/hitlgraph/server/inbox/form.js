// Answer forms built from an interrupt's response_schema (JSON Schema): an input per property
// (text, number, true/false, a select for an enum, a fieldset for a nested object, one line per
// item for a list of scalars, JSON for anything else), required marks and defaults. The server
// checks the answer; its 422 names each field at fault, and the form shows each error beside
// its field, keeping what was typed.
"use strict";

const SchemaForm = (() => {
  const { h, isObject, pretty, problemLine, uid } = Dom;
  const MAX_DEPTH = 4; // deeper objects are one JSON field
  const SCALARS = ["string", "number", "integer", "boolean"];

  /** `schema` with a local $ref followed (pydantic's nested models) and Optional[...]
   * (anyOf with null) unwrapped; {} when it cannot be followed. */
  function resolve(schema, root) {
    for (let hops = 0; hops < 8; hops++) {
      if (!isObject(schema)) return {};
      if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
        let target = root;
        for (const part of schema.$ref.slice(2).split("/")) {
          target = isObject(target) ? target[part] : undefined;
        }
        const { $ref, ...rest } = schema;
        schema = { ...(isObject(target) ? target : {}), ...rest };
        continue;
      }
      const listed = schema.anyOf || schema.allOf;
      const options = Array.isArray(listed)
        ? listed.filter((s) => isObject(s) && s.type !== "null") : [];
      if (options.length === 1 && schema.type === undefined) {
        const { anyOf, allOf, ...rest } = schema;
        schema = { ...rest, ...options[0] };
        continue;
      }
      return schema;
    }
    return {};
  }

  const isObjectSchema = (s) => s.type === "object" && isObject(s.properties);

  // ---- one field ---------------------------------------------------------------------------

  /** A control for one scalar, enum, list or JSON value: {control, read(), hint?}; read()
   * gives {empty} or {value} or {problem}. */
  function control(schema, root, id, track) {
    if (Array.isArray(schema.enum)) return enumControl(schema, id, track);
    if (schema.type === "boolean") {
      return enumControl({ ...schema, enum: [true, false] }, id, track);
    }
    if (schema.type === "number" || schema.type === "integer") return numberControl(schema, id, track);
    if (schema.type === "string") {
      const input = track(h("input", { id, type: "text", spellcheck: "false" }));
      if (typeof schema.default === "string") input.value = schema.default;
      return { control: input, read: () => (input.value === "" ? { empty: true }
        : { value: input.value }) };
    }
    const items = resolve(schema.items, root);
    if (schema.type === "array" && SCALARS.includes(items.type) && !items.enum) {
      return listControl(schema, items, id, track);
    }
    return jsonControl(schema, id, track);
  }

  function enumControl(schema, id, track) {
    const select = track(h("select", { id }, h("option", { value: "" }, "—"),
      schema.enum.map((v, i) => h("option", { value: String(i) },
        typeof v === "string" ? v : JSON.stringify(v)))));
    const at = schema.enum.findIndex((v) => JSON.stringify(v) === JSON.stringify(schema.default));
    if (at >= 0) select.value = String(at);
    return { control: select, read: () => (select.value === "" ? { empty: true }
      : { value: schema.enum[Number(select.value)] }) };
  }

  function numberControl(schema, id, track) {
    // type="text": what was typed stays as typed, and a typo is named rather than dropped.
    const input = track(h("input", { id, type: "text", inputmode: "decimal", spellcheck: "false" }));
    if (typeof schema.default === "number") input.value = String(schema.default);
    return {
      control: input,
      read() {
        const text = input.value.trim();
        if (text === "") return { empty: true };
        const value = Number(text);
        if (!Number.isFinite(value)) return { problem: `'${text}' is not a number.` };
        return { value };
      },
    };
  }

  function listControl(schema, items, id, track) {
    const area = track(h("textarea", { id, rows: "3", spellcheck: "false" }));
    if (Array.isArray(schema.default)) area.value = schema.default.join("\n");
    return {
      control: area,
      hint: "One item per line.",
      read() {
        const lines = area.value.split("\n").map((l) => l.trim()).filter((l) => l !== "");
        if (lines.length === 0) return { empty: true };
        if (items.type === "string") return { value: lines };
        const value = [];
        for (const line of lines) {
          try {
            value.push(JSON.parse(line));
          } catch (err) {
            return { problem: `'${line}' is not a ${items.type}.` };
          }
        }
        return { value };
      },
    };
  }

  function jsonControl(schema, id, track) {
    const area = track(h("textarea", { id, rows: "3", spellcheck: "false" }));
    if (schema.default !== undefined) area.value = pretty(schema.default);
    return {
      control: area,
      hint: "As JSON.",
      read() {
        if (area.value.trim() === "") return { empty: true };
        try {
          return { value: JSON.parse(area.value) };
        } catch (err) {
          return { problem: `That is not valid JSON: ${err.message}` };
        }
      },
    };
  }

  /** A labelled field: {path, element, read, setError, focus}. */
  function field(name, path, schema, root, required, track) {
    const id = uid("field");
    const { control: input, read, hint } = control(schema, root, id, track);
    const [problem, setError] = problemLine();
    problem.id = uid("problem");
    const hintText = [schema.description, hint].filter(Boolean).join(" ");
    const hintId = uid("hint");
    input.setAttribute("aria-describedby", hintText ? `${hintId} ${problem.id}` : problem.id);
    if (required) input.setAttribute("aria-required", "true");
    const element = h("div", { class: "field", "data-path": path.join(".") },
      h("label", { for: id }, schema.title || name || "Your answer",
        required ? h("span", { class: "required", title: "required" }, " *") : null),
      hintText ? h("p", { id: hintId, class: "hint" }, hintText) : null,
      input, problem);
    return {
      path, element, required,
      read,
      setError(text) {
        setError(text);
        if (text) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      },
      focus: () => input.focus(),
    };
  }

  // ---- a whole schema ----------------------------------------------------------------------

  /** The fields of an object schema at `path`, nested objects as fieldsets. */
  function objectFields(schema, root, path, required, depth, track, fields) {
    const needed = new Set(Array.isArray(schema.required) ? schema.required : []);
    const parts = [];
    for (const [name, raw] of Object.entries(schema.properties)) {
      const sub = resolve(raw, root);
      const at = [...path, name];
      const must = required && needed.has(name);
      if (isObjectSchema(sub) && depth < MAX_DEPTH) {
        const inner = objectFields(sub, root, at, must, depth + 1, track, fields);
        parts.push(h("fieldset", { class: "group", "data-path": at.join(".") },
          h("legend", {}, sub.title || name), ...inner));
        continue;
      }
      const one = field(name, at, sub, root, must, track);
      fields.push(one);
      parts.push(one.element);
    }
    return parts;
  }

  /** The answer built from the fields: {value} or {problems: [[field, text]]}. */
  function collect(fields, top) {
    if (!isObjectSchema(top)) {
      const got = fields[0].read();
      if (got.problem) return { problems: [[fields[0], got.problem]] };
      return { value: got.empty ? null : got.value };
    }
    const value = {};
    const problems = [];
    for (const one of fields) {
      const got = one.read();
      if (got.problem) problems.push([one, got.problem]);
      if (got.problem || got.empty) continue; // left out: the server names a missing one
      let into = value;
      for (const part of one.path.slice(0, -1)) {
        if (!isObject(into[part])) into[part] = {};
        into = into[part];
      }
      into[one.path[one.path.length - 1]] = got.value;
    }
    return problems.length ? { problems } : { value };
  }

  /** The form for `schema`: {element, collect(), showErrors(errors), clear()}; showErrors
   * puts each {path, msg} beside the deepest field its path starts with, and returns those it
   * could not place. */
  function build(schema, track) {
    const top = resolve(schema, schema);
    const fields = [];
    const element = h("div", { class: "schema-form" });
    if (isObjectSchema(top)) {
      element.append(...objectFields(top, schema, [], true, 0, track, fields));
    } else {
      const one = field(null, [], top, schema, true, track);
      fields.push(one);
      element.append(one.element);
    }
    const clear = () => fields.forEach((f) => f.setError(""));
    return {
      element,
      clear,
      collect: () => collect(fields, top),
      showErrors(errors) {
        clear();
        const unplaced = [];
        const found = new Map();
        for (const error of errors) {
          const owner = placeOf(fields, error.path);
          if (!owner) unplaced.push(error);
          else found.set(owner, [...(found.get(owner) || []), error.msg]);
        }
        for (const [owner, messages] of found) owner.setError(messages.join(" "));
        const first = fields.find((f) => found.has(f));
        if (first) first.focus();
        return unplaced;
      },
    };
  }

  function placeOf(fields, path) {
    let best = null;
    for (const one of fields) {
      const p = one.path;
      const starts = p.length <= path.length && p.every((part, i) => String(path[i]) === part);
      if (starts && (!best || p.length > best.path.length)) best = one;
    }
    return best && (best.path.length > 0 || fields.length === 1) ? best : null;
  }

  // ---- the server's 422 ----------------------------------------------------------------------

  /** The field errors a 422 detail names for the answer to interrupt `iid`:
   * [{path: [...], msg}], or null when it names none. The server writes them as
   * "command.resume.<iid>.<path>: <msg>" joined by "; ". A missing property is reported on its
   * object ("'amount' is a required property"): it goes to the property. */
  function errorsFromDetail(detail, iid) {
    const head = `command.resume.${iid}`;
    const text = String(detail).replace(/^Invalid request body: /, "");
    const start = text.indexOf(head);
    if (start < 0) return null;
    const errors = [];
    for (const entry of text.slice(start).split(/; (?=command\.resume[.:])/)) {
      if (!entry.startsWith(head)) continue;
      const rest = entry.slice(head.length);
      const colon = rest.indexOf(": ");
      if (colon < 0) continue;
      const path = rest.slice(0, colon).split(".").filter((p) => p !== "");
      let msg = rest.slice(colon + 2);
      const cut = msg.indexOf(". The answer does not match the response_schema");
      if (cut >= 0) msg = msg.slice(0, cut);
      const missing = /^'([^']+)' is a required property$/.exec(msg);
      errors.push({ path: missing ? [...path, missing[1]] : path, msg });
    }
    return errors.length ? errors : null;
  }

  return { build, errorsFromDetail };
})();
