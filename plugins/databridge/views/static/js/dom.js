// A few helpers to build the pages without a framework: elements, messages, tables, and a debounce.

import { explain } from "./api.js";

// h("button", {class: "primary", onclick: fn, "aria-pressed": "false"}, "Map") -> HTMLButtonElement
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else if (key === "checked" || key === "disabled" || key === "selected") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
export const uid = (prefix = "f") => `${prefix}-${++ids}`;

// A labelled form field; `control` is the input/select, `help` the spec's own description of the field.
export function field(label, control, help) {
  if (!control.id) control.id = uid();
  const helpEl = help ? h("p", { class: "help", id: `${control.id}-help` }, help) : null;
  if (helpEl) control.setAttribute("aria-describedby", helpEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, helpEl);
}

export function message(kind, text, items = []) {
  const role = kind === "error" ? "alert" : "status";
  return h("div", { class: `message ${kind}`, role }, text, items.length ? h("ul", {}, items.map((i) => h("li", {}, i))) : null);
}

// An API failure as a readable message, with the problems the server listed (path: message).
export function errorMessage(err) {
  const problems = (err && err.problems) || [];
  return message("error", explain(err), problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)));
}

// Run `work` with `button` disabled and its label changed; errors land in `out` (or are rethrown).
export async function busy(button, label, work, out) {
  const before = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } catch (err) {
    if (!out) throw err;
    replace(out, errorMessage(err));
    return undefined;
  } finally {
    // Unless the work redrew the button itself (a new label or state), give it back its label.
    if (button.textContent === label) {
      button.disabled = false;
      button.textContent = before;
    }
  }
}

export function dataTable(columns, rows, { caption, numeric = [], headClass = {} } = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: [numeric.includes(c) ? "num" : "", headClass[c] || ""].join(" ").trim() || undefined }, c)));
  const body = rows.map((row) =>
    h("tr", {}, row.map((cell, i) => {
      if (cell instanceof Node || Array.isArray(cell)) return h("td", {}, cell);
      const empty = cell === null || cell === undefined;
      return h("td", { class: empty ? "null" : numeric.includes(columns[i]) ? "num" : undefined }, empty ? "NULL" : String(cell));
    })),
  );
  return h("div", { class: "scroll" }, h("table", { class: "data" }, caption ? h("caption", { class: "sr-only" }, caption) : null, h("thead", {}, head), h("tbody", {}, body)));
}

export function badge(state, label) {
  const text = state || "none";
  return h("span", { class: `badge ${text}` }, label ?? text);
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export const fmt = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"));

export function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label ?? value);
}
