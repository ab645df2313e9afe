// The live view of one run: each pipeline's six stages with Airflow's task state and, from DataBridge's results
// schema, rows moved, throughput and errors; pause/resume of the project's DAG (Airflow REST API v2), cancel of the
// run (asked first; the plugin's cancel route notes who cancelled, so the run reads "cancelled", not "failed"), and
// links to each task's log in Airflow's UI. Used by the Monitor page and by the wizard's last step.

import { get, patch, post } from "./api.js";
import { badge, busy, confirmChoice, dataTable, duration, errorMessage, fmt, h, message, replace } from "./dom.js";

const POLL_MS = 2000;
const DONE = new Set(["success", "failed"]);
const enc = encodeURIComponent;

export async function render(root, params) {
  const dagId = params.get("dag_id");
  const runId = params.get("run_id");
  if (dagId && !runId) {
    mountProject(root, dagId);
    return;
  }
  if (!dagId) {
    replace(root, message("info", "Open a run from the Reports page, or from a DAG run's DataBridge tab in Airflow."), h("a", { href: "/databridge/ui/reports" }, "Reports"));
    return;
  }
  mountMonitor(root, dagId, runId);
}

// A project's DAG with no run open (?dag_id= alone): paused or not, Pause/Resume, and before a resume what it lets
// Airflow run and when.
function mountProject(root, dagId) {
  const view = { root, dagId, status: h("div", { "aria-live": "polite" }), resumeNote: h("div", { id: "resume-statement" }), facts: h("span", { class: "run-state" }) };
  view.pause = h("button", { type: "button", class: "small", disabled: true }, "Resume DAG");
  view.pause.addEventListener("click", () => busy(view.pause, view.paused ? "Resuming…" : "Pausing…", () => togglePaused(view), view.status));
  replace(root, h("section", { class: "panel monitor", "aria-label": `Project ${dagId}` }, h("h2", {}, "Project ", h("code", {}, dagId)),
    h("div", { class: "actions" }, view.facts, view.pause), view.resumeNote, view.status));
  pollProject(view);
}

async function pollProject(view) {
  if (!view.root.isConnected) return;
  try {
    const dag = await get(`/api/v2/dags/${enc(view.dagId)}`);
    view.paused = dag.is_paused;
    view.pause.textContent = view.paused ? "Resume DAG" : "Pause DAG";
    view.pause.disabled = false;
    replace(view.facts, "DAG: ", badge(view.paused ? "paused" : "active"));
    if (view.status.querySelector(".info")) replace(view.status);
    await drawResumeNote(view, null);
  } catch (err) {
    replace(view.status, err.status === 404 ? message("info", "Waiting for Airflow to load the project's DAG…") : errorMessage(err));
  }
  setTimeout(() => pollProject(view), POLL_MS);
}

async function togglePaused(view) {
  const paused = !view.paused;
  await patch(`/api/v2/dags/${enc(view.dagId)}`, { is_paused: paused });
  view.paused = paused;
  replace(view.status, message("ok", paused ? "DAG paused: running tasks finish, nothing new starts." : "DAG resumed."));
  await drawResumeNote(view, null);
}

// Draws the monitor into `root` and keeps it fresh until the run ends or `root` leaves the page.
export function mountMonitor(root, dagId, runId) {
  const view = { root, dagId, runId, status: h("div", { "aria-live": "polite" }), body: h("div"), controls: h("div", { class: "actions" }), resumeNote: h("div", { id: "resume-statement" }) };
  replace(root, h("section", { class: "panel monitor", "aria-label": `Run ${runId}` }, h("h2", {}, "Run ", h("code", {}, runId)), view.controls, view.resumeNote, view.status, view.body));
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
  const stopped = run && run.cancelled; // failed because a person cancelled it in DataBridge
  replace(view.facts, "Run: ", badge(stopped ? "cancelled" : state || "loading"),
    stopped ? h("span", { class: "cancelled-by" }, ` by ${stopped.by}, ${new Date(stopped.at).toLocaleString()}`) : null,
    view.paused ? [" ", badge("paused")] : null);
  replace(view.started, run ? (run.start_date ? `started ${new Date(run.start_date).toLocaleString()}` : "not started yet") : "");
  if (view.paused && !DONE.has(state)) replace(view.status, message("warn", "The project's DAG is paused: no new task starts until you resume it."));
  else if (view.status.querySelector(".warn")) replace(view.status);
  drawResumeNote(view, state);
}

