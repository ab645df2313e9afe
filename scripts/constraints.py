"""Write constraints-3.11.txt: the version of every package the databridge package needs, as installed in .venv.

No Airflow constraints URL is reachable here, so the constraints come from the environment that the tests pass in:
the dependency closure of pyproject.toml's dependencies and requirements.txt (extras included), pinned to the
versions installed in the running interpreter. Run it with the project's venv after changing a requirement:

    .venv/bin/python scripts/constraints.py            # writes constraints-3.11.txt
    .venv/bin/python scripts/constraints.py --check    # exit 1 when the file is out of date
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / f"constraints-{sys.version_info.major}.{sys.version_info.minor}.txt"
HEADER = (
    "# Versions measured to work together for DataBridge on Airflow 3.3.2, "
    "Python 3.11 (scripts/constraints.py writes it\n"
    "# from the project's .venv). Install with: pip install -c constraints-3.11.txt databridge-*.whl\n"
)


def roots() -> list[Requirement]:
    """pyproject.toml's dependencies and requirements.txt's lines (the deployment's runtime)."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [line.split("#", 1)[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    return [Requirement(text) for text in [*declared, *(line for line in lines if line)]]


def closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every installed distribution the requirements reach, by canonical name, with its installed version."""
    pinned: dict[str, str] = {}
    todo = [(req, frozenset(req.extras)) for req in requirements]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency this environment does not have: nothing to pin
        pinned[name] = dist.version
        todo += _requirements_of(dist, extras)
    return pinned


def _requirements_of(dist: metadata.Distribution, extras: frozenset[str]) -> list[tuple[Requirement, frozenset[str]]]:
    found = []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras or {""}):
            found.append((req, frozenset(req.extras)))
    return found


def render(pinned: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in sorted(pinned.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from the environment")
    args = parser.parse_args()
    text = render(closure(roots()))
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        print(f"{OUTPUT.name}: {'up to date' if current == text else 'out of date; run scripts/constraints.py'}")
        return 0 if current == text else 1
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.name}: {text.count(chr(10)) - 2} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
