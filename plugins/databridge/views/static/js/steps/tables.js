// The Tables step: the project's name, its source and target connections (with a test), browsing schema-qualified
// tables on both sides, and the source -> target pairs (one source table may feed several targets); whole schemas at
// once with "Add tables" (search, select, Add selected) and "Auto-map all" (bulk.js).

import { get, may, needsText, post } from "../api.js";
import { busy, duration, errorMessage, field, h, message, option, replace } from "../dom.js";
import { currentPipeline, draw, heading, joinName, openProject, pipelinePicker, spec } from "../state.js";
import { autoMapAllButton, bulkPanel } from "./bulk.js";

export function render(w, el) {
  const p = currentPipeline(w);
  const side = { source: { schema: null, table: null }, target: { schema: null, table: null } };
  const pairs = h("div", { id: "pairs" });
  replace(el,
    heading("tables"),
    projectPanel(w),
    pipelinePicker(w),
    h("div", { class: "two" }, sidePanel(w, p, "source", side), sidePanel(w, p, "target", side)),
    bulkPanel(w, p, side, () => drawPairs(w, p, pairs)),
    h("p", { class: "help" }, "Or one table under a name of your own: pick it in the source list, name the target, then add the pair."),
    h("div", { class: "actions" }, addButton(w, p, side, pairs), autoMapAllButton(w, p, () => drawPairs(w, p, pairs))),
    pairs);
  drawPairs(w, p, pairs);
}

function projectPanel(w) {
  const name = h("input", { id: "project-name", value: w.project.name, pattern: "[A-Za-z][A-Za-z0-9_]{0,62}", required: true, autocomplete: "off" });
  name.addEventListener("input", () => { w.project.name = name.value.trim(); });
  const description = h("input", { id: "project-description", value: w.project.description || "" });
  description.addEventListener("input", () => { w.project.description = description.value; });
  const opener = h("div", { class: "row" });
  fillOpener(w, opener);
  return h("section", { class: "panel", "aria-label": "Project" },
    h("div", { class: "row" },
      field("Project name (the DAG id)", name, w.schema.properties.name.description),
      field("Description", description)),
    w.opened && may("edit") ? h("p", { class: "muted" }, "Editing the saved project ", h("code", {}, w.opened), ": saving replaces its file and keeps every field.") : null,
    w.opened && !may("edit") ? h("p", { class: "muted" }, "Reading the saved project ", h("code", {}, w.opened), " (read-only).") : null,
    opener);
}

async function fillOpener(w, el) {
  try {
    const projects = (await get("/projects")).filter((p) => p.ok);
    if (!projects.length) return;
    const select = h("select", { id: "open-project", "data-needs": "none" }, projects.map((p) => option(p.dag_id, p.dag_id, w.opened)));
    const out = h("div");
    const open = h("button", { type: "button", "data-needs": "none" }, "Open");
    // Staying with unsaved changes redraws nothing: the page (and the choice in this select) stays as it is.
    open.addEventListener("click", () => busy(open, "Opening…", async () => { if (await openProject(w, select.value)) draw(w); }, out));
    replace(el, field("Or open a saved project", select), h("div", { class: "field" }, open), out);
  } catch (err) {
    replace(el, errorMessage(err));
  }
}

