"""Plan → DAG: the only place that builds Airflow DAGs."""

from databridge.render.dag import build_dag
from databridge.render.factory import build_dags

__all__ = ["build_dag", "build_dags"]
