// Reports page: the runs of a project, newest first, with the reports its pipelines stored in their targets
// (stages, tables, validations, warnings, errors) and a link to each run's live monitor. Without a project named in
// the address it opens on the project of the latest run of any project.

import { get } from "./api.js";
import { badge, dataTable, duration, errorMessage, fmt, h, message, option, replace } from "./dom.js";

export async function render(root, params) {
  const projects = (await get("/projects")).filter((p) => p.ok);
  if (!projects.length) {
    replace(root, message("info", "No mapping project yet: design one with the wizard."), h("a", { href: "/databridge/ui/wizard" }, "Open the wizard"));
    return;
  }
  const latest = params.get("dag_id") ? null : await get("/runs/latest").catch(() => null);
  const chosen = params.get("dag_id") || (latest && latest.dag_id) || projects[0].dag_id;
  const select = h("select", { id: "report-project" }, projects.map((p) => option(p.dag_id, p.dag_id, chosen)));
  const out = h("div", { "aria-live": "polite" });
  select.addEventListener("change", () => show(out, select.value));
  replace(root, h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: select.id }, "Project"), select)),
    latest && latest.dag_id ? h("p", { class: "muted", id: "latest-run" }, "Showing the project of the latest run of any project: ", h("code", {}, latest.run_id), ` of ${latest.dag_id}.`) : null,
    out);
  await show(out, chosen);
}

async function show(out, dagId) {
  replace(out, h("p", { class: "muted" }, "Loading runs…"));
  try {
    const history = await get(`/projects/${encodeURIComponent(dagId)}/runs`);
    if (!history.runs.length) {
      replace(out, message("info", `Project ${dagId} has not run yet.`));
      return;
    }
    replace(out, history.runs.map((run) => runPanel(dagId, run)));
  } catch (err) {
    replace(out, errorMessage(err));
  }
}

function runPanel(dagId, run) {
  const monitor = `/databridge/ui/monitor?dag_id=${encodeURIComponent(dagId)}&run_id=${encodeURIComponent(run.run_id)}`;
  const when = run.start_date ? new Date(run.start_date).toLocaleString() : "not started";
  const stopped = run.cancelled; // failed because a person cancelled it in DataBridge
  return h("section", { class: "panel run", "aria-label": `Run ${run.run_id}` },
    h("h2", {}, badge(stopped ? "cancelled" : run.state), " ", h("code", {}, run.run_id)),
    h("p", { class: "muted" }, `${run.run_type} · ${when} · `, stopped ? `cancelled by ${stopped.by}, ${new Date(stopped.at).toLocaleString()} · ` : null, h("a", { href: monitor }, "Monitor")),
    run.reports.length ? run.reports.map(reportView) : h("p", { class: "muted" }, "No stored report for this run (the report stage has not run)."));
}

function reportView(report) {
  const t = report.totals || {};
  const failed = (report.validations || []).filter((v) => !v.passed);
  return h("details", { open: !report.succeeded || undefined },
    h("summary", {}, `Pipeline ${report.pipeline}: `, badge(report.succeeded ? "success" : "failed", report.succeeded ? "succeeded" : "failed"),
      ` ${fmt(t.loaded_rows)} rows loaded in ${duration(t.seconds)} (${fmt(t.rows_per_second)} rows/s), ${(report.validations || []).length - failed.length}/${(report.validations || []).length} validations passed`),
    (report.errors || []).length ? message("error", "Errors", report.errors) : null,
    (report.warnings || []).length ? message("warn", "Warnings", report.warnings) : null,
    h("h3", {}, "Tables"),
    dataTable(["Source", "Target", "Load", "Source rows", "Loaded", "Target rows", "Rows/s"],
      (report.tables || []).map((r) => [r.source, r.target, r.load, fmt(r.source_rows), fmt(r.loaded_rows), fmt(r.target_rows), fmt(r.rows_per_second)]),
      { caption: `Tables of pipeline ${report.pipeline}`, numeric: ["Source rows", "Loaded", "Target rows", "Rows/s"], headClass: { Source: "src", Target: "tgt" } }),
    h("h3", {}, "Validations"),
    dataTable(["Result", "Check", "Detail"],
      (report.validations || []).map((v) => [v.passed ? badge("success", "pass") : v.on_failure === "warn" ? badge("up_for_retry", "warn") : badge("failed", "fail"), v.check, v.detail]),
      { caption: `Validations of pipeline ${report.pipeline}` }));
}
