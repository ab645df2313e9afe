"""References from one project to others (schedule.after_projects), checked against the projects of its folder."""

from __future__ import annotations

from collections.abc import Collection

from databridge.compiler.plan import ProjectPlan
from databridge.errors import SpecError
from databridge.spec.names import did_you_mean


def check_after_projects(plan: ProjectPlan, projects: Collection[str]) -> None:
    """A SpecError naming every ``after_projects`` entry that is not another project of the folder (``projects``:
    the names of the projects that compiled)."""
    problems: list[tuple[str, str]] = []
    for index, name in enumerate(plan.schedule.after_projects):
        field = f"schedule.after_projects[{index}]"
        if name == plan.name:
            problems.append((field, f"a project cannot run after itself; remove {name!r}"))
        elif name not in projects:
            others = sorted(p for p in projects if p != plan.name)
            problems.append((field, _unknown(name, others)))
    if problems:
        raise SpecError(plan.file, problems)


def _unknown(name: str, others: list[str]) -> str:
    known = f"one of: {', '.join(others)}" if others else "none is there yet"
    return (
        f"no project named {name!r} in this mappings folder{did_you_mean(name, others)}; write the name: of another "
        f"project of the folder ({known}), or fix that project's file if it has errors (Airflow lists them as import "
        "errors)"
    )
