// Calls to the plugin's routes (/databridge/...) and to Airflow's REST API v2 (/api/v2/...), authenticated by the
// Airflow UI's login cookie. Every failure becomes an ApiError with a message a person can read.

export class ApiError extends Error {
  constructor(status, code, message, problems = [], permissions = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
    this.permissions = permissions; // on a 403: the Airflow permissions the role lacks
  }
}

export async function call(method, path, body) {
  const url = path.startsWith("/api/") ? path : `/databridge${path}`;
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, "NETWORK", `Airflow did not answer (${err.message}). Check that the api-server runs.`);
  }
  const text = await response.text();
  const data = parse(text);
  if (!response.ok) throw failure(response, data, text, method, url);
  return data;
}

// What the signed-in user's Airflow role may do: the page carries it in <body data-can-...> (views/ui.py asks Airflow).
// Each right with the permission it is, as Airflow's Security > Roles pages name it.
export const PERMISSIONS = { edit: "can edit on DAGs", connections: "can read on Connections", trigger: "can create on DAG Runs" };
const FLAGS = { edit: "canEdit", connections: "canReadConnections", trigger: "canTrigger" };
export const may = (right) => document.body.dataset[FLAGS[right]] === "true";
export const lacking = (...rights) => rights.filter((r) => !may(r));
// Whether the user may run what reads the source databases (Preview, Validate's data checks): edit DAGs and read connections.
export const mayReadData = () => document.body.dataset.canPreview === "true";

// "Saving needs the 'can edit on DAGs' permission in Airflow; your role (Viewer) lacks it." (rights: keys of PERMISSIONS)
export function needsText(doing, rights) {
  return refusal(doing, rights.map((r) => PERMISSIONS[r] || r));
}

function refusal(doing, permissions) {
  const roles = document.body.dataset.roles;
  const them = permissions.length > 1 ? "them" : "it";
  return `${doing} needs the ${permissions.map((p) => `'${p}'`).join(" and ")} permission${permissions.length > 1 ? "s" : ""} in Airflow; ${roles ? `your role (${roles})` : "your Airflow role"} lacks ${them}.`;
}

// Why Preview and Validate's data checks are off, naming only the permissions the role lacks.
export const noDataRights = () => `${needsText("Reading the source databases", lacking("edit", "connections"))} Ask an Airflow admin to grant ${lacking("edit", "connections").length > 1 ? "them" : "it"}.`;

export const get = (path) => call("GET", path);
export const post = (path, body = {}) => call("POST", path, body);
export const patch = (path, body) => call("PATCH", path, body);

function parse(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

// The plugin answers {"success": false, "error", "code"} (a 403: with missing_permissions); Airflow's own API answers
// {"detail": ...}, and its 403 names no permission: the one its route checks is named from AIRFLOW_RIGHTS.
function failure(response, data, text, method, url) {
  if (data && data.success === false) return new ApiError(response.status, data.code, data.error, data.problems || [], data.missing_permissions || []);
  const detail = data && data.detail;
  let message = response.statusText || `HTTP ${response.status}`;
  if (typeof detail === "string") message = detail;
  else if (Array.isArray(detail)) message = detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  else if (text && !data) message = text.slice(0, 300);
  const code = response.status === 401 || response.status === 403 ? "AUTH_ERROR" : response.status === 404 ? "NOT_FOUND" : `HTTP_${response.status}`;
  const err = new ApiError(response.status, code, message);
  if (response.status === 403) {
    const known = AIRFLOW_RIGHTS.find(([m, pattern]) => m === method && pattern.test(url.split("?")[0]));
    if (known) Object.assign(err, { doing: known[2], permissions: [known[3]] });
  }
  return err;
}

// The calls the pages make to Airflow's REST API v2 and the permission Airflow checks for each.
const AIRFLOW_RIGHTS = [
  ["POST", /^\/api\/v2\/dags\/[^/]+\/dagRuns$/, "Running a project", "can create on DAG Runs"],
  ["PATCH", /^\/api\/v2\/dags\/[^/]+\/dagRuns\/[^/]+$/, "Changing a run", "can edit on DAG Runs"],
  ["PATCH", /^\/api\/v2\/dags\/[^/]+$/, "Pausing or resuming a project's DAG", "can edit on DAGs"],
  ["PATCH", /^\/api\/v2\/dags\/[^/]+\/dagRuns\/[^/]+\/taskInstances\//, "Changing a task", "can edit on Task Instances"],
  ["POST", /^\/api\/v2\/dags\/[^/]+\/clearTaskInstances$/, "Retrying tasks", "can edit on Task Instances"],
  ["GET", /^\/api\/v2\/dags\/[^/]+$/, "Reading a project's DAG", "can read on DAGs"],
];

// What to tell the person, beyond the server's own words, for the statuses they can act on.
export function explain(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  if (err.status === 401) return `Your Airflow session has ended: log in again (${err.message}).`;
  if (err.code === "DISABLED") return err.message; // Airflow's configuration, not the user's role: the message names the setting
  if (err.status === 403 && err.permissions.length) {
    // The plugin's message names the permissions already; Airflow's own 403 says only "Forbidden".
    return err.doing ? `${refusal(err.doing, err.permissions)} Ask an Airflow admin to grant it (Airflow answered: ${err.message}).` : err.message;
  }
  if (err.status === 403) return `You are not allowed to do this with your Airflow role (Airflow answered: ${err.message}). Ask an Airflow admin for the permission.`;
  return err.message;
}
