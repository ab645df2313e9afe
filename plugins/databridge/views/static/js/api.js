// Calls to the plugin's routes (/databridge/...) and to Airflow's REST API v2 (/api/v2/...), authenticated by the
// Airflow UI's login cookie. Every failure becomes an ApiError with a message a person can read.

export class ApiError extends Error {
  constructor(status, code, message, problems = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
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
  if (!response.ok) throw failure(response, data, text);
  return data;
}

// Whether the signed-in user may run what reads the source databases (Preview, Validate's data checks): the page
// carries it in <body data-can-preview>, from the Airflow rights those routes check (edit DAGs, read connections).
export const mayReadData = () => document.body.dataset.canPreview === "true";
export const NO_DATA_RIGHTS = "Reading the source databases needs the rights of saving a project (edit DAGs) and of reading connections in Airflow, and your role lacks one of them. Ask an Airflow admin for them.";

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

// The plugin answers {"success": false, "error", "code"}; Airflow's own API answers {"detail": ...}.
function failure(response, data, text) {
  if (data && data.success === false) return new ApiError(response.status, data.code, data.error, data.problems || []);
  const detail = data && data.detail;
  let message = response.statusText || `HTTP ${response.status}`;
  if (typeof detail === "string") message = detail;
  else if (Array.isArray(detail)) message = detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  else if (text && !data) message = text.slice(0, 300);
  const code = response.status === 401 || response.status === 403 ? "AUTH_ERROR" : response.status === 404 ? "NOT_FOUND" : `HTTP_${response.status}`;
  return new ApiError(response.status, code, message);
}

// What to tell the person, beyond the server's own words, for the statuses they can act on.
export function explain(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  if (err.status === 401) return `Your Airflow session has ended: log in again (${err.message}).`;
  if (err.status === 403) return `You are not allowed to do this with your Airflow role (Airflow answered: ${err.message}). Ask an Airflow admin for the permission.`;
  return err.message;
}
