// The Schedule step: the cron in words with its next run times, the deadline (SLA), retries and
// backoff, timeouts, and for multi-pipeline projects the pipelines, their order and what each depends on.

import { explain, post } from "../api.js";
import { debounce, field, h, option, replace } from "../dom.js";
import { draw, heading, newPipeline, spec, stepNumber, today } from "../state.js";

const PRESETS = ["@once", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@continuous"];
const DEFAULTS = [
  ["retries", "Retries"],
  ["retry_delay_seconds", "Retry delay (seconds)"],
  ["max_retry_delay_seconds", "Longest retry delay (seconds)"],
  ["execution_timeout_minutes", "Stage timeout (minutes)"],
  ["batch_size", "Batch size (rows)"],
];

export function render(w, el) {
  w.project.schedule = w.project.schedule || {};
  w.project.defaults = w.project.defaults || {};
  replace(el, heading("schedule"), schedulePanel(w), retriesPanel(w), pipelinesPanel(w));
}

function schedulePanel(w) {
  const s = w.project.schedule;
  const cron = h("input", { id: "cron", value: s.cron || "", placeholder: "0 3 * * *  or  @daily  (empty: only when triggered)", list: "cron-presets", autocomplete: "off" });
  const zone = h("input", { id: "timezone", value: s.timezone || "UTC", autocomplete: "off" });
  const words = h("div", { id: "cron-words", "aria-live": "polite" });
  const describe = debounce(async () => {
    s.cron = cron.value.trim() || null;
    s.timezone = zone.value.trim() || "UTC";
    try {
      const r = await post("/schedule/describe", { cron: s.cron, timezone: s.timezone, count: 5 });
      cron.setAttribute("aria-invalid", "false");
      replace(words, h("p", { class: "check ok" }, r.description), r.next_runs.length ? h("p", { class: "muted" }, "Next runs: ", r.next_runs.map((t) => t.replace("T", " ")).join(" · ")) : null);
    } catch (err) {
      cron.setAttribute("aria-invalid", "true");
      replace(words, h("p", { class: "check error" }, `✗ ${explain(err)}`));
    }
  }, 300);
  cron.addEventListener("input", describe);
  zone.addEventListener("input", describe);
  describe();
  const start = h("input", { id: "start-date", type: "date", value: s.start_date || "", required: true });
  start.addEventListener("change", () => {
    w.startDateSet = true;
    s.start_date = start.value || today(s.timezone);
    start.value = s.start_date;
  });
  // A project not saved yet starts today in its time zone, until the start date is changed by hand.
  zone.addEventListener("change", () => {
    if (w.opened || w.saved || w.startDateSet) return;
    s.start_date = today(zone.value.trim() || "UTC");
    start.value = s.start_date;
  });
  const catchup = h("input", { id: "catchup", type: "checkbox", checked: Boolean(s.catchup) });
  catchup.addEventListener("change", () => { s.catchup = catchup.checked; });
  return h("section", { class: "panel", "aria-label": "Schedule" }, h("h3", {}, "When"),
    h("datalist", { id: "cron-presets" }, PRESETS.map((p) => option(p))),
    h("div", { class: "row" }, field("Cron or preset", cron, spec(w, "Schedule", "cron").help), field("Time zone", zone, spec(w, "Schedule", "timezone").help)),
    words,
    h("div", { class: "row" }, field("Start date", start, spec(w, "Schedule", "start_date").help), deadlineField(w)),
    h("label", { class: "inline" }, catchup, "Catch up the intervals missed since the start date"));
}

// The deadline alert (Airflow 3 deadline alerts), shown when the spec has the field.
function deadlineField(w) {
  const info = spec(w, "Schedule", "deadline_minutes");
  if (!info.exists) return null;
  const s = w.project.schedule;
  const input = h("input", { id: "deadline-minutes", type: "number", min: 1, value: s.deadline_minutes ?? "", placeholder: "none" });
  input.addEventListener("input", () => { s.deadline_minutes = input.value === "" ? null : Number(input.value); });
  return field("Deadline (minutes after the run is queued)", input, info.help);
}

function retriesPanel(w) {
  const d = w.project.defaults;
  const fields = DEFAULTS.map(([key, label]) => {
    const info = spec(w, "Defaults", key);
    const input = h("input", { id: `defaults-${key}`, type: "number", min: key === "retries" ? 0 : 1, value: d[key] ?? info.default ?? "" });
    input.addEventListener("input", () => {
      if (input.value !== "") d[key] = Number(input.value);
      else if (key === "execution_timeout_minutes") d[key] = null;
      else delete d[key];
    });
    return field(label, input, info.help);
  });
  const backoff = h("input", { id: "defaults-backoff", type: "checkbox", checked: d.retry_exponential_backoff ?? spec(w, "Defaults", "retry_exponential_backoff").default });
  backoff.addEventListener("change", () => { d.retry_exponential_backoff = backoff.checked; });
  return h("section", { class: "panel", "aria-label": "Retries and timeouts" }, h("h3", {}, "Retries & timeouts"),
    h("div", { class: "row" }, fields), h("label", { class: "inline" }, backoff, "Exponential backoff (double the wait after each retry)"));
}

function pipelinesPanel(w) {
  const list = w.project.pipelines;
  const body = list.map((p, i) => pipelineRow(w, p, i));
  const add = h("button", { type: "button", class: "secondary", id: "add-pipeline" }, "Add pipeline");
  add.addEventListener("click", () => {
    const base = list[list.length - 1];
    list.push({ ...newPipeline(uniqueName(list)), source_conn_id: base.source_conn_id, target_conn_id: base.target_conn_id, depends_on: [base.name] });
    w.project.strategy = "multi-pipeline";
    draw(w);
  });
  return h("section", { class: "panel", "aria-label": "Pipelines" }, h("h3", {}, "Pipelines and their order"),
    h("p", { class: "help" }, `Pipelines run in dependency order; each one's tables are edited in steps ${stepNumber("tables")}–${stepNumber("preview")} (pick it there).`),
    h("div", { class: "scroll" }, h("table", { class: "data", id: "pipelines" },
      h("thead", {}, h("tr", {}, ["Order", "Name", "Tables", "Depends on", ""].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, body))),
    h("div", { class: "actions" }, add));
}

function uniqueName(list) {
  let n = list.length + 1;
  while (list.some((p) => p.name === `pipeline_${n}`)) n++;
  return `pipeline_${n}`;
}

function pipelineRow(w, p, i) {
  const list = w.project.pipelines;
  const name = h("input", { value: p.name, "aria-label": `Name of pipeline ${i + 1}`, size: 14 });
  name.addEventListener("change", () => {
    const old = p.name;
    p.name = name.value.trim();
    for (const other of list) other.depends_on = (other.depends_on || []).map((d) => (d === old ? p.name : d));
    draw(w);
  });
  const deps = list.filter((o) => o !== p).map((o) => {
    const box = h("input", { type: "checkbox", checked: (p.depends_on || []).includes(o.name) });
    box.addEventListener("change", () => {
      const set = new Set(p.depends_on || []);
      if (box.checked) set.add(o.name); else set.delete(o.name);
      p.depends_on = [...set];
    });
    return h("label", { class: "inline" }, box, o.name);
  });
  const move = (delta, label) => {
    const b = h("button", { type: "button", class: "small", disabled: i + delta < 0 || i + delta >= list.length, "aria-label": `Move ${p.name} ${label}` }, delta < 0 ? "↑" : "↓");
    b.addEventListener("click", () => { list.splice(i + delta, 0, list.splice(i, 1)[0]); draw(w); });
    return b;
  };
  const remove = h("button", { type: "button", class: "small danger", disabled: list.length < 2, "aria-label": `Remove pipeline ${p.name}` }, "Remove");
  remove.addEventListener("click", () => {
    list.splice(i, 1);
    for (const other of list) other.depends_on = (other.depends_on || []).filter((d) => d !== p.name);
    if (list.length === 1) w.project.strategy = "single-pipeline";
    w.pipeline = 0;
    draw(w);
  });
  return h("tr", {}, h("td", {}, move(-1, "up"), " ", move(1, "down")), h("td", {}, name), h("td", { class: "num" }, String(p.tables.length)), h("td", {}, deps.length ? deps : h("span", { class: "muted" }, "—")), h("td", {}, remove));
}
