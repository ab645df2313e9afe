// The Tables step's whole-database actions: "Add tables" (search, select, Add selected, naming convention, target schema) and
// "Auto-map all" (every pair without columns at once). Both ask the server's generator
// (POST /connections/{id}/generate), the one behind include patterns and `databridge init`: every column, named by the
// convention, keys from the source's primary keys, foreign keys and roles from the source's references.

import { post } from "../api.js";
import { busy, field, h, message, option, replace, uid } from "../dom.js";
import { joinName, spec } from "../state.js";

const NAMINGS = [["as_is", "as is (InvoiceLineId)"], ["lower", "lower case (invoicelineid)"], ["snake_case", "snake_case (invoice_line_id)"]];

// The panel; `side.source.onTables(schema, names)` fills it whenever the source panel lists a schema's tables.
export function bulkPanel(w, p, side, onAdded) {
  const state = { schema: null, names: [], chosen: new Set() };
  const search = h("input", { id: "bulk-search", type: "search", placeholder: "filter by name, e.g. invoice", autocomplete: "off" });
  const all = h("input", { id: "bulk-select-all", type: "checkbox" });
  const list = h("ul", { class: "pick-list source", id: "bulk-tables", "aria-label": "Tables to add" });
  const naming = h("select", { id: "bulk-naming" }, NAMINGS.map(([v, label]) => option(v, label, w.naming || "as_is")));
  naming.addEventListener("change", () => { w.naming = naming.value; });
  const schema = h("input", { id: "bulk-target-schema", value: w.targetSchema ?? "public", placeholder: "public", autocomplete: "off" });
  schema.addEventListener("input", () => { w.targetSchema = schema.value.trim(); });
  const add = h("button", { type: "button", class: "primary", id: "bulk-add", disabled: true }, "Add selected (0)");
  const out = h("div", { "aria-live": "polite" });
  const shown = () => state.names.filter((n) => n.toLowerCase().includes(search.value.trim().toLowerCase()));
  const draw = () => {
    const visible = shown();
    replace(list, visible.length ? visible.map((n) => tableItem(state, n, count)) : h("li", { class: "muted" }, h("span", { class: "help" }, state.schema ? "No table matches." : "Choose a source schema above.")));
    all.checked = visible.length > 0 && visible.every((n) => state.chosen.has(n));
    count();
  };
  const count = () => {
    add.textContent = `Add selected (${state.chosen.size})`;
    add.disabled = !state.chosen.size;
  };
  search.addEventListener("input", draw);
  all.addEventListener("change", () => {
    for (const n of shown()) if (all.checked) state.chosen.add(n); else state.chosen.delete(n);
    draw();
  });
  side.source.onTables = (schemaName, names) => {
    Object.assign(state, { schema: schemaName, names, chosen: new Set() });
    draw();
  };
  add.addEventListener("click", () => busy(add, "Adding…", async () => {
    const tables = state.names.filter((n) => state.chosen.has(n)).map((n) => joinName(state.schema, n));
    const generated = await generateFor(w, p, tables);
    const added = addGenerated(p, generated);
    replace(out, message("ok", `Added ${added} pair${added === 1 ? "" : "s"}, every column mapped, keys from the primary keys${generated.validations.length ? `; ${generated.validations.length} reference(s) closing a cycle become foreign-key checks` : ""}.`));
    onAdded();
  }, out));
  draw();
  // Open while the pipeline has no pair yet: choosing tables here is the short way (a handful of clicks for a schema).
  return h("details", { class: "panel", id: "bulk-panel", open: !p.tables.length || undefined }, h("summary", {}, "Add tables: search, select, add selected"),
    h("p", { class: "help" }, "Every table chosen becomes a pair with every column mapped, its primary key as keys, and its references to the others as foreign keys (a referenced table is a dimension)."),
    h("div", { class: "row" }, field("Search", search), field("Names of target tables and columns", naming, spec(w, "Pipeline", "naming").help), field("Target schema", schema, "Schema of the new target tables; empty: the source schema.")),
    h("label", { class: "check-all" }, all, " Select all shown"),
    list, h("div", { class: "actions" }, add), out);
}

function tableItem(state, name, count) {
  const box = h("input", { type: "checkbox", id: uid("bulk"), checked: state.chosen.has(name), "data-table": name });
  box.addEventListener("change", () => {
    if (box.checked) state.chosen.add(name); else state.chosen.delete(name);
    count();
  });
  return h("li", {}, h("label", { for: box.id, class: "check-item" }, box, " ", name));
}

// "Auto-map all": every pair whose target has no column yet gets every column, and keys and role when it has none.
export function autoMapAllButton(w, p, onDone) {
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "button", class: "secondary", id: "auto-map-all" }, "Auto-map all");
  button.addEventListener("click", () => busy(button, "Mapping…", async () => {
    const open = p.tables.filter((t) => t.targets.some(unmapped));
    if (!open.length) return replace(out, message("info", "Every pair has its columns already."));
    const generated = await generateFor(w, p, open.map((t) => t.source), null);
    let mapped = 0;
    open.forEach((mapping, i) => {
      const made = generated.tables[i].targets[0];
      for (const target of mapping.targets.filter(unmapped)) {
        target.columns = made.columns;
        if (!(target.keys || []).length && made.keys) target.keys = made.keys;
        if (!target.role) target.role = made.role;
        mapped += 1;
      }
    });
    onDone();
    return replace(out, message("ok", `Mapped every column of ${mapped} pair${mapped === 1 ? "" : "s"} (${NAMINGS.find(([v]) => v === (w.naming || "as_is"))[1]}).`));
  }, out));
  return h("div", {}, button, out);
}

// A pair whose column list is empty (a target written without columns takes every column already: left as it is).
const unmapped = (target) => Array.isArray(target.columns) && !target.columns.length;

function generateFor(w, p, tables, targetSchema = w.targetSchema ?? "public") {
  if (!p.source_conn_id) throw new Error("Choose the source connection first.");
  const body = { tables, naming: w.naming || "as_is", target_schema: targetSchema || null };
  return post(`/connections/${encodeURIComponent(p.source_conn_id)}/generate`, body);
}

// The generated pairs not there yet, and the foreign-key checks that close reference cycles; returns the pairs added.
function addGenerated(p, generated) {
  let added = 0;
  for (const made of generated.tables) {
    let mapping = p.tables.find((t) => t.source === made.source);
    if (!mapping) p.tables.push((mapping = { source: made.source, targets: [] }));
    for (const target of made.targets) {
      if (mapping.targets.some((t) => t.table === target.table)) continue;
      mapping.targets.push(target);
      added += 1;
    }
  }
  const known = new Set((p.validations || []).map((v) => JSON.stringify(v)));
  const checks = generated.validations.filter((v) => !known.has(JSON.stringify(v)));
  if (checks.length) p.validations = [...(p.validations || []), ...checks];
  return added;
}