function sidePanel(w, p, which, side) {
  const isSource = which === "source";
  const key = isSource ? "source_conn_id" : "target_conn_id";
  const usable = w.connections.filter((c) => (isSource ? c.can_be_source : c.can_be_target));
  // The project's own connection is shown even when the list lacks it (not defined here, or the list failed).
  const unlisted = p[key] && !usable.some((c) => c.conn_id === p[key]) ? option(p[key], `${p[key]} (not in the list of connections)`, p[key]) : null;
  const conn = h("select", { id: `${which}-conn` }, option("", "Choose a connection…", p[key]), usable.map((c) => option(c.conn_id, `${c.conn_id} (${c.conn_type})`, p[key])), unlisted);
  const browsing = `Browsing the ${which}'s schemas and tables`;
  const schemaSel = h("select", { id: `${which}-schema`, disabled: true, "data-needs": "connections", "data-doing": browsing }, option("", "—"));
  const list = h("ul", { class: `pick-list ${which}`, id: `${which}-tables`, "aria-label": `${isSource ? "Source" : "Target"} tables` });
  const out = h("div", { "aria-live": "polite" });
  const test = h("button", { type: "button", class: "secondary small", id: `${which}-test`, "data-needs": "connections", "data-doing": "Testing a connection" }, "Test");
  test.addEventListener("click", () => {
    // Before a connection is chosen there is nothing to test: say what the button is for instead of an error.
    if (!conn.value) return replace(out, message("info", `Choose a ${which} connection first, then Test checks that DataBridge can reach it.`));
    return busy(test, "Testing…", async () => {
      const r = await post(`/connections/${encodeURIComponent(conn.value)}/test`);
      replace(out, h("p", { class: "check ok" }, `Connection OK (${duration(r.seconds)}): ${r.detail}`));
    }, out);
  });
  conn.addEventListener("change", () => { p[key] = conn.value; loadSchemas(w, p[key], schemaSel, list, side[which], out); });
  schemaSel.addEventListener("change", () => loadTables(p[key], schemaSel.value, list, side[which], out));
  const extra = isSource ? sourceOptions(w, p) : targetName(side);
  if (!may("connections")) replace(out, h("div", { id: `${which}-rights` }, message("info", `${needsText(browsing, ["connections"])} The project's pairs are listed below.`)));
  else if (p[key]) loadSchemas(w, p[key], schemaSel, list, side[which], out);
  if (w.connectionsError) replace(out, errorMessage(w.connectionsError)); // the list was refused or failed: say why, not "none found"
  else if (!usable.length) replace(out, message("info", `No ${which} connection found: add one under Admin > Connections${isSource ? "" : " (PostgreSQL)"}.`));
  return h("section", { class: `panel ${which}`, "aria-label": isSource ? "Source" : "Target" },
    h("h3", { class: `side-label ${which}` }, isSource ? "Source" : "Target (PostgreSQL)"),
    h("div", { class: "row" }, field("Connection", conn), h("div", { class: "field" }, test)),
    field("Schema", schemaSel), list, extra, out);
}

// How ambiguous source values are read (the lint's fixes for zero dates and date-times without a zone).
function sourceOptions(w, p) {
  const options = p.source_options || {};
  const zone = h("input", { id: "naive-timezone", value: options.naive_timezone || "", placeholder: "e.g. Europe/Paris", autocomplete: "off" });
  const zero = h("select", { id: "zero-dates" }, option("null", "read as NULL, with a warning", options.zero_dates || "null"), option("fail", "fail the extract", options.zero_dates));
  const store = () => {
    const next = { ...(p.source_options || {}), naive_timezone: zone.value.trim() || null, zero_dates: zero.value };
    if (!next.naive_timezone) delete next.naive_timezone;
    p.source_options = next;
  };
  zone.addEventListener("input", store);
  zero.addEventListener("change", store);
  return h("details", { open: Boolean(options.naive_timezone) || undefined }, h("summary", {}, "Source options"),
    field("Date-times without a zone are in", zone, spec(w, "SourceOptions", "naive_timezone").help),
    field("MySQL zero dates (0000-00-00)", zero, spec(w, "SourceOptions", "zero_dates").help));
}

// The target table's name: picked from the existing tables or typed (a new table is created by the load stage).
function targetName(side) {
  const input = h("input", { id: "target-table", placeholder: "schema.table, e.g. public.customers", autocomplete: "off" });
  input.addEventListener("input", () => { side.target.typed = input.value.trim(); });
  side.target.input = input;
  return field("Target table (existing or new)", input, "Pick an existing table above or type a new name; a new table is created from the mappings.");
}

async function loadSchemas(w, connId, select, list, state, out) {
  replace(list);
  if (!connId) return;
  try {
    const schemas = await get(`/connections/${encodeURIComponent(connId)}/schemas`);
    // The connection's own database (its schema field) first, then PostgreSQL's public, then the first listed.
    const own = (w.connections.find((c) => c.conn_id === connId) || {}).database;
    const preferred = schemas.includes(own) ? own : schemas.includes("public") ? "public" : schemas[0];
    replace(select, option("", "Choose a schema…"), schemas.map((s) => option(s, s, preferred)));
    select.disabled = false;
    if (preferred) await loadTables(connId, preferred, list, state, out);
  } catch (err) {
    replace(out, errorMessage(err));
  }
}

async function loadTables(connId, schema, list, state, out) {
  state.schema = schema;
  state.table = null;
  replace(list);
  if (!schema) return;
  try {
    const names = await get(`/connections/${encodeURIComponent(connId)}/schemas/${encodeURIComponent(schema)}/tables`);
    if (state.schema !== schema) return; // another schema was chosen while this one loaded
    if (!names.length) replace(list, h("li", { class: "muted" }, h("span", { class: "help" }, "No tables in this schema.")));
    else replace(list, names.map((t) => h("li", {}, pickButton(list, t, () => choose(state, schema, t)))));
    if (state.onTables) state.onTables(schema, names); // the "Add tables" panel lists them too
  } catch (err) {
    replace(out, errorMessage(err));
  }
}

