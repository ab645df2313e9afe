// The wizard for a role that may read projects but not change them (Airflow's Viewer): every control that changes
// the project, or reads the source databases, is disabled with the missing permission in its title, and a note at
// the top says what is off and why. A control says what it needs in data-needs (keys of api.js PERMISSIONS; "none"
// for controls that only read: the steps, the pickers, Open, Validate) and what it does in data-doing; without
// data-needs, a control edits the project (edit DAGs).

import { lacking, may, needsText } from "./api.js";
import { message } from "./dom.js";

const CONTROLS = "button, input, select, textarea";

// Locks what the role may not use under `root`, now and whenever a step draws (or re-enables) a control.
export function guardControls(root) {
  if (may("edit") && may("connections") && may("trigger")) return;
  lockAll(root);
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "attributes") lock(change.target);
      else for (const node of change.addedNodes) if (node.nodeType === Node.ELEMENT_NODE) lockAll(node);
    }
  }).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"] });
}

function lockAll(el) {
  if (el.matches(CONTROLS)) lock(el);
  for (const control of el.querySelectorAll(CONTROLS)) lock(control);
}

function lock(control) {
  if (!control.matches || !control.matches(CONTROLS)) return;
  const missing = lacking(...(control.dataset.needs ?? "edit").split(/\s+/).filter((n) => n && n !== "none"));
  if (!missing.length) return;
  if (!control.disabled) control.disabled = true;
  control.classList.add("locked");
  control.title = `${needsText(control.dataset.doing || "Changing the project", missing)} Ask an Airflow admin to grant ${missing.length > 1 ? "them" : "it"}.`;
}

// The note above the steps for a role that may not change the project: what it may read, what is off and why.
export function readOnlyNote() {
  if (may("edit")) return null;
  const off = [needsText("Changing and saving the project", ["edit"])];
  if (!may("trigger")) off.push(needsText("Running it", ["trigger"]));
  if (!may("connections")) off.push(needsText("Browsing the sources, listing their live columns and previewing rows", ["connections"]));
  const note = message("info", "Read-only: you can open every saved project and read each step (its connections, pairs, column mappings, schedule and checks), but not change it. Each disabled control names the permission it needs.", off);
  note.id = "read-only-note";
  return note;
}
