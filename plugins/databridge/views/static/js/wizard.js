// The mapping wizard: six steps that edit one mapping project (the same JSON the YAML file holds) and end by saving,
// running and monitoring it. The project object is edited in place, so every field the wizard has no control for
// (chunking, proof, attachments, source types...) is kept as it was loaded when the project is saved.

import { get } from "./api.js";
import { h, replace } from "./dom.js";
import { STEPS, draw, goTo, newProject, openProject, setDrawer } from "./state.js";
import * as tables from "./steps/tables.js";
import * as columns from "./steps/columns.js";
import * as preview from "./steps/preview.js";
import * as schedule from "./steps/schedule.js";
import * as validate from "./steps/validate.js";
import * as run from "./steps/run.js";
import { guardLeaving, markSaved } from "./unsaved.js";
import { guardControls, readOnlyNote } from "./readonly.js";

// The module of each step of STEPS (state.js), which gives their order and names.
const MODULES = { tables, columns, preview, schedule, validate, run };

export async function render(root, params) {
  let connectionsError = null; // shown in the Tables step instead of "no connection found"
  const [schema, connections] = await Promise.all([get("/spec/schema"), get("/connections").catch((err) => { connectionsError = err; return []; })]);
  const w = { root, schema, connections, connectionsError, project: newProject(), opened: null, pipeline: 0, pair: { table: 0, target: 0 }, step: 0, cache: new Map() };
  guardControls(root); // read-only for a role without the rights: what it may not use is disabled, with the reason
  if (params.get("project")) await openProject(w, params.get("project"));
  markSaved(w); // what "unsaved" compares with: the project as loaded (or new), then as last saved
  guardLeaving(w);
  root.addEventListener("databridge:goto", (event) => goToProblem(w, event.detail));
  setDrawer(drawWizard);
  draw(w);
}

function drawWizard(w) {
  const body = h("div", { class: "step-body" });
  replace(w.root, readOnlyNote(), stepper(w), body, navigation(w));
  MODULES[STEPS[w.step].key].render(w, body);
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

function stepper(w) {
  return h("nav", { "aria-label": "Wizard steps" }, h("ol", { class: "stepper" }, STEPS.map((s, i) =>
    h("li", {}, h("button", { type: "button", "aria-current": i === w.step ? "step" : undefined, "data-needs": "none", onclick: () => goTo(w, i) }, h("span", { class: "num" }, i + 1), s.name)))));
}

function navigation(w) {
  const back = w.step > 0 ? h("button", { type: "button", "data-needs": "none", onclick: () => goTo(w, w.step - 1) }, "← Back") : null;
  const next = w.step < STEPS.length - 1 ? h("button", { type: "button", class: "primary", "data-needs": "none", onclick: () => goTo(w, w.step + 1) }, `Next: ${STEPS[w.step + 1].name} →`) : null;
  return h("div", { class: "actions wizard-nav" }, back, next);
}
