"""Data-aware lint: sample the source values and report, before any run, what the mappings would do to them."""

from __future__ import annotations

from databridge.lint.pipeline import lint_pipeline
from databridge.lint.problems import LintProblem, format_problems, has_errors

__all__ = ["LintProblem", "format_problems", "has_errors", "lint_pipeline"]
