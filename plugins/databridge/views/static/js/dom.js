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

// An API failure as a readable message, with the problems the server listed: in the wizard's words, each with a
// button to the step that fixes it, when the server placed them (views/problems.py); else path: message.
export function errorMessage(err) {
  const problems = (err && err.problems) || [];
  if (problems.some((p) => p.fix)) return message("error", problems.length === 1 ? "One problem to fix:" : `${problems.length} problems to fix:`, problems.map(problemItem));
  return message("error", explain(err), problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)));
}

// One problem: where it is, what to do, and "Go to step N" (the wizard, listening on its root, goes there and
// highlights the control: wizard.js goToProblem).
export function problemItem(p) {
  if (!p.fix) return p.path ? `${p.path}: ${p.message}` : p.message;
  const go = p.step ? h("button", { type: "button", class: "small secondary go-to-step", "data-step": p.step }, `Go to step ${p.step} (${p.step_name})`) : null;
  if (go) go.addEventListener("click", () => go.dispatchEvent(new CustomEvent("databridge:goto", { bubbles: true, detail: p })));
  return h("span", { class: "problem" }, p.where ? h("strong", {}, `${capital(p.where)}: `) : null, p.fix, go ? " " : null, go);
}

const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

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

// The one number format of every page: counts and rates as whole numbers grouped by thousands ("109,057"), durations
// in seconds under a minute ("4.2 s", "38 s") and in minutes (and hours) above ("2 min 5 s", "1 h 4 min").
const GROUPED = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const missing = (n) => n === null || n === undefined || n === "" || Number.isNaN(Number(n));

export const fmt = (n) => (missing(n) ? "—" : GROUPED.format(Math.round(Number(n))));

export function duration(seconds) {
  if (missing(seconds)) return "—";
  const s = Number(seconds);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(s / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(s % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// Asks before something that cannot be undone, in the page itself: Airflow's iframe is sandboxed without
// allow-modals, so the browser's confirm() would answer "no" without showing anything. Resolves true or false.
export function confirmChoice({ title, text, yes, no = "Keep it", danger = true }) {
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": uid("confirm") });
  const heading = h("h2", { id: dialog.getAttribute("aria-labelledby") }, title);
  const keep = h("button", { type: "button", value: "no" }, no);
  const go = h("button", { type: "button", class: danger ? "danger" : "primary", value: "yes" }, yes);
  replace(dialog, heading, h("p", {}, text), h("div", { class: "actions" }, go, keep));
  document.body.append(dialog);
  return new Promise((resolve) => {
    const close = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    go.addEventListener("click", () => close(true));
    keep.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(false); }); // Escape
    dialog.showModal();
    keep.focus(); // the safe answer under Enter
  });
}

export function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label ?? value);
}
