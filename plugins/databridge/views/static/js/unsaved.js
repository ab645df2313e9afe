// Unsaved work in the wizard: the project differs from what was last loaded or saved. Leaving then asks first: closing
// or reloading the tab (the browser's own question, on this page and on Airflow's page around its iframe), a link of
// these pages or of Airflow's navigation, and opening another project (a question in the page: Airflow's iframe is
// sandboxed without allow-modals, where the browser would not show its own).

import { confirmChoice } from "./dom.js";

// The project as text, keys sorted, without what means "not set" (null, "", [], {}): a step that only adds an
// empty schedule or an empty list is not a change.
export function snapshot(project) {
  return JSON.stringify(project, (_key, value) => {
    if (value === null || value === undefined || value === "") return undefined;
    if (Array.isArray(value)) return value.length ? value : undefined;
    if (typeof value !== "object") return value;
    const keys = Object.keys(value).filter((k) => value[k] !== null && value[k] !== undefined && value[k] !== "").sort();
    return keys.length ? Object.fromEntries(keys.map((k) => [k, value[k]])) : undefined;
  }) ?? "";
}

export const markSaved = (w) => { w.savedSnapshot = snapshot(w.project); };
export const isDirty = (w) => w.savedSnapshot !== undefined && snapshot(w.project) !== w.savedSnapshot;

// Whether the person agrees to lose the unsaved changes (true at once when there are none).
export function mayDiscard(w, doing, yes) {
  if (!isDirty(w)) return Promise.resolve(true);
  const name = w.project.name ? `Project ${w.project.name} has` : "This project has";
  return confirmChoice({ title: "Discard unsaved changes?", text: `${name} changes that are not saved. ${doing} discards them; Save in step 6 keeps them.`, yes, no: "Stay and keep editing" });
}

// Guards every way out of the page while the project has unsaved changes.
export function guardLeaving(w) {
  const warn = (event) => {
    if (!isDirty(w) || w.leaving) return;
    event.preventDefault();
    event.returnValue = ""; // the browser shows its own words
  };
  const follow = (doc) => async (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    if (!link || w.leaving || !isDirty(w) || link.target === "_blank" || event.ctrlKey || event.metaKey || event.shiftKey || link.getAttribute("href").startsWith("#")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (!(await mayDiscard(w, "Leaving the wizard", "Leave without saving"))) return;
    w.leaving = true;
    link.click(); // followed as it would have been, now without the question
    if (doc !== document) setTimeout(() => { w.leaving = false; }, 1000); // Airflow may stay on its page
  };
  window.addEventListener("beforeunload", warn);
  document.addEventListener("click", follow(document), true);
  const top = airflowPage();
  if (!top) return;
  const onTopClick = follow(top.document);
  top.addEventListener("beforeunload", warn);
  top.document.addEventListener("click", onTopClick, true);
  window.addEventListener("pagehide", () => {
    top.removeEventListener("beforeunload", warn);
    top.document.removeEventListener("click", onTopClick, true);
  });
}

// Airflow's page around the wizard's iframe (same origin), or null outside an iframe.
function airflowPage() {
  try {
    return window.top !== window && window.top.document ? window.top : null;
  } catch {
    return null; // another origin: its page is not ours to guard
  }
}
