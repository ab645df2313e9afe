# DataBridge on the official Airflow image: the project's requirements and the databridge package (editable, so the
# ./plugins mounted by docker-compose.yaml over /opt/airflow/plugins is the code that runs).
FROM apache/airflow:3.3.2-python3.11

USER root
# mysqlclient builds from source: it needs the MariaDB client headers, pkg-config and a compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb-dev pkg-config build-essential \
 && rm -rf /var/lib/apt/lists/*
USER airflow

WORKDIR /opt/airflow
COPY --chown=airflow:0 requirements.txt pyproject.toml constraints-3.11.txt ./
COPY --chown=airflow:0 plugins ./plugins
# The constraints pin every package to the versions tested together (scripts/constraints.py writes them).
RUN pip install --no-cache-dir -r requirements.txt -c constraints-3.11.txt \
 && pip install --no-cache-dir --no-deps -e .
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 include ./include
