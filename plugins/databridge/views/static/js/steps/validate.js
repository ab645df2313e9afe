// The Validate step: the spec compiles (every problem with its path), the data-aware lint on a sample of every
// source table (problems with examples and the YAML fix), and time estimates per table from a calibration batch.

import { mayReadData, noDataRights, post } from "../api.js";
import { busy, dataTable, duration, errorMessage, field, fmt, h, message, problemItem, replace } from "../dom.js";
import { currentPipeline, heading, pipelinePicker } from "../state.js";
import { checksPanel } from "./relations.js";

export function render(w, el) {
  const sample = h("input", { id: "lint-sample", type: "number", min: 1, max: 100000, value: 1000, disabled: !mayReadData(), "data-needs": "edit connections", "data-doing": "Checking the data" });
  const out = h("div", { id: "validate-results", "aria-live": "polite" });
  const run = h("button", { type: "button", class: "primary", id: "run-validate", "data-needs": "none" }, "Validate");
  run.addEventListener("click", () => busy(run, "Validating…", () => validate(w, Number(sample.value) || 1000, out)));
  replace(el, heading("validate"),
    h("p", { class: "muted" }, "Checks the project as Airflow will load it, then reads a sample of every source table to find values that would fail."),
    h("div", { class: "row" }, field("Sample rows per table", sample), h("div", { class: "field" }, run)), out,
    pipelinePicker(w), checksPanel(w, currentPipeline(w)));
  run.click();
}

async function validate(w, sampleRows, out) {
  replace(out);
  try {
    const data = mayReadData();  // without the rights, only the compile check: the data checks would answer 403
    const result = await post("/validate", { project: w.project, lint: data, estimate: data, sample_rows: sampleRows });
    replace(out, ...report(result));
    if (!data && result.valid) out.append(message("info", `The data checks and time estimates were skipped. ${noDataRights()}`));
  } catch (err) {
    replace(out, errorMessage(err));
  }
}

function report(result) {
  if (!result.valid) return [message("error", "The project does not compile yet:", result.problems.map(problemItem))];
  const parts = [message("ok", "The project compiles: Airflow will load it as a DAG.")];
  if (result.lint) parts.push(...dataChecks(result.lint));
  if (result.estimates) parts.push(...estimates(result.estimates));
  return parts;
}

function dataChecks(lint) {
  const parts = [h("h3", {}, "Data checks")];
  if (!lint.length) parts.push(message("ok", "The sampled data fits the mappings: no problem found."));
  else parts.push(message(lint.some((p) => p.severity === "error") ? "error" : "warn", `${lint.length} problem(s) in the sampled data; each comes with the fix to write:`),
    dataTable(["Severity", "Table", "Column", "Problem", "Examples", "Fix"],
      lint.map((p) => [p.severity, p.table, p.column, p.message, (p.examples || []).join(", "), h("code", {}, p.suggestion)]), { caption: "Lint problems" }));
  return parts;
}

function estimates(rows) {
  return [h("h3", {}, "Time estimates"),
    h("p", { class: "muted" }, "Extract time per table: a calibration batch of each source table is timed through the extract path (then rolled back) and scaled to the table's row count."),
    dataTable(["Pipeline", "Source table", "Rows", "Calibration rows", "Rows/s", "Estimated extract time"],
      rows.map((e) => [e.pipeline, e.source, fmt(e.rows), fmt(e.calibration_rows), fmt(e.rows_per_second), duration(e.seconds)]),
      { caption: "Time estimates per table", numeric: ["Rows", "Calibration rows", "Rows/s", "Estimated extract time"] })];
}

export { duration }; // the one duration format, in dom.js
