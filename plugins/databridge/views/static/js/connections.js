// Connections page: the Airflow Connections DataBridge can read from (sources) and write to (PostgreSQL targets),
// each with a Test button that opens it and runs a trivial query. A role that may read DAGs but not connections
// (Airflow's Viewer) gets their names, types and uses only, and is told which permission shows the rest.

import { get, may, needsText, post } from "./api.js";
import { busy, dataTable, duration, errorMessage, h, message, replace } from "./dom.js";

export async function render(root) {
  const list = await get("/connections");
  if (!list.length) {
    replace(root, message("info", "No connection DataBridge can use yet. Add one in Airflow under Admin > Connections (postgres, mysql, sqlite, mssql, mongo or couchdb)."));
    return;
  }
  if (!may("connections")) return namesOnly(root, list);
  const rows = list.map((c) => [
    h("code", {}, c.conn_id),
    c.conn_type,
    [c.host, c.port].filter((v) => v !== null && v !== undefined && v !== "").join(":") || "—",
    c.database || "—",
    uses(c),
    c.test_connection === "Hidden" ? "—" : testCell(c.conn_id), // Airflow's [core] test_connection = Hidden
  ]);
  replace(
    root,
    h("p", { class: "muted" }, "Passwords and extras are never shown. Sources are read by the extract stage; targets must be PostgreSQL."),
    dataTable(["Connection", "Type", "Host", "Database", "Use", "Test"], rows, { caption: "Connections DataBridge can use" }),
  );
}

const uses = (c) => [c.can_be_source ? h("span", { class: "src-text" }, "source") : null, c.can_be_source && c.can_be_target ? " · " : null, c.can_be_target ? h("span", { class: "tgt-text" }, "target") : null];

function namesOnly(root, list) {
  const why = `${needsText("Seeing where a connection points (host, database) and testing it", ["connections"])} Ask an Airflow admin to grant it.`;
  const rows = list.map((c) => [h("code", {}, c.conn_id), c.conn_type, uses(c),
    h("button", { class: "secondary small", disabled: true, title: why, "aria-label": `Test connection ${c.conn_id}`, "aria-describedby": "connections-rights" }, "Test")]);
  replace(root, h("div", { id: "connections-rights" }, message("info", why)),
    dataTable(["Connection", "Type", "Use", "Test"], rows, { caption: "Connections DataBridge can use" }));
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
          h("p", { class: "check ok" }, `OK in ${duration(result.seconds)}: ${result.detail}`),
          ...(result.warnings || []).map((w) => h("p", { class: "check warn", role: "note" }, `Warning: ${w}`)),
        );
      } catch (err) {
        replace(out, errorMessage(err));
      }
    }),
  );
  return h("div", {}, button, out);
}
