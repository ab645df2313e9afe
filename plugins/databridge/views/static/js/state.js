// What the wizard and its steps share: the list of steps (their order gives their numbers), moving between them, the
// project being edited (new, opened, the pipeline shown), the spec's help texts, and table names and descriptions.
// The steps import this module, wizard.js imports the steps: no step imports wizard.js, so nothing imports in a cycle.

import { get } from "./api.js";
import { h, option } from "./dom.js";
import { markSaved, mayDiscard } from "./unsaved.js";

// The steps in order (wizard.js gives each its module): `name` on the stepper and the Next button, `title` on the
// step's heading after its number.
export const STEPS = [
  { key: "tables", name: "Tables", title: "Tables" },
  { key: "columns", name: "Columns", title: "Columns" },
  { key: "preview", name: "Preview", title: "Preview" },
  { key: "schedule", name: "Schedule", title: "Schedule & dependencies" },
  { key: "validate", name: "Validate", title: "Validate" },
  { key: "run", name: "Save & run", title: "Save, run & monitor" },
];

// A step's number as the stepper shows it (1-based).
export function stepNumber(key) {
  const index = STEPS.findIndex((s) => s.key === key);
  if (index < 0) throw new Error(`no wizard step ${key}`);
  return index + 1;
}

// A step's heading: "<number>. <title>".
export function heading(key) {
  return h("h2", {}, `${stepNumber(key)}. ${STEPS[stepNumber(key) - 1].title}`);
}

// How the wizard draws itself: set once by wizard.js (which knows the step modules), so a step redraws the wizard
// without importing it.
let drawWizard = () => { throw new Error("the wizard is not drawn yet"); };
export function setDrawer(drawer) {
  drawWizard = drawer;
}

export function draw(w) {
  drawWizard(w);
}

export function goTo(w, step) {
  w.step = Math.max(0, Math.min(STEPS.length - 1, step));
  draw(w);
  const title = w.root.querySelector(".step-body h2");
  if (title) {
    title.setAttribute("tabindex", "-1");
    title.focus();
  }
}

// A new project starts today in its time zone (UTC until the Schedule step sets another): the date shown is the
// date saved.
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

// Opens a saved project in place of the one being edited, once the person agrees to lose its unsaved changes.
export async function openProject(w, dagId) {
  if (!(await mayDiscard(w, `Opening ${dagId}`, `Discard and open ${dagId}`))) return false;
  const loaded = await get(`/projects/${encodeURIComponent(dagId)}`);
  Object.assign(w, { project: loaded.project, opened: loaded.dag_id, pipeline: 0, pair: { table: 0, target: 0 } });
  markSaved(w);
  return true;
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