// While the DAG is paused: what resuming lets Airflow run, and when (the project's schedule, from the plugin), said
// before Resume is pressed. A run of a cron project waits for its next fire time after the resume.
async function drawResumeNote(view, state) {
  if (view.paused && !view.schedule) view.schedule = get(`/projects/${enc(view.dagId)}/schedule`).catch(() => null);
  const said = view.paused ? await view.schedule : null;
  if (!view.paused || !said) return replace(view.resumeNote);
  const text = state && !DONE.has(state) ? said.resume_queued : said.resume;
  if (view.resumeNote.textContent !== text) replace(view.resumeNote, message("info", text));
  return undefined;
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
  view.cancel.addEventListener("click", async () => {
    const sure = await confirmChoice({
      title: `Cancel run ${view.runId}?`,
      text: "The running task is stopped and the stages not started yet are skipped; tables already loaded keep what they hold. The run is labelled cancelled, with your name.",
      yes: "Cancel the run",
      no: "Keep it running",
    });
    if (sure) await busy(view.cancel, "Cancelling…", () => cancelRun(view), view.status);
  });
  replace(view.controls, view.facts, view.pause, view.cancel, view.started);
}

async function setPaused(view, paused) {
  await patch(`/api/v2/dags/${enc(view.dagId)}`, { is_paused: paused });
  replace(view.status, message("ok", paused ? "DAG paused: running tasks finish, nothing new starts." : "DAG resumed."));
  await refresh(view);
}

async function cancelRun(view) {
  const run = await post(`/projects/${enc(view.dagId)}/runs/${enc(view.runId)}/cancel`);
  replace(view.status, message("ok", `Run cancelled by ${run.cancelled.by}: the running task is stopped and the rest skipped.`));
  await refresh(view);
}

function pipelineTable(view, pipeline) {
  const rows = pipeline.stages.map((s) => [
    s.stage,
    badge(s.state),
    s.rows ?? null,
    s.rows_per_second ?? null,
    s.seconds ?? null,
    progressBars(s),
    problems(s),
    logLinks(view, s),
  ]);
  return h("div", { class: "pipeline" }, h("h3", {}, "Pipeline ", h("code", {}, pipeline.pipeline)),
    dataTable(["Stage", "State", "Rows", "Rows/s", "Time", "Progress", "Errors & warnings", "Task log"], rows.map((r) => r.map((c, i) => (i === 4 ? duration(c) : i >= 2 && i <= 3 ? fmt(c) : c))), { caption: `Stages of pipeline ${pipeline.pipeline}`, numeric: ["Rows", "Rows/s", "Time"] }));
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

// One bar per table of the stage, from the progress rows the stage writes every few seconds while it runs (rows done
// of the source's estimate, rows per second, time left); a table without an estimate shows an indeterminate bar.
function progressBars(stage) {
  const tables = stage.progress || [];
  if (!tables.length) return "";
  return h("ul", { class: "progress-list" }, tables.map((t) => {
    const name = t.part === stage.stage ? t.table : `${t.part} ${t.table}`;
    const facts = [
      t.total != null ? `${fmt(t.rows)} of ~${fmt(t.total)} rows` : `${fmt(t.rows)} rows`,
      t.done ? "done" : `${fmt(t.rows_per_second)} rows/s`,
      !t.done && t.eta_seconds != null ? `${duration(t.eta_seconds)} left` : null,
    ].filter(Boolean).join(" · ");
    const attrs = { max: 100, "aria-label": `${name}: ${facts}` };
    if (t.percent != null) attrs.value = t.percent;
    return h("li", { class: t.done ? "progress-row done" : "progress-row" },
      h("span", { class: "progress-name" }, name),
      h("progress", attrs),
      h("span", { class: "progress-facts" }, t.percent != null ? `${Math.floor(t.percent)}% · ${facts}` : facts));
  }));
}

function problems(stage) {
  const warnings = stage.warnings || [];
  if (!stage.error && !warnings.length) return "";
  return h("div", {}, stage.error ? h("p", { class: "check error" }, stage.error) : null, warnings.length ? h("details", {}, h("summary", {}, `${warnings.length} warning(s)`), h("ul", {}, warnings.map((w) => h("li", {}, w)))) : null);
}
