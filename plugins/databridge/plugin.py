"""Registers DataBridge with Airflow: its HTTP routes under /databridge on the api-server."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from databridge.views.api import create_app


class DataBridgePlugin(AirflowPlugin):
    name = "databridge"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/databridge", "name": "DataBridge"}]
