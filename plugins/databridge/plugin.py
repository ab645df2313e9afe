"""Registers DataBridge with Airflow: its HTTP routes under /databridge on the api-server, and its pages in the UI."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from databridge.views.airflow_api import KeepAirflowApp
from databridge.views.api import create_app


class DataBridgePlugin(AirflowPlugin):
    name = "databridge"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/databridge", "name": "DataBridge"}]
    # The run views call Airflow's REST API v2 in-process; this hands them the api-server's app (views/airflow_api.py).
    fastapi_root_middlewares = [
        {"middleware": KeepAirflowApp, "args": [], "kwargs": {}, "name": "DataBridge: Airflow's app for the run views"}
    ]
    # Pages drawn in an iframe of Airflow's UI (views/ui.py); the nav entries sit together under a DataBridge menu.
    external_views = [
        {
            "name": "Mapping wizard",
            "href": "/databridge/ui/wizard",
            "url_route": "databridge-wizard",
            "category": "DataBridge",
            "destination": "nav",
        },
        {
            "name": "Reports",
            "href": "/databridge/ui/reports",
            "url_route": "databridge-reports",
            "category": "DataBridge",
            "destination": "nav",
        },
        {
            "name": "Connections",
            "href": "/databridge/ui/connections",
            "url_route": "databridge-connections",
            "category": "DataBridge",
            "destination": "nav",
        },
        {
            "name": "DataBridge",
            "href": "/databridge/ui/monitor?dag_id={DAG_ID}&run_id={RUN_ID}",
            "url_route": "databridge-run",
            "destination": "dag_run",
        },
        {
            "name": "DataBridge reports",
            "href": "/databridge/ui/reports?dag_id={DAG_ID}",
            "url_route": "databridge-dag",
            "destination": "dag",
        },
    ]
