// The Save & run step: what Save will write (the YAML, from the server's own writer, and its line diff against the file
// on disk), save writes include/mappings/<name>.yaml; run waits until Airflow has read the file, triggers the DAG
// (REST API v2) and shows the live monitor of the run.

import { get, lacking, needsText, post } from "../api.js";
import { busy, errorMessage, h, message, replace } from "../dom.js";
import { mountMonitor } from "../monitor.js";
import { heading, stepNumber } from "../state.js";
import { markSaved } from "../unsaved.js";

const WAIT_FOR_DAG_MS = 120000;
const enc = encodeURIComponent;

export function render(w, el) {
  const name = w.project.name;
  const replaceBox = h("input", { type: "checkbox", id: "overwrite", checked: w.opened === name || w.saved === name });
  const saveOut = h("div", { id: "save-result", "aria-live": "polite" });
  const runOut = h("div", { id: "run-result", "aria-live": "polite" });
  const monitor = h("div", { id: "monitor" });
  const runNote = h("p", { id: "run-now-statement", class: "muted" });
  const review = h("section", { class: "panel", id: "save-review", "aria-label": "What Save writes", "aria-live": "polite" });
  const save = h("button", { type: "button", class: "primary", id: "save-project", disabled: !name, "data-doing": "Saving", "aria-describedby": "save-rights" }, "Save project");
  const run = h("button", { type: "button", class: "secondary", id: "run-project", disabled: !(w.opened === name || w.saved === name), "data-needs": "trigger", "data-doing": "Running", "aria-describedby": "save-rights" }, "Run now");
  save.addEventListener("click", () => busy(save, "Saving…", async () => {
    const r = await post("/projects", { project: w.project, overwrite: replaceBox.checked });
    w.saved = r.dag_id;
    replaceBox.checked = true;
    run.disabled = false;
    showRunNote(r.dag_id, runNote);
    markSaved(w);
    await showReview(w, review);
    replace(saveOut, message("ok", `Saved ${r.file} (${r.created ? "new file" : "replaced"}). Airflow's dag-processor reads it within a few seconds.`));
  }, saveOut));
  run.addEventListener("click", () => busy(run, "Starting…", () => trigger(w, runOut, monitor), runOut));
  replace(el, heading("run"),
    name ? h("p", {}, "Project ", h("code", {}, name), ` · ${w.project.pipelines.length} pipeline(s) · saved as ${name}.yaml in the mappings folder`) : message("error", `Give the project a name in step ${stepNumber("tables")} first.`),
    name ? review : null,
    h("label", { class: "inline" }, replaceBox, "Replace the saved file of this project"),
    h("div", { class: "actions" }, save, run, name ? h("a", { href: `/databridge/ui/reports?dag_id=${enc(name)}` }, "Reports of this project") : null,
      name ? h("a", { href: `/databridge/ui/monitor?dag_id=${enc(name)}`, id: "project-monitor" }, "Pause or resume the project") : null),
    runNote, rightsNote(), saveOut, runOut, monitor);
  if (name) showReview(w, review);
  if (w.opened === name || w.saved === name) showRunNote(name, runNote);
}

// What Run now starts (the saved project's tables and load modes), said before it is pressed.
async function showRunNote(dagId, el) {
  try {
    replace(el, (await get(`/projects/${enc(dagId)}/schedule`)).run_now);
  } catch {
    replace(el);
  }
}

// Why Save or Run is off for the role (readonly.js disables them): the permissions it lacks, visibly.
function rightsNote() {
  const off = [lacking("edit").length ? needsText("Saving", ["edit"]) : null, lacking("trigger").length ? needsText("Running", ["trigger"]) : null].filter(Boolean);
  return off.length ? h("div", { id: "save-rights" }, message("info", `${off.join(" ")} Ask an Airflow admin to grant what you need.`)) : null;
}

// The YAML Save writes and, line by line, how it differs from the file on disk now (a new file: every line added).
async function showReview(w, el) {
  replace(el, h("h3", {}, "What Save writes"), h("p", { class: "muted" }, "Comparing with the saved file…"));
  try {
    const r = await post("/render", { project: w.project });
    replace(el, h("h3", {}, "What Save writes"), reviewSummary(r), r.conflict ? message("error", r.conflict) : null,
      r.diff.length ? diffView(r) : null,
      r.exists ? h("details", {}, h("summary", {}, `The whole YAML of ${r.file}`), h("pre", { class: "yaml" }, r.yaml)) : null);
  } catch (err) {
    replace(el, h("h3", {}, "What Save writes"), errorMessage(err));
  }
}

function reviewSummary(r) {
  const lines = (n) => `${n} line${n === 1 ? "" : "s"}`;
  if (!r.exists) return message("info", `${r.file} is a new file: Save writes its ${lines(r.added)}.`);
  if (!r.changed) return message("ok", `No change: ${r.file} already holds exactly this project.`);
  return message("warn", `Save replaces ${r.file}: ${lines(r.added)} added, ${lines(r.removed)} removed (comments and hand-written layout are not kept).`);
}

const SIGN = { "+": "+", "-": "−", " ": " ", "@": "" };
const KIND = { "+": "added", "-": "removed", " ": "same", "@": "hunk" };

function diffView(r) {
  const rows = r.diff.map((d) => h("span", { class: `diff-line ${KIND[d.op]}` }, h("span", { class: "sign", "aria-hidden": "true" }, SIGN[d.op]),
    d.op === "+" || d.op === "-" ? h("span", { class: "sr-only" }, d.op === "+" ? "added: " : "removed: ") : null, d.op === "@" ? hunk(d.text) : d.text || " "));
  return h("pre", { class: "diff", id: "save-diff", "aria-label": `Changes to ${r.file}` }, rows);
}

// "@@ -10,3 +10,4 @@" -> "Line 10:" (where the changed lines sit in the file Save writes).
function hunk(text) {
  const found = /\+(\d+)/.exec(text);
  return found ? `Line ${Math.max(1, Number(found[1]))}:` : text;
}

async function trigger(w, out, monitor) {
  const dagId = w.saved || w.opened;
  replace(out, message("info", "Waiting for Airflow to load the project's DAG…"));
  await waitForDag(dagId);
  const run = await post(`/api/v2/dags/${enc(dagId)}/dagRuns`, { logical_date: null, conf: {} });
  replace(out, message("ok", `Run ${run.dag_run_id} started.`));
  mountMonitor(monitor, dagId, run.dag_run_id);
}

async function waitForDag(dagId) {
  const until = Date.now() + WAIT_FOR_DAG_MS;
  for (;;) {
    try {
      return await get(`/api/v2/dags/${enc(dagId)}`);
    } catch (err) {
      if (err.status !== 404 || Date.now() > until) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
