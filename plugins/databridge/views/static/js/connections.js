// Connections page: the Airflow Connections DataBridge can read from (sources) and write to (PostgreSQL targets),
// each with a Test button that opens it and runs a trivial query.

import { get, post } from "./api.js";
import { busy, dataTable, errorMessage, h, message, replace } from "./dom.js";

export async function render(root) {
  const list = await get("/connections");
  if (!list.length) {
    replace(root, message("info", "No connection DataBridge can use yet. Add one in Airflow under Admin > Connections (postgres, mysql, sqlite, mssql, mongo or couchdb)."));
    return;
  }
  const rows = list.map((c) => [
    h("code", {}, c.conn_id),
    c.conn_type,
    [c.host, c.port].filter((v) => v !== null && v !== undefined && v !== "").join(":") || "—",
    c.database || "—",
    [c.can_be_source ? h("span", { class: "src-text" }, "source") : null, c.can_be_source && c.can_be_target ? " · " : null, c.can_be_target ? h("span", { class: "tgt-text" }, "target") : null],
    testCell(c.conn_id),
  ]);
  replace(
    root,
    h("p", { class: "muted" }, "Passwords and extras are never shown. Sources are read by the extract stage; targets must be PostgreSQL."),
    dataTable(["Connection", "Type", "Host", "Database", "Use", "Test"], rows, { caption: "Connections DataBridge can use" }),
  );
}

function testCell(connId) {
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { class: "secondary small", "aria-label": `Test connection ${connId}` }, "Test");
  button.addEventListener("click", () =>
    busy(button, "Testing…", async () => {
      replace(out);
      try {
        const result = await post(`/connections/${encodeURIComponent(connId)}/test`);
        replace(
          out,
          h("p", { class: "check ok" }, `OK in ${result.seconds} s: ${result.detail}`),
          ...(result.warnings || []).map((w) => h("p", { class: "check warn", role: "note" }, `Warning: ${w}`)),
        );
      } catch (err) {
        replace(out, errorMessage(err));
      }
    }),
  );
  return h("div", {}, button, out);
}
