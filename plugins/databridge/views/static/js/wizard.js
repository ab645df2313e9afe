// The mapping wizard: six steps that edit one mapping project (the same JSON the YAML file holds) and end by saving,
// running and monitoring it. The project object is edited in place, so every field the wizard has no control for
// (chunking, proof, attachments, source types...) is kept as it was loaded when the project is saved.

import { get } from "./api.js";
import { h, option, replace } from "./dom.js";
import * as tables from "./steps/tables.js";
import * as columns from "./steps/columns.js";
import * as preview from "./steps/preview.js";
import * as schedule from "./steps/schedule.js";
import * as validate from "./steps/validate.js";
import * as run from "./steps/run.js";
import { guardLeaving, markSaved, mayDiscard } from "./unsaved.js";
import { guardControls, readOnlyNote } from "./readonly.js";

const STEPS = [
  { name: "Tables", module: tables },
  { name: "Columns", module: columns },
  { name: "Preview", module: preview },
  { name: "Schedule", module: schedule },
  { name: "Validate", module: validate },
  { name: "Save & run", module: run },
];

// A new project starts today in its time zone (UTC until step 4 sets another): the date shown is the date saved.
export function newProject() {
  return { name: "", description: "", schedule: { timezone: "UTC", start_date: today("UTC") }, pipelines: [newPipeline("main")] };
}

// Today's date (YYYY-MM-DD) in time zone `zone`; in UTC when the browser does not know the zone.
export function today(zone) {
  const format = (timeZone) => new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  try {
    return format(zone);
  } catch {
    return format("UTC");
  }
}

export function newPipeline(name) {
  return { name, source_conn_id: "", target_conn_id: "", depends_on: [], tables: [] };
}

export async function render(root, params) {
  let connectionsError = null; // shown in step 1 instead of "no connection found"
  const [schema, connections] = await Promise.all([get("/spec/schema"), get("/connections").catch((err) => { connectionsError = err; return []; })]);
  const w = { root, schema, connections, connectionsError, project: newProject(), opened: null, pipeline: 0, pair: { table: 0, target: 0 }, step: 0, cache: new Map() };
  guardControls(root); // read-only for a role without the rights: what it may not use is disabled, with the reason
  if (params.get("project")) await openProject(w, params.get("project"));
  markSaved(w); // what "unsaved" compares with: the project as loaded (or new), then as last saved
  guardLeaving(w);
  root.addEventListener("databridge:goto", (event) => goToProblem(w, event.detail));
  draw(w);
}

// A problem's "Go to step" (dom.js problemItem): show its pipeline and pair, open its step, then focus and highlight
// its control once the step has drawn it (the Columns step reads the tables first).
export function goToProblem(w, problem) {
  if (Number.isInteger(problem.pipeline)) w.pipeline = problem.pipeline;
  if (Number.isInteger(problem.table)) w.pair = { table: problem.table, target: problem.target || 0 };
  goTo(w, problem.step - 1);
  if (problem.control) highlight(w.root, problem.control, Date.now() + 5000);
}

function highlight(root, selector, until) {
  const el = root.querySelector(selector);
  if (!el) {
    if (Date.now() < until) setTimeout(() => highlight(root, selector, until), 100);
    return;
  }
  for (const old of root.querySelectorAll(".highlight")) old.classList.remove("highlight");
  el.classList.add("highlight");
  el.scrollIntoView({ block: "center" });
  const focusable = el.matches("input, select, textarea, button") ? el : el.querySelector("input, select, textarea, button");
  (focusable || el).focus();
}

// Opens a saved project in place of the one being edited, once the person agrees to lose its unsaved changes.
export async function openProject(w, dagId) {
  if (!(await mayDiscard(w, `Opening ${dagId}`, `Discard and open ${dagId}`))) return false;
  const loaded = await get(`/projects/${encodeURIComponent(dagId)}`);
  Object.assign(w, { project: loaded.project, opened: loaded.dag_id, pipeline: 0, pair: { table: 0, target: 0 } });
  markSaved(w);
}

export function draw(w) {
  const body = h("div", { class: "step-body" });
  replace(w.root, readOnlyNote(), stepper(w), body, navigation(w));
  STEPS[w.step].module.render(w, body);
}

export function goTo(w, step) {
  w.step = Math.max(0, Math.min(STEPS.length - 1, step));
  draw(w);
  const heading = w.root.querySelector(".step-body h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

function stepper(w) {
  return h("nav", { "aria-label": "Wizard steps" }, h("ol", { class: "stepper" }, STEPS.map((s, i) =>
    h("li", {}, h("button", { type: "button", "aria-current": i === w.step ? "step" : undefined, "data-needs": "none", onclick: () => goTo(w, i) }, h("span", { class: "num" }, i + 1), s.name)))));
}

function navigation(w) {
  const back = w.step > 0 ? h("button", { type: "button", "data-needs": "none", onclick: () => goTo(w, w.step - 1) }, "← Back") : null;
  const next = w.step < STEPS.length - 1 ? h("button", { type: "button", class: "primary", "data-needs": "none", onclick: () => goTo(w, w.step + 1) }, `Next: ${STEPS[w.step + 1].name} →`) : null;
  return h("div", { class: "actions wizard-nav" }, back, next);
}

// The pipeline being edited, and a picker when the project has several.
export const currentPipeline = (w) => w.project.pipelines[Math.min(w.pipeline, w.project.pipelines.length - 1)];

export function pipelinePicker(w) {
  if (w.project.pipelines.length < 2) return null;
  const select = h("select", { id: "pipeline-picker", "data-needs": "none" }, w.project.pipelines.map((p, i) => option(String(i), p.name, String(w.pipeline))));
  select.addEventListener("change", () => {
    w.pipeline = Number(select.value);
    w.pair = { table: 0, target: 0 };
    draw(w);
  });
  return h("div", { class: "field" }, h("label", { for: select.id }, "Pipeline"), select);
}

// The spec's own help text and default for a field (from the project's JSON schema).
export function spec(w, model, fieldName) {
  const props = (w.schema.$defs[model] || {}).properties || {};
  const prop = props[fieldName];
  return prop ? { help: prop.description, default: prop.default, exists: true } : { exists: false };
}

// "shop.customers" / "\"Odd Schema\".\"Order Items\"" <-> ["shop", "customers"]
export function splitName(qualified) {
  const parts = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < qualified.length; i++) {
    const c = qualified[i];
    if (c === '"' && quoted && qualified[i + 1] === '"') { current += '"'; i++; }
    else if (c === '"') quoted = !quoted;
    else if (c === "." && !quoted) { parts.push(current); current = ""; }
    else current += c;
  }
  parts.push(current);
  return parts.length === 1 ? [null, parts[0]] : [parts.slice(0, -1).join("."), parts[parts.length - 1]];
}

export function joinName(schema, table) {
  const quote = (part) => (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(part) ? part : `"${part.replaceAll('"', '""')}"`);
  return schema ? `${quote(schema)}.${quote(table)}` : quote(table);
}

// Columns of a table, cached per connection; null when the table does not exist (a new target table).
export async function describeTable(w, connId, qualified) {
  const key = `${connId}|${qualified}`;
  if (!w.cache.has(key)) {
    const [schema, table] = splitName(qualified);
    const path = `/connections/${encodeURIComponent(connId)}/schemas/${encodeURIComponent(schema || "public")}/tables/${encodeURIComponent(table)}`;
    w.cache.set(key, get(path).catch((err) => {
      if (err.status === 404) return null;
      w.cache.delete(key);
      throw err;
    }));
  }
  return w.cache.get(key);
}
