// What the Columns step and its transform editor share about one column mapping: the target column it fills, the
// type suggested for it, and dropping the keys left empty.

export const effectiveTarget = (m) => m.target || m.source;

// Keys set to undefined/empty are removed, so the saved YAML holds only what was chosen.
export function clean(cols) {
  for (const m of cols) for (const k of Object.keys(m)) if (m[k] === undefined || m[k] === "" || (Array.isArray(m[k]) && !m[k].length)) delete m[k];
}

// The type a new target column gets when none is declared, as the compiler decides it (compiler/columns.py): the
// source column's staged type, kept through TRIM/UPPER/LOWER and a default when it is a string (a varchar(45) stays
// varchar(45)); text after a date format, or a clean-up of a non-string column; custom SQL: its result's type.
const STRING_TYPE = /^(text|varchar|character varying|char|character|bpchar)\b/i;

export function suggestion(view, m) {
  if (view.existing) return (view.existing.columns.find((c) => c.name === effectiveTarget(m)) || {}).native_type;
  if (m.expression) return undefined;
  const staged = (view.source.columns.find((c) => c.name === m.source) || {}).pg_type;
  if (staged && (m.date_format || ((m.transform || []).length && !STRING_TYPE.test(staged)))) return "text";
  return staged;
}
