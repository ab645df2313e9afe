// The Columns step: click a source column, click a target column, press Map (Enter/Space work on every control).
// Auto-map by name; type suggestions from the type matrix (the discovered columns' suggested PostgreSQL types);
// a transform editor per mapping (transform.js).

import { may, needsText } from "../api.js";
import { errorMessage, field, h, message, option, replace } from "../dom.js";
import { currentPipeline, describeTable, heading, pipelinePicker, stepNumber } from "../state.js";
import { clean, effectiveTarget, suggestion } from "./mapping.js";
import { foreignKeysPanel } from "./relations.js";
import { editor, liveCheck } from "./transform.js";

export function render(w, el) {
  const p = currentPipeline(w);
  const pairs = p.tables.flatMap((t, ti) => t.targets.map((g, gi) => ({ ti, gi, label: `${t.source} → ${g.table}` })));
  replace(el, heading("columns"), pipelinePicker(w));
  if (!pairs.length) return el.append(message("info", `Add a source → target pair in step ${stepNumber("tables")} first.`));
  if (!p.tables[w.pair.table] || !p.tables[w.pair.table].targets[w.pair.target]) w.pair = { table: pairs[0].ti, target: pairs[0].gi };
  const select = h("select", { id: "pair-picker", "data-needs": "none" }, pairs.map((x) => option(`${x.ti}:${x.gi}`, x.label, `${w.pair.table}:${w.pair.target}`)));
  const area = h("div", { "aria-live": "polite" });
  select.addEventListener("change", () => {
    const [ti, gi] = select.value.split(":").map(Number);
    w.pair = { table: ti, target: gi };
    drawPair(w, p, area);
  });
  el.append(field("Pair", select), area);
  drawPair(w, p, area);
  return undefined;
}

async function drawPair(w, p, area) {
  const mapping = p.tables[w.pair.table];
  const target = mapping.targets[w.pair.target];
  if (!may("connections")) return savedMappings(w, area, mapping, target);
  replace(area, h("p", { class: "muted" }, "Reading the columns…"));
  let source, existing;
  try {
    [source, existing] = await Promise.all([describeTable(w, p.source_conn_id, mapping.source), describeTable(w, p.target_conn_id, target.table)]);
  } catch (err) {
    return replace(area, errorMessage(err));
  }
  if (!source) return replace(area, message("error", `Source table ${mapping.source} not found in connection ${p.source_conn_id}.`));
  if (!target.columns) return everyColumn(w, p, area, mapping, target, source);
  const view = { w, p, mapping, target, source, existing, area, selected: { source: null, target: null }, newTargets: [] };
  redraw(view);
  return undefined;
}

// For a role that may not read connections (Airflow's Viewer): the mappings as the project holds them (source
// columns or SQL, target names, types, transforms, filter, foreign keys), without describing the tables.
function savedMappings(w, area, mapping, target) {
  const note = h("div", { id: "columns-rights" }, message("info", `These are the mappings saved in the project. ${needsText("Listing the live columns of the source and target tables", ["connections"])}`));
  if (!target.columns) return replace(area, note, message("info", `${target.table} takes every column of ${mapping.source} unchanged (its columns are left out of the project).`));
  const view = { w, p: currentPipeline(w), mapping, target, source: { columns: [] }, existing: null, area, selected: { source: null, target: null }, newTargets: [] };
  const filter = target.filter ? h("p", {}, "Row filter: ", h("code", { id: "row-filter-text" }, target.filter)) : null;
  return replace(area, note, filter, mappingTable(view), foreignKeysPanel(w, target));
}

// A target written without columns takes every source column unchanged: said so, and written out on demand.
function everyColumn(w, p, area, mapping, target, source) {
  const write = h("button", { type: "button", class: "secondary", id: "write-columns" }, "List the columns to edit them");
  write.addEventListener("click", () => {
    target.columns = source.columns.map((c) => ({ source: c.name }));
    drawPair(w, p, area);
  });
  return replace(area, message("info", `${target.table} takes every column of ${mapping.source} unchanged (its columns are left out of the project).`), write);
}

export function redraw(view) {
  const { target, existing } = view;
  const focused = focusKey(view.area);
  replace(view.area,
    existing ? null : message("info", `${target.table} does not exist yet: the load stage creates it from these mappings.`),
    h("div", { class: "two" }, sourcePanel(view), targetPanel(view)),
    actions(view),
    filterField(view),
    mappingTable(view),
    foreignKeysPanel(view.w, view.target));
  restoreFocus(view.area, focused);
}

