// The transform editor of one column mapping: its value (a source column or custom SQL with {column}), type
// conversion, TRIM/UPPER/LOWER, date format, default and exclude. SQL, type and format are checked by the server
// as they are typed (the spec checker's own messages, with did-you-mean for unknown columns).

import { explain, may, post } from "../api.js";
import { debounce, field, h, option, replace } from "../dom.js";
import { clean, effectiveTarget, suggestion } from "./mapping.js";

const OPS = ["trim", "upper", "lower"];

// `done`: called when the editor is closed (the Columns step redraws its mappings).
export function editor(view, m, done) {
  const names = view.source.columns.map((c) => c.name);
  const valueSel = h("select", { id: "edit-value" }, option("", "Custom SQL expression", m.source && !m.expression ? m.source : ""), names.map((n) => option(n, `Source column ${n}`, m.expression ? "" : m.source)));
  const expr = h("textarea", { id: "edit-expression", rows: 2, placeholder: "UPPER(TRIM({name}))" }, m.expression || "");
  const exprOut = h("p", { class: "check", "aria-live": "polite" });
  const exprField = field("Custom SQL ({column} placeholders)", expr);
  exprField.append(exprOut);
  exprField.hidden = !m.expression && Boolean(m.source);
  valueSel.addEventListener("change", () => {
    if (valueSel.value) { m.source = valueSel.value; delete m.expression; exprField.hidden = true; }
    else { exprField.hidden = false; if (!m.target) m.target = effectiveTarget(m); delete m.source; }
  });
  liveCheck(view, expr, exprOut, "expression", (v) => { m.expression = v || undefined; clean([m]); });
  const type = h("input", { id: "edit-type", value: m.type || "", placeholder: suggestion(view, m) || "text", autocomplete: "off" });
  const typeOut = h("p", { class: "check", "aria-live": "polite" });
  liveCheck(view, type, typeOut, "type", (v) => { m.type = v || undefined; clean([m]); });
  const useSuggestion = suggestion(view, m) ? h("button", { type: "button", class: "small" }, `Use ${suggestion(view, m)}`) : null;
  if (useSuggestion) useSuggestion.addEventListener("click", () => { type.value = suggestion(view, m); type.dispatchEvent(new Event("input")); });
  const fmtIn = h("input", { id: "edit-date-format", value: m.date_format || "", placeholder: "YYYY-MM-DD or %Y-%m-%d", autocomplete: "off" });
  const fmtOut = h("p", { class: "check", "aria-live": "polite" });
  liveCheck(view, fmtIn, fmtOut, "date_format", (v) => { m.date_format = v || undefined; clean([m]); });
  const def = h("input", { id: "edit-default", value: m.default ?? "", autocomplete: "off" });
  def.addEventListener("input", () => { m.default = def.value === "" ? undefined : def.value; clean([m]); });
  const ops = OPS.map((op) => {
    const box = h("input", { type: "checkbox", checked: (m.transform || []).includes(op) });
    box.addEventListener("change", () => { m.transform = OPS.filter((o) => (o === op ? box.checked : (m.transform || []).includes(o))); clean([m]); });
    return h("label", { class: "inline" }, box, op.toUpperCase());
  });
  const exclude = h("input", { type: "checkbox", checked: Boolean(m.exclude) });
  exclude.addEventListener("change", () => { m.exclude = exclude.checked || undefined; clean([m]); });
  const close = h("button", { type: "button", class: "primary small" }, "Done");
  close.addEventListener("click", () => { view.editing = null; done(); });
  return h("div", { role: "group", "aria-label": `Transform of ${effectiveTarget(m)}` },
    h("div", { class: "row" }, field("Value", valueSel), withCheck(field("Type conversion (PostgreSQL type)", type), typeOut, useSuggestion)),
    exprField,
    h("fieldset", { style: "border:none;padding:0;margin:4px 0" }, h("legend", { style: "font-weight:500" }, "String clean-ups"), ops),
    h("div", { class: "row" }, withCheck(field("Date format", fmtIn), fmtOut), field("Default (when NULL or empty)", def)),
    h("label", { class: "inline" }, exclude, "Exclude this source column from the target"),
    h("div", { class: "actions" }, close));
}

function withCheck(fieldEl, out, extra) {
  fieldEl.append(out);
  if (extra) fieldEl.append(extra);
  return fieldEl;
}

// Check a SQL field on the server as it is typed (300 ms after the last key), then store it.
export function liveCheck(view, input, out, kind, store) {
  if (!may("edit")) return; // read-only: the field is disabled (readonly.js) and the check would answer 403
  const columns = view.source.columns.map((c) => c.name);
  const check = debounce(async () => {
    const text = input.value.trim();
    store(text);
    if (!text) { replace(out); out.className = "check"; input.removeAttribute("aria-invalid"); return; }
    try {
      const r = await post("/expressions/check", { expression: text, kind, columns });
      out.className = "check ok";
      replace(out, `✓ ${r.sql}`);
      input.setAttribute("aria-invalid", "false");
    } catch (err) {
      out.className = "check error";
      replace(out, `✗ ${explain(err)}`);
      input.setAttribute("aria-invalid", "true");
    }
  }, 300);
  input.addEventListener("input", check);
  if (input.value) check();
}
