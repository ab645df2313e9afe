"""Every mapping project in include/mappings/ becomes an Airflow DAG (DataBridge)."""

from databridge.render import build_dags

build_dags(globals())