// Redrawing replaces every control: the one that had the focus (Map, a row's Transform or Remove...) gets it back
// in the new drawing, so a screen reader keeps its place. A removed row's button passes it to the row now there.
function focusKey(area) {
  const el = area.ownerDocument.activeElement;
  if (!el || el === area.ownerDocument.body || !area.contains(el)) return null;
  let row = el.closest("#mappings tbody tr");
  let label = el.getAttribute("aria-label") || "";
  if (row && row.classList.contains("editor")) { // the editor's Done: back to its mapping's Transform button
    row = row.previousElementSibling;
    label = el.id ? label : (row.querySelector("button[aria-expanded]") || el).getAttribute("aria-label") || "";
  }
  return { id: el.id, label, column: el.dataset.column, action: label.split(" ")[0], row: row ? [...row.parentElement.children].filter((r) => !r.classList.contains("editor")).indexOf(row) : -1 };
}

function restoreFocus(area, key) {
  if (!key) return;
  const rows = [...area.querySelectorAll("#mappings tbody tr:not(.editor)")];
  const byAction = (r) => r && [...r.querySelectorAll("button[aria-label]")].find((b) => b.getAttribute("aria-label").split(" ")[0] === key.action);
  const found = (key.id && area.querySelector(`#${CSS.escape(key.id)}`))
    || (key.label && [...area.querySelectorAll("[aria-label]")].find((e) => e.getAttribute("aria-label") === key.label))
    || (key.column && area.querySelector(`button[data-column="${CSS.escape(key.column)}"]`))
    || (key.row >= 0 && (byAction(rows[Math.min(key.row, rows.length - 1)])))
    || area.querySelector("#map-button");
  if (found) found.focus();
}

const mappedSources = (view) => new Set(view.target.columns.filter((m) => m.source && !m.exclude).map((m) => m.source));
const mappedTargets = (view) => new Set(view.target.columns.filter((m) => !m.exclude).map(effectiveTarget));

function targetNames(view) {
  if (view.existing) return view.existing.columns.map((c) => ({ name: c.name, type: c.native_type }));
  const names = [...mappedTargets(view), ...view.newTargets];
  return [...new Set(names)].map((name) => ({ name, type: (view.target.columns.find((m) => effectiveTarget(m) === name) || {}).type || "" }));
}

function sourcePanel(view) {
  const used = mappedSources(view);
  const items = view.source.columns.map((c) => pick(view, "source", c.name, `${c.native_type} → ${c.pg_type}`, used.has(c.name), c.note));
  return h("section", { class: "panel source", "aria-label": "Source columns" },
    h("h3", { class: "side-label source" }, "Source columns ", h("span", { class: "muted" }, `(${view.mapping.source})`)),
    h("ul", { class: "pick-list source", id: "source-columns" }, items));
}

function targetPanel(view) {
  const used = mappedTargets(view);
  const items = targetNames(view).map((c) => pick(view, "target", c.name, c.type, used.has(c.name)));
  const input = h("input", { id: "new-target-column", placeholder: "new column name", autocomplete: "off" });
  const add = h("button", { type: "button", class: "secondary small" }, "Add column");
  add.addEventListener("click", () => {
    const name = input.value.trim();
    if (!name) return;
    view.newTargets.push(name);
    redraw(view);
  });
  return h("section", { class: "panel target", "aria-label": "Target columns" },
    h("h3", { class: "side-label target" }, "Target columns ", h("span", { class: "muted" }, `(${view.target.table})`)),
    items.length ? h("ul", { class: "pick-list target", id: "target-columns" }, items) : h("p", { class: "help" }, "No target column yet: map a source column (same name), or add one."),
    view.existing ? null : h("div", { class: "row" }, field("New target column", input), h("div", { class: "field" }, add)));
}

function pick(view, side, name, type, mapped, note) {
  const pressed = view.selected[side] === name;
  // Clicking the selected column again unselects it.
  const button = h("button", { type: "button", "aria-pressed": String(pressed), class: mapped ? "mapped" : undefined, "data-column": name, title: note || undefined },
    h("span", {}, name, mapped ? h("span", { class: "sr-only" }, " (mapped)") : null, mapped ? " ✓" : null), h("span", { class: "type" }, type || ""));
  button.addEventListener("click", () => {
    view.selected[side] = view.selected[side] === name ? null : name;
    for (const b of button.closest("ul").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.column === view.selected[side]));
    updateMapButton(view);
  });
  return h("li", {}, button);
}

function actions(view) {
  view.mapButton = h("button", { type: "button", class: "primary", id: "map-button" }, "Map");
  view.mapButton.addEventListener("click", () => { if (view.mapButton.getAttribute("aria-disabled") !== "true") mapSelected(view); });
  view.selection = h("span", { class: "muted", "aria-live": "polite" });
  const auto = h("button", { type: "button", class: "secondary", id: "auto-map" }, "Auto-map by name");
  auto.addEventListener("click", () => autoMap(view));
  const exclude = h("button", { type: "button", id: "exclude-rest" }, "Exclude unmapped source columns");
  exclude.addEventListener("click", () => excludeRest(view));
  updateMapButton(view);
  return h("div", { class: "actions" }, view.mapButton, auto, exclude, view.selection);
}

