// The live view of one run: each pipeline's six stages with Airflow's task state and, from DataBridge's results
// schema, rows moved, throughput and errors; pause/resume of the project's DAG and cancel of the run (Airflow REST
// API v2), and links to each task's log in Airflow's UI. Used by the Monitor page and by the wizard's last step.

import { get, patch } from "./api.js";
import { badge, busy, dataTable, errorMessage, fmt, h, message, replace } from "./dom.js";

const POLL_MS = 2000;
const DONE = new Set(["success", "failed"]);
const enc = encodeURIComponent;

export async function render(root, params) {
  const dagId = params.get("dag_id");
  const runId = params.get("run_id");
  if (!dagId || !runId) {
    replace(root, message("info", "Open a run from the Reports page, or from a DAG run's DataBridge tab in Airflow."), h("a", { href: "/databridge/ui/reports" }, "Reports"));
    return;
  }
  mountMonitor(root, dagId, runId);
}

// Draws the monitor into `root` and keeps it fresh until the run ends or `root` leaves the page.
export function mountMonitor(root, dagId, runId) {
  const view = { root, dagId, runId, status: h("div", { "aria-live": "polite" }), body: h("div"), controls: h("div", { class: "actions" }) };
  replace(root, h("section", { class: "panel monitor", "aria-label": `Run ${runId}` }, h("h2", {}, "Run ", h("code", {}, runId)), view.controls, view.status, view.body));
  drawControls(view, null, null);
  poll(view);
  return view;
}

async function poll(view) {
  if (!view.root.isConnected) return;
  const run = await refresh(view);
  if (!run || !DONE.has(run.state)) setTimeout(() => poll(view), POLL_MS);
}

async function refresh(view) {
  try {
    const [run, dag] = await Promise.all([get(`/projects/${enc(view.dagId)}/runs/${enc(view.runId)}`), get(`/api/v2/dags/${enc(view.dagId)}`)]);
    drawControls(view, run, dag);
    replace(view.body, run.pipelines.map((p) => pipelineTable(view, p)));
    return run;
  } catch (err) {
    replace(view.status, errorMessage(err));
    return null;
  }
}

// The buttons are made once and updated in place, so a poll never takes the focus away from them.
function drawControls(view, run, dag) {
  if (!view.pause) makeControls(view);
  const state = run ? run.state : null;
  view.paused = dag ? dag.is_paused : null;
  view.pause.disabled = view.paused === null;
  view.pause.textContent = view.paused ? "Resume DAG" : "Pause DAG";
  view.cancel.disabled = !run || DONE.has(state);
  view.cancel.textContent = "Cancel run";
  replace(view.facts, "Run: ", badge(state || "loading"), view.paused ? [" ", badge("paused")] : null);
  replace(view.started, run ? (run.start_date ? `started ${new Date(run.start_date).toLocaleString()}` : "not started yet") : "");
  if (view.paused && !DONE.has(state)) replace(view.status, message("warn", "The project's DAG is paused: no new task starts until you resume it."));
  else if (view.status.querySelector(".warn")) replace(view.status);
}

function makeControls(view) {
  view.facts = h("span", { class: "run-state" });
  view.started = h("span", { class: "muted" });
  view.pause = h("button", { type: "button", class: "small" }, "Pause DAG");
  view.pause.addEventListener("click", () => {
    const paused = !view.paused;
    return busy(view.pause, paused ? "Pausing…" : "Resuming…", () => setPaused(view, paused), view.status);
  });
  view.cancel = h("button", { type: "button", class: "danger small" }, "Cancel run");
  view.cancel.addEventListener("click", () => busy(view.cancel, "Cancelling…", () => cancelRun(view), view.status));
  replace(view.controls, view.facts, view.pause, view.cancel, view.started);
}

async function setPaused(view, paused) {
  await patch(`/api/v2/dags/${enc(view.dagId)}`, { is_paused: paused });
  replace(view.status, message("ok", paused ? "DAG paused: running tasks finish, nothing new starts." : "DAG resumed."));
  await refresh(view);
}

async function cancelRun(view) {
  await patch(`/api/v2/dags/${enc(view.dagId)}/dagRuns/${enc(view.runId)}`, { state: "failed" });
  replace(view.status, message("ok", "Run cancelled: the running task is stopped and the rest skipped."));
  await refresh(view);
}

function pipelineTable(view, pipeline) {
  const rows = pipeline.stages.map((s) => [
    s.stage,
    badge(s.state),
    s.rows ?? null,
    s.rows_per_second ?? null,
    s.seconds ?? null,
    problems(s),
    logLinks(view, s),
  ]);
  return h("div", { class: "pipeline" }, h("h3", {}, "Pipeline ", h("code", {}, pipeline.pipeline)),
    dataTable(["Stage", "State", "Rows", "Rows/s", "Seconds", "Errors & warnings", "Task log"], rows.map((r) => r.map((c, i) => (i >= 2 && i <= 4 ? fmt(c) : c))), { caption: `Stages of pipeline ${pipeline.pipeline}`, numeric: ["Rows", "Rows/s", "Seconds"] }));
}

const MAX_LOG_LINKS = 4;

// Airflow's page of the task instance, which opens on its log: one link, or for a mapped stage (extract chunks) one
// per instance (the first few, then Airflow's list of them all). Nothing before the task instance exists.
function logLinks(view, stage) {
  const task = `/dags/${enc(view.dagId)}/runs/${enc(view.runId)}/tasks/${enc(stage.task_id)}`;
  const link = (href, label, text) => h("a", { href, onclick: openInAirflow, "aria-label": label }, text);
  if (!stage.instances) return stage.state ? link(task, `Log of ${stage.task_id}`, "Log") : "";
  const shown = stage.instances.slice(0, MAX_LOG_LINKS).map((i) => link(`${task}/mapped/${i.map_index}`, `Log of ${stage.task_id} [${i.map_index}]`, `Log [${i.map_index}]`));
  const more = stage.instances.length > MAX_LOG_LINKS ? link(`${task}/mapped`, `All ${stage.instances.length} instances of ${stage.task_id}`, `all ${stage.instances.length}`) : null;
  return h("span", { class: "log-links" }, shown.flatMap((a) => [a, " "]), more);
}

// Airflow draws this page in an iframe sandboxed without allow-top-navigation and allow-popups: a link can neither
// take Airflow's page to the log (target="_top": "Unsafe attempt to initiate navigation") nor open a tab. The iframe
// is same-origin, so a link of Airflow's own page is followed instead (Ctrl/Cmd-click: in a new tab). Outside an
// iframe the link is a plain link.
function openInAirflow(event) {
  if (window.top === window) return;
  event.preventDefault();
  const link = window.top.document.createElement("a");
  link.href = event.currentTarget.href;
  if (event.ctrlKey || event.metaKey) Object.assign(link, { target: "_blank", rel: "noopener" });
  window.top.document.body.append(link);
  link.click();
  link.remove();
}

function problems(stage) {
  const warnings = stage.warnings || [];
  if (!stage.error && !warnings.length) return "";
  return h("div", {}, stage.error ? h("p", { class: "check error" }, stage.error) : null, warnings.length ? h("details", {}, h("summary", {}, `${warnings.length} warning(s)`), h("ul", {}, warnings.map((w) => h("li", {}, w)))) : null);
}
