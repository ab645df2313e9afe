// What ties the tables together, editable in the wizard rather than only in YAML: a target table's foreign keys
// (Columns step) and a pipeline's checks after loading (Validate step). Fields, choices and help come from the
// project's JSON schema (/spec/schema); entries are edited in place, so fields the wizard has no control for stay.

import { field, h, message, option, replace } from "../dom.js";
import { spec } from "../state.js";

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const targetTables = (w) => [...new Set(w.project.pipelines.flatMap((p) => p.tables.flatMap((t) => t.targets.map((g) => g.table))))];

function tableChoices(w, id) {
  return h("datalist", { id }, targetTables(w).map((t) => option(t)));
}

// Foreign keys of one target table: listed with Remove, and a small form to add one.
export function foreignKeysPanel(w, target) {
  const panel = h("section", { class: "panel", id: "foreign-keys", "aria-label": `Foreign keys of ${target.table}` });
  const draw = (focusId) => {
    const fks = target.foreign_keys || [];
    const rows = fks.map((fk, i) => {
      const remove = h("button", { type: "button", class: "small danger", "aria-label": `Remove foreign key ${fk.columns.join(", ")} of ${target.table}` }, "Remove");
      remove.addEventListener("click", () => {
        fks.splice(i, 1);
        draw("fk-columns");
      });
      const refs = fk.referenced_columns && fk.referenced_columns.length ? fk.referenced_columns : fk.columns;
      return h("li", {}, h("code", {}, fk.columns.join(", ")), " → ", h("code", {}, `${fk.references} (${refs.join(", ")})`), " ", remove);
    });
    const columns = h("input", { id: "fk-columns", placeholder: "customer_id", autocomplete: "off" });
    const references = h("input", { id: "fk-references", placeholder: "public.customers", list: "fk-tables", autocomplete: "off" });
    const referenced = h("input", { id: "fk-referenced-columns", placeholder: "id (default: the same names)", autocomplete: "off" });
    const out = h("div", { "aria-live": "polite" });
    const add = h("button", { type: "button", class: "secondary small", id: "add-foreign-key" }, "Add foreign key");
    add.addEventListener("click", () => {
      if (!list(columns.value).length || !references.value.trim()) return replace(out, message("error", "Write the referencing columns and the referenced table of the foreign key."));
      const fk = { columns: list(columns.value), references: references.value.trim() };
      if (list(referenced.value).length) fk.referenced_columns = list(referenced.value);
      target.foreign_keys = [...fks, fk];
      draw("add-foreign-key");
      return undefined;
    });
    replace(panel, h("h3", {}, "Foreign keys ", h("span", { class: "muted" }, `(${target.table})`)),
      h("p", { class: "help" }, (w.schema.$defs.ForeignKey || {}).description || "References to other target tables."),
      rows.length ? h("ul", { class: "plain-list" }, rows) : h("p", { class: "muted" }, "No foreign key."),
      tableChoices(w, "fk-tables"),
      h("div", { class: "row" }, field("Columns", columns, spec(w, "ForeignKey", "columns").help), field("References table", references, spec(w, "ForeignKey", "references").help),
        field("Referenced columns", referenced, spec(w, "ForeignKey", "referenced_columns").help), h("div", { class: "field" }, add)), out);
    if (focusId) panel.querySelector(`#${focusId}`).focus();
  };
  draw();
  return panel;
}

const KINDS = [["not_null", "Not NULL"], ["foreign_key", "Foreign key holds"], ["custom", "Custom SQL"]];

function describe(check) {
  if (check.check === "not_null") return `${check.table}: ${(check.columns || []).join(", ")} not NULL`;
  if (check.check === "foreign_key") return `${check.table} (${(check.columns || []).join(", ")}) → ${check.references}`;
  return `${check.name}: ${check.sql} = ${JSON.stringify(check.expect ?? 0)}`;
}

