"""Spec → plan: pipelines in order, tables in load order, the SQL each stage runs (pure)."""

from databridge.compiler.compile import compile_project
from databridge.compiler.plan import PipelinePlan, ProjectPlan

__all__ = ["PipelinePlan", "ProjectPlan", "compile_project"]