function updateMapButton(view) {
  const { source, target } = view.selected;
  const to = target || (view.existing ? null : source);
  // aria-disabled rather than disabled: Map keeps the focus after mapping (a disabled button would drop it).
  view.mapButton.setAttribute("aria-disabled", String(!source || !to));
  view.selection.textContent = source ? `${source} → ${to || "pick a target column"}` : "Pick a source column, then a target column.";
}

function mapSelected(view) {
  const source = view.selected.source;
  const target = view.selected.target || source;
  addMapping(view, source, target);
  view.selected = { source: null, target: null };
  redraw(view);
  view.area.querySelector("#map-button").focus();
}

function addMapping(view, source, target) {
  const cols = view.target.columns;
  const at = cols.findIndex((m) => (m.exclude ? m.source === source : effectiveTarget(m) === target));
  const m = { source, ...(target !== source ? { target } : {}) };
  if (at >= 0) cols.splice(at, 1, { ...cols[at], ...m, exclude: undefined, expression: undefined });
  else cols.push(m);
  clean(cols);
}

function autoMap(view) {
  const used = mappedSources(view);
  const taken = mappedTargets(view);
  const byName = new Map(targetNames(view).map((c) => [c.name.toLowerCase(), c.name]));
  for (const c of view.source.columns) {
    if (used.has(c.name)) continue;
    const target = view.existing ? byName.get(c.name.toLowerCase()) : c.name;
    if (target && !taken.has(target)) addMapping(view, c.name, target);
  }
  redraw(view);
}

function excludeRest(view) {
  const used = new Set(view.target.columns.map((m) => m.source).filter(Boolean));
  for (const c of view.source.columns) if (!used.has(c.name)) view.target.columns.push({ source: c.name, exclude: true });
  redraw(view);
}

function filterField(view) {
  const input = h("input", { id: "row-filter", value: view.target.filter || "", placeholder: "{status} <> 'deleted'", autocomplete: "off" });
  const out = h("p", { class: "check", "aria-live": "polite" });
  liveCheck(view, input, out, "filter", (v) => { view.target.filter = v || undefined; clean([view.target]); });
  return field("Row filter (optional SQL condition)", input, "Only source rows for which this holds are loaded; write columns as {column}.");
}

function mappingTable(view) {
  const rows = [];
  view.target.columns.forEach((m, i) => {
    rows.push(mappingRow(view, m, i));
    if (view.editing === i) rows.push(h("tr", { class: "editor" }, h("td", { colspan: 5 }, editor(view, m, () => redraw(view)))));
  });
  if (!rows.length) return message("info", "No mapping yet.");
  return h("div", {}, h("h3", {}, `Mappings (${view.target.columns.length})`), h("div", { class: "scroll" }, h("table", { class: "data", id: "mappings" },
    h("thead", {}, h("tr", {}, h("th", { class: "src", scope: "col" }, "Value"), h("th", { class: "tgt", scope: "col" }, "Target column"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Transforms"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
    h("tbody", {}, rows))));
}

function mappingRow(view, m, i) {
  const value = m.expression ? h("code", {}, m.expression) : h("span", { class: "src-text" }, m.source);
  const transforms = [...(m.transform || []), m.date_format ? `format ${m.date_format}` : null, m.default !== undefined && m.default !== null ? `default ${JSON.stringify(m.default)}` : null, m.exclude ? "excluded" : null].filter(Boolean).join(", ");
  const edit = h("button", { type: "button", class: "small secondary", "aria-expanded": String(view.editing === i), "aria-label": `Transform ${effectiveTarget(m)}` }, "Transform");
  edit.addEventListener("click", () => { view.editing = view.editing === i ? null : i; redraw(view); });
  const remove = h("button", { type: "button", class: "small danger", "aria-label": `Remove mapping ${effectiveTarget(m)}` }, "Remove");
  remove.addEventListener("click", () => { view.target.columns.splice(i, 1); view.editing = null; redraw(view); });
  const type = m.type ? h("code", {}, m.type) : h("span", { class: "muted" }, suggestion(view, m) ? `${suggestion(view, m)} (suggested)` : "—");
  return h("tr", { "data-mapping": i }, h("td", {}, value), h("td", { class: "tgt-text" }, m.exclude ? "—" : effectiveTarget(m)), h("td", {}, type), h("td", {}, transforms || "—"), h("td", {}, h("div", { class: "actions", style: "margin:0" }, edit, remove)));
}