// The pipeline's checks after loading (besides the row counts, always checked): listed with Remove, and a form to add one.
export function checksPanel(w, p) {
  const panel = h("section", { class: "panel", id: "checks", "aria-label": "Checks after loading" });
  const draw = (focusId) => {
    const checks = p.validations || [];
    const items = checks.map((c, i) => {
      const remove = h("button", { type: "button", class: "small danger", "aria-label": `Remove check ${describe(c)}` }, "Remove");
      remove.addEventListener("click", () => { checks.splice(i, 1); draw("check-kind"); });
      return h("li", {}, h("span", { class: "badge" }, c.check), " ", describe(c), c.on_failure === "warn" ? h("span", { class: "muted" }, " (warns)") : null, " ", remove);
    });
    const kind = h("select", { id: "check-kind" }, KINDS.map(([v, label]) => option(v, label, "not_null")));
    const table = h("input", { id: "check-table", placeholder: "public.orders", list: "check-tables", autocomplete: "off" });
    const columns = h("input", { id: "check-columns", placeholder: "customer_id", autocomplete: "off" });
    const references = h("input", { id: "check-references", placeholder: "public.customers", list: "check-tables", autocomplete: "off" });
    const referenced = h("input", { id: "check-referenced-columns", placeholder: "id", autocomplete: "off" });
    const name = h("input", { id: "check-name", placeholder: "no negative totals", autocomplete: "off" });
    const sql = h("textarea", { id: "check-sql", rows: 2, placeholder: "SELECT count(*) FROM public.orders WHERE total < 0" });
    const expect = h("input", { id: "check-expect", value: "0", autocomplete: "off" });
    const onFailure = h("select", { id: "check-on-failure" }, option("fail", "fail the validate stage", "fail"), option("warn", "warn and go on"));
    const fields = {
      table: field("Target table", table, spec(w, "NotNullCheck", "table").help),
      columns: field("Columns", columns, "Comma-separated target columns."),
      references: field("References table", references, spec(w, "ForeignKeyCheck", "references").help),
      referenced: field("Referenced columns", referenced, spec(w, "ForeignKeyCheck", "referenced_columns").help),
      name: field("Name", name, spec(w, "CustomCheck", "name").help),
      sql: field("Query", sql, spec(w, "CustomCheck", "sql").help),
      expect: field("Expected value", expect, spec(w, "CustomCheck", "expect").help),
    };
    const shown = { not_null: ["table", "columns"], foreign_key: ["table", "columns", "references", "referenced"], custom: ["name", "sql", "expect"] };
    const show = () => { for (const [key, el] of Object.entries(fields)) el.hidden = !shown[kind.value].includes(key); };
    kind.addEventListener("change", show);
    show();
    const out = h("div", { "aria-live": "polite" });
    const add = h("button", { type: "button", class: "secondary small", id: "add-check" }, "Add check");
    add.addEventListener("click", () => {
      const check = { check: kind.value };
      if (kind.value === "custom") {
        if (!name.value.trim() || !sql.value.trim()) return replace(out, message("error", "A custom check needs a name and a query."));
        Object.assign(check, { name: name.value.trim(), sql: sql.value.trim(), expect: expected(expect.value) });
      } else {
        if (!table.value.trim() || !list(columns.value).length) return replace(out, message("error", "Write the target table and its columns."));
        Object.assign(check, { table: table.value.trim(), columns: list(columns.value) });
        if (kind.value === "foreign_key") {
          if (!references.value.trim()) return replace(out, message("error", "Write the referenced table."));
          check.references = references.value.trim();
          if (list(referenced.value).length) check.referenced_columns = list(referenced.value);
        }
      }
      if (onFailure.value !== "fail") check.on_failure = onFailure.value;
      p.validations = [...checks, check];
      draw("add-check");
      return undefined;
    });
    replace(panel, h("h3", {}, "Checks after loading"),
      h("p", { class: "help" }, spec(w, "Pipeline", "validations").help || ""),
      items.length ? h("ul", { class: "plain-list", id: "check-list" }, items) : h("p", { class: "muted" }, "No check besides the row counts."),
      tableChoices(w, "check-tables"),
      h("div", { class: "row" }, field("Check", kind), field("When it fails", onFailure, spec(w, "NotNullCheck", "on_failure").help)),
      h("div", { class: "row" }, fields.table, fields.columns, fields.references, fields.referenced), fields.name, fields.sql, fields.expect,
      h("div", { class: "actions" }, add), out);
    if (focusId) panel.querySelector(`#${focusId}`).focus();
  };
  draw();
  return panel;
}

// "0" → 0, "true" → true, "" → null, anything else as written.
function expected(text) {
  const t = text.trim();
  if (t === "") return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === "true" || t === "false") return t === "true";
  return t;
}
