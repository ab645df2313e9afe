// The Preview step: real sample rows of each source table, transformed by the transform stage's own SQL (in
// temporary tables of the target, rolled back), with warnings (unmapped columns, type mismatches) and row estimates.

import { mayReadData, noDataRights, post } from "../api.js";
import { busy, dataTable, errorMessage, field, fmt, h, message, replace } from "../dom.js";
import { currentPipeline, heading, pipelinePicker, stepNumber } from "../state.js";

export function render(w, el) {
  const p = currentPipeline(w);
  const limit = h("input", { id: "preview-limit", type: "number", min: 1, max: 1000, value: 20 });
  const out = h("div", { id: "preview-results" });
  const allowed = mayReadData();
  const run = h("button", { type: "button", class: "primary", id: "run-preview", disabled: !allowed, "aria-describedby": allowed ? undefined : "preview-rights", "data-needs": "edit connections", "data-doing": "Previewing sample rows" }, "Preview sample rows");
  run.addEventListener("click", () => busy(run, "Reading samples…", () => previewAll(w, p, Number(limit.value) || 20, out)));
  replace(el, heading("preview"), pipelinePicker(w),
    h("p", { class: "muted" }, "Nothing is written: the sample is transformed in temporary tables of the target and rolled back."),
    h("div", { class: "row" }, field("Rows per table", limit), h("div", { class: "field" }, run)), out);
  if (!allowed) out.append(h("div", { id: "preview-rights" }, message("info", `Preview is off for you. ${noDataRights()}`)));
  else if (p.tables.length) run.click();
  else out.append(message("info", `Add a source → target pair in step ${stepNumber("tables")} first.`));
}

async function previewAll(w, p, limit, out) {
  replace(out);
  for (let table = 0; table < p.tables.length; table++) {
    const section = h("section", { class: "panel", "aria-label": `Preview of ${p.tables[table].source}` }, h("h3", { class: "src-text" }, p.tables[table].source));
    out.append(section);
    try {
      const result = await post("/preview", { project: w.project, pipeline: p.name, table, limit });
      section.append(...tableResult(result));
    } catch (err) {
      section.append(errorMessage(err));
    }
  }
}

function tableResult(result) {
  const estimate = result.estimated_rows === null || result.estimated_rows === undefined ? "unknown" : `about ${fmt(result.estimated_rows)}`;
  const parts = [h("p", { class: "estimate" }, `${result.sample_rows} sample rows read; rows in the source: ${estimate}.`)];
  const warnings = [...result.warnings, ...result.targets.flatMap((t) => t.warnings)];
  parts.push(warnings.length ? message("warn", `${warnings.length} warning(s)`, warnings) : message("ok", "No warning: every column is mapped and the types agree."));
  for (const target of result.targets) {
    const columns = target.columns.map((c) => `${c.name}`);
    const before = target.before || { columns: [], rows: [] };
    const rows = target.rows.map((row, r) => row.map((value, i) => cell(value, before.columns[i] ? (before.rows[r] || [])[i] : undefined, before.columns[i])));
    parts.push(h("h3", { class: "tgt-text" }, "→ ", target.table),
      h("p", { class: "muted" }, target.columns.map((c) => `${c.name} ${c.type}`).join(" · ")),
      h("p", { class: "help" }, "A changed value shows the source value first: ", h("span", { class: "before" }, "source"), " → transformed."),
      dataTable(columns, rows, { caption: `Transformed sample rows of ${target.table}, each changed value after its source value` }));
  }
  return parts;
}

// Arrays (a SET) and objects (JSON) as JSON; NULL as NULL.
const shown = (v) => (v === null || v === undefined ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v));

// The transformed value, with the source column's value before it when the transform changed it.
function cell(after, before, from) {
  const value = h("span", { class: after === null || after === undefined ? "null" : undefined }, shown(after));
  if (before === undefined || shown(before) === shown(after)) return value;
  return h("span", { class: "before-after" }, h("span", { class: "before", title: `source ${from}` }, shown(before)), h("span", { class: "arrow", "aria-label": "becomes" }, "→"), value);
}
