"""Airflow's ``[core] hostname_callable`` for the Celery test: each worker process names itself, so the task
instances it runs record which worker it was (two workers on one machine would otherwise share its name)."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("DATABRIDGE_WORKER_NAME") or socket.getfqdn()