function pickButton(list, label, onPick) {
  const button = h("button", { type: "button", "aria-pressed": "false", "data-name": label }, label);
  button.addEventListener("click", () => {
    for (const b of list.querySelectorAll("button[aria-pressed]")) b.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-pressed", "true");
    onPick();
  });
  return button;
}

function choose(state, schema, table) {
  state.table = table;
  if (state.input) {
    state.input.value = joinName(schema, table);
    state.typed = state.input.value;
  }
}

function addButton(w, p, side, pairs) {
  const out = h("div");
  const add = h("button", { type: "button", class: "primary", id: "add-pair" }, "Add source → target pair");
  add.addEventListener("click", () => {
    const src = side.source;
    if (!src.table) return replace(out, message("error", "Pick a source table first."));
    const source = joinName(src.schema, src.table);
    const target = side.target.typed || joinName("public", src.table.toLowerCase());
    let mapping = p.tables.find((t) => t.source === source);
    if (!mapping) p.tables.push((mapping = { source, targets: [] }));
    if (mapping.targets.some((t) => t.table === target)) return replace(out, message("error", `${source} already feeds ${target}.`));
    mapping.targets.push({ table: target, load: "replace", columns: [] });
    replace(out);
    drawPairs(w, p, pairs);
    return undefined;
  });
  return h("div", {}, add, out);
}

function drawPairs(w, p, el) {
  const rows = p.tables.flatMap((t, ti) => t.targets.map((target, gi) => pairRow(w, p, el, ti, gi)));
  if (!rows.length) return replace(el, message("info", "No pair yet: select tables above and press Add selected, or pick one source table, name its target and add the pair."));
  return replace(el, h("h3", {}, "Pairs"), h("div", { class: "scroll" }, h("table", { class: "data", id: "pair-table" },
    h("thead", {}, h("tr", {}, h("th", { class: "src", scope: "col" }, "Source"), h("th", { class: "tgt", scope: "col" }, "Target"), h("th", { scope: "col" }, "Load"), h("th", { scope: "col" }, "Keys"), h("th", { scope: "col" }, "Role"), h("th", { scope: "col" }, "Columns"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
    h("tbody", {}, rows))));
}

function pairRow(w, p, el, ti, gi) {
  const mapping = p.tables[ti];
  const target = mapping.targets[gi];
  const load = h("select", { "aria-label": `Load mode of ${target.table}` }, ["replace", "append", "upsert"].map((m) => option(m, m, target.load || "replace")));
  load.addEventListener("change", () => { target.load = load.value; });
  const keys = h("input", { value: (target.keys || []).join(", "), "aria-label": `Key columns of ${target.table}`, placeholder: "id", size: 10 });
  keys.addEventListener("input", () => { target.keys = keys.value.split(",").map((k) => k.trim()).filter(Boolean); });
  const remove = h("button", { type: "button", class: "small danger", "aria-label": `Remove ${mapping.source} to ${target.table}` }, "Remove");
  remove.addEventListener("click", () => {
    mapping.targets.splice(gi, 1);
    if (!mapping.targets.length) p.tables.splice(ti, 1);
    w.pair = { table: 0, target: 0 };
    drawPairs(w, p, el);
  });
  const role = h("select", { "aria-label": `Role of ${target.table}`, title: spec(w, "TargetTable", "role").help }, roles(w).map((r) => option(r, r, target.role || spec(w, "TargetTable", "role").default)));
  role.addEventListener("change", () => { target.role = role.value; });
  return h("tr", { "data-pair": `${ti}:${gi}` }, h("td", { class: "src-text", "data-label": "Source" }, mapping.source), h("td", { class: "tgt-text", "data-label": "Target" }, target.table),
    h("td", { "data-label": "Load" }, load), h("td", { "data-label": "Keys" }, keys), h("td", { "data-label": "Role" }, role),
    h("td", { class: "num", "data-label": "Columns" }, target.columns ? String(target.columns.length) : "all"), h("td", { class: "pair-remove" }, remove));
}

// The roles the spec allows a target table (dimension, fact), from the project's JSON schema.
const roles = (w) => ((((w.schema.$defs.TargetTable || {}).properties || {}).role || {}).enum || ["dimension", "fact"]);
