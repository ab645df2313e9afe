"""DataBridge: mapping projects in YAML become Airflow DAGs that migrate data into PostgreSQL."""

__version__ = "0.1.0"
