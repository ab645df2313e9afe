"""Spec problems in the wizard's terms: for each field path, the step and the control that fix it, and where the
problem is (which pair, column or pipeline), so the UI can say it in its own words and take the user there.

The API keeps each problem's ``path`` and ``message`` (the spec's terms, as the CLI says them); this adds ``step``,
``step_name``, ``control`` (a CSS selector of the wizard's page), ``pipeline``/``table``/``target`` (what the step
must show), ``where`` and ``fix`` (the message as the UI says it).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from databridge.spec.loader import NO_COLUMNS

STEPS = ("Tables", "Columns", "Preview", "Schedule", "Validate", "Save & run")
"""The wizard's steps, in order (STEPS in static/js/state.js)."""
SCHEDULE_CONTROLS = {
    "cron": "#cron",
    "timezone": "#timezone",
    "start_date": "#start-date",
    "catchup": "#catchup",
    "deadline_minutes": "#deadline-minutes",
}
DEFAULTS_CONTROLS = {
    "retries",
    "retry_delay_seconds",
    "max_retry_delay_seconds",
    "execution_timeout_minutes",
    "batch_size",
}
PIPELINE_CONTROLS = {
    "source_conn_id": "#source-conn",
    "target_conn_id": "#target-conn",
    "source_options": "#naive-timezone",
    "tables": "#add-pair",
}

Parts = list[tuple[str, int | None]]


def draft_of(text: str) -> dict[str, Any]:
    """The draft as a mapping, to name its pairs and pipelines; empty when it is not one (the problem says why)."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def in_ui_terms(problems: list[dict[str, Any]], draft: dict[str, Any]) -> list[dict[str, Any]]:
    """Each problem with the step and control that fix it and its message in the wizard's words."""
    return [{**p, **locate(p["path"], draft, p["message"])} for p in problems]


def ui_problem(path: str, message: str, *, step: int, control: str, fix: str, where: str = "") -> dict[str, Any]:
    """A problem the service finds itself (not in the spec), said in the API's words and in the wizard's."""
    return {"path": path, "message": message, **_at(step, control), "where": where, "fix": fix}


def locate(path: str, draft: dict[str, Any], message: str) -> dict[str, Any]:
    """Where ``path`` is edited in the wizard; a field the wizard has no control for gets no step."""
    parts = parse_path(path)
    head = parts[0][0] if parts else ""
    if head == "pipelines" and parts[0][1] is not None:
        return _in_pipeline(parts, draft, message)
    if head in ("name", "description"):
        return {**_at(1, f"#project-{head}"), "where": f"project {head}", "fix": message}
    if head in ("schedule", "defaults", "strategy", "pipelines"):
        return {
            **_at(4, _schedule_control(parts)),
            "where": head if head != "pipelines" else "pipelines",
            "fix": message,
        }
    return {
        "where": path,
        "fix": f"{message} (the wizard has no control for this field: edit it in the project's YAML file)",
    }


def parse_path(path: str) -> Parts:
    """'pipelines[0].tables[2].source' -> [('pipelines', 0), ('tables', 2), ('source', None)]."""
    parts: Parts = []
    for token in path.split(".") if path else []:
        match = re.fullmatch(r"(.*?)(?:\[(\d+)\])*", token)
        index = re.findall(r"\[(\d+)\]", token)
        parts.append((match[1] if match else token, int(index[0]) if index else None))
    return parts


def _at(step: int, control: str | None) -> dict[str, Any]:
    return {"step": step, "step_name": STEPS[step - 1], "control": control}


def _schedule_control(parts: Parts) -> str:
    head = parts[0][0]
    field = parts[1][0] if len(parts) > 1 else ""
    if head == "schedule":
        return SCHEDULE_CONTROLS.get(field, 'section[aria-label="Schedule"]')
    if head == "defaults" and field in DEFAULTS_CONTROLS:
        return f"#defaults-{field}"
    return 'section[aria-label="Retries and timeouts"]' if head == "defaults" else "#pipelines"


def _in_pipeline(parts: Parts, draft: dict[str, Any], message: str) -> dict[str, Any]:
    i = parts[0][1] or 0
    pipeline = _item(draft.get("pipelines"), i)
    name = f"pipeline {pipeline.get('name') or i + 1}"
    field = parts[1][0] if len(parts) > 1 else ""
    if field == "tables" and len(parts) > 2 and parts[1][1] is not None:
        return {"pipeline": i, **_in_pair(parts[1:], pipeline, name, message)}
    if field in ("name", "depends_on", ""):
        return {"pipeline": i, **_at(4, f"#pipelines tbody tr:nth-child({i + 1})"), "where": name, "fix": message}
    if field in PIPELINE_CONTROLS:
        return {"pipeline": i, **_at(1, PIPELINE_CONTROLS[field]), "where": name, "fix": message}
    if field == "validations":
        return {"pipeline": i, **_at(5, "#checks"), "where": f"checks of {name}", "fix": message}
    return {
        "pipeline": i,
        "where": name,
        "fix": f"{message} (the wizard has no control for this field: edit it in the project's YAML file)",
    }


def _in_pair(parts: Parts, pipeline: dict[str, Any], name: str, message: str) -> dict[str, Any]:
    """``parts`` from tables[j] on: step 2 for what the Columns step edits, step 1 (the pair's row) for the rest."""
    j = parts[0][1] or 0
    mapping = _item(pipeline.get("tables"), j)
    k = parts[1][1] if len(parts) > 1 and parts[1][0] == "targets" and parts[1][1] is not None else 0
    target = _item(mapping.get("targets"), k)
    where = f"pair {mapping.get('source') or f'#{j + 1}'} → {target.get('table') or f'#{k + 1}'} ({name})"
    place = {"table": j, "target": k}
    rest = parts[2:] if parts[1][0] == "targets" else []
    field, column = rest[0] if rest else ("", None)
    if field == "columns" and column is not None:
        label = _column_label(_item(target.get("columns"), column), column)
        return {
            **place,
            **_at(2, f'#mappings tr[data-mapping="{column}"]'),
            "where": f"column {label} of {where}",
            "fix": message,
        }
    if field == "columns":
        fix = "no column is mapped: map its columns in step 2 (Columns)" if message == NO_COLUMNS else message
        return {**place, **_at(2, "#pair-picker"), "where": where, "fix": fix}
    if field in ("filter", "foreign_keys"):
        return {
            **place,
            **_at(2, "#row-filter" if field == "filter" else "#foreign-keys"),
            "where": where,
            "fix": message,
        }
    return {**place, **_at(1, f'#pair-table tr[data-pair="{j}:{k}"]'), "where": where, "fix": message}


def _column_label(column: dict[str, Any], index: int) -> str:
    return str(column.get("target") or column.get("source") or f"#{index + 1}")


def _item(items: Any, index: int) -> dict[str, Any]:
    """items[index] when it is a mapping; else an empty one (the draft may be anything)."""
    item = items[index] if isinstance(items, list) and 0 <= index < len(items) else None
    return dict(item) if isinstance(item, dict) else {}
