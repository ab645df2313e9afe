"""The one error tree of DataBridge: every failure a user can meet is one of these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class DataBridgeError(Exception):
    """Root of every error DataBridge raises on purpose."""


class SpecError(DataBridgeError):
    """A mapping project is wrong: says which file, which field and what to write instead."""

    def __init__(self, file: str, problems: Sequence[tuple[str, str]]) -> None:
        self.file = file
        self.problems = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            path, message = self.problems[0]
            return f"{self.file}: {_located(path, message)}"
        lines = [f"{self.file}: {len(self.problems)} problems"]
        lines += [f"  - {_located(path, message)}" for path, message in self.problems]
        return "\n".join(lines)


def _located(path: str, message: str) -> str:
    return f"{path}: {message}" if path else message


class CompileError(DataBridgeError):
    """A valid spec that cannot be turned into a plan (e.g. pipelines that depend on each other)."""


class EngineError(DataBridgeError):
    """A database said no. ``transient`` errors are worth a retry; the others are not."""

    def __init__(self, message: str, *, transient: bool, engine: str = "") -> None:
        self.transient = transient
        self.engine = engine
        super().__init__(message)


class MissingTable(EngineError):
    """A source table the project names is not in the source: a mistake in the project, reported with its file."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


@dataclass(frozen=True)
class FailedCheck:
    """One validation that did not hold."""

    table: str
    check: str
    detail: str


class ValidationFailed(DataBridgeError):
    """Every validation marked ``fail`` that did not hold, in one message."""

    def __init__(self, failures: Sequence[FailedCheck]) -> None:
        self.failures = list(failures)
        lines = [f"{len(self.failures)} validation(s) failed:"]
        lines += [f"  - {f.table}: {f.check}: {f.detail}" for f in self.failures]
        super().__init__("\n".join(lines))
