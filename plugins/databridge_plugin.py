"""Airflow scans this folder for plugins: DataBridge's registration lives in the databridge package."""

from databridge.plugin import DataBridgePlugin

__all__ = ["DataBridgePlugin"]
