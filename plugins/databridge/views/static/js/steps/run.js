// Step 6, Save & run: save writes include/mappings/<name>.yaml; run waits until Airflow has read the file, triggers
// the DAG (REST API v2) and shows the live monitor of the run.

import { get, post } from "../api.js";
import { busy, h, message, replace } from "../dom.js";
import { mountMonitor } from "../monitor.js";

const WAIT_FOR_DAG_MS = 120000;
const enc = encodeURIComponent;

export function render(w, el) {
  const name = w.project.name;
  const replaceBox = h("input", { type: "checkbox", id: "overwrite", checked: w.opened === name || w.saved === name });
  const saveOut = h("div", { id: "save-result", "aria-live": "polite" });
  const runOut = h("div", { id: "run-result", "aria-live": "polite" });
  const monitor = h("div", { id: "monitor" });
  const save = h("button", { type: "button", class: "primary", id: "save-project", disabled: !name }, "Save project");
  const run = h("button", { type: "button", class: "secondary", id: "run-project", disabled: !(w.opened === name || w.saved === name) }, "Run now");
  save.addEventListener("click", () => busy(save, "Saving…", async () => {
    const r = await post("/projects", { project: w.project, overwrite: replaceBox.checked });
    w.saved = r.dag_id;
    replaceBox.checked = true;
    run.disabled = false;
    replace(saveOut, message("ok", `Saved ${r.file} (${r.created ? "new file" : "replaced"}). Airflow's dag-processor reads it within a few seconds.`));
  }, saveOut));
  run.addEventListener("click", () => busy(run, "Starting…", () => trigger(w, runOut, monitor), runOut));
  replace(el, h("h2", {}, "6. Save, run & monitor"),
    name ? h("p", {}, "Project ", h("code", {}, name), ` · ${w.project.pipelines.length} pipeline(s) · saved as ${name}.yaml in the mappings folder`) : message("error", "Give the project a name in step 1 first."),
    h("label", { class: "inline" }, replaceBox, "Replace the saved file of this project"),
    h("div", { class: "actions" }, save, run, name ? h("a", { href: `/databridge/ui/reports?dag_id=${enc(name)}` }, "Reports of this project") : null),
    saveOut, runOut, monitor);
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
