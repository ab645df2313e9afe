"""The wizard's ES modules (views/static/js): no import cycle, and the steps take their numbers from the STEPS list
of state.js (no step hard-codes its number in its heading or its messages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from databridge.views.problems import STEPS as SERVER_STEPS

JS = Path(__file__).parents[2] / "plugins" / "databridge" / "views" / "static" / "js"
STEP_FILES = sorted((JS / "steps").glob("*.js"))
IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""", re.MULTILINE
)


def imports(module: Path) -> set[Path]:
    """The modules ``module`` imports statically (import ... from, export ... from, bare import)."""
    found = {a or b for a, b in IMPORT.findall(module.read_text(encoding="utf-8"))}
    return {(module.parent / name).resolve() for name in found if name.startswith(".")}


def cycles(graph: dict[Path, set[Path]]) -> list[list[str]]:
    """Every import cycle found by a depth-first walk, each as the chain of file names that closes it."""
    found: list[list[str]] = []
    state: dict[Path, str] = {}

    def walk(node: Path, path: list[Path]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, set())):
            if state.get(nxt) == "open":
                chain = path[path.index(nxt) :] + [nxt]
                found.append([str(p.relative_to(JS.resolve())) for p in chain])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    return found


def js_graph() -> dict[Path, set[Path]]:
    return {p.resolve(): imports(p) for p in sorted(JS.rglob("*.js"))}


def test_the_import_scan_sees_the_wizard_importing_its_steps() -> None:
    graph = js_graph()
    assert (JS / "steps" / "columns.js").resolve() in graph[(JS / "wizard.js").resolve()]
    a, b = (JS / "a.js").resolve(), (JS / "b.js").resolve()
    assert cycles({a: {b}, b: {a}}) == [["a.js", "b.js", "a.js"]]  # the walk finds a cycle when there is one


def test_the_wizard_modules_import_in_no_cycle() -> None:
    graph = js_graph()
    assert all(target in graph for targets in graph.values() for target in targets), "an import names a missing module"
    assert cycles(graph) == []


def test_no_step_module_imports_the_wizard() -> None:
    wizard = (JS / "wizard.js").resolve()
    assert [p.name for p in STEP_FILES if wizard in imports(p)] == []


@pytest.mark.parametrize("path", STEP_FILES, ids=lambda p: p.name)
def test_a_step_writes_no_step_number_of_its_own(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""h\(\s*["']h2["']\s*,\s*\{[^}]*\}\s*,\s*[`"']\s*\d""", text), (
        "a heading with its number written out"
    )
    assert not re.findall(r"\b[Ss]teps? \d", text), "a step number written out: use stepNumber(key) from state.js"


def test_every_step_heading_comes_from_the_steps_list() -> None:
    keys = re.findall(
        r"""\{\s*key:\s*"([a-z]+)",\s*name:\s*"[^"]+",\s*title:""", (JS / "state.js").read_text(encoding="utf-8")
    )
    used = {m for p in STEP_FILES for m in re.findall(r"""heading\("([a-z]+)"\)""", p.read_text(encoding="utf-8"))}
    assert used == set(keys) and len(keys) == 6


def test_the_server_numbers_the_steps_as_the_wizard_does() -> None:
    """Problems say "Go to step N (name)" (views/problems.py): the same order as the stepper's."""
    names = re.findall(r"""\{\s*key:\s*"[a-z]+",\s*name:\s*"([^"]+)\"""", (JS / "state.js").read_text(encoding="utf-8"))
    assert tuple(names) == SERVER_STEPS
