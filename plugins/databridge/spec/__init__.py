"""The mapping project as the user writes it (no Airflow here)."""

from databridge.spec.loader import load_project, parse_project
from databridge.spec.models import Project

__all__ = ["Project", "load_project", "parse_project"]
