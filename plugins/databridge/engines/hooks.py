"""Driver parameters of a connection as Airflow's provider hooks read them (TLS, extras, IAM tokens).

DataBridge opens its own drivers for its fast paths (binary COPY, Arrow); what those drivers are given is what
PostgresHook, MySqlHook and MsSqlHook would give theirs for the same connection, so a connection that works for the
hook works the same for DataBridge. The engines add their session settings on top.
"""

from __future__ import annotations

import json
from typing import Any

from databridge.engines.base import ConnectionInfo


def airflow_connection(info: ConnectionInfo) -> Any:
    """The task SDK's Connection for ``info`` (what the hooks read; no lookup, no database)."""
    from airflow.sdk import Connection

    return Connection(
        conn_id=info.conn_id, conn_type=info.conn_type, host=info.host, schema=info.database, login=info.login,
        password=info.password, port=info.port, extra=json.dumps(dict(info.extra)) if info.extra else None,
    )  # fmt: skip


def postgres_params(info: ConnectionInfo) -> dict[str, Any]:
    """libpq parameters as PostgresHook.get_conn builds them: the connection's fields, an IAM token when the extra
    ``iam`` asks for one, then every extra the hook passes on (sslmode, sslrootcert, sslcert, sslkey, options,
    connect_timeout, keepalives, target_session_attrs...)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    params: dict[str, Any] = {
        "host": info.host,
        "user": info.login,
        "password": info.password,
        "dbname": info.database,
        "port": info.port,
    }
    if info.extra.get("iam", False):
        conn = airflow_connection(info)
        user, password, port = PostgresHook(postgres_conn_id=info.conn_id).get_iam_token(conn)
        params |= {"user": user, "password": password, "port": port}
    params |= {k: v for k, v in info.extra.items() if k not in PostgresHook.ignored_extra_options}
    return params


def mysql_params(info: ConnectionInfo) -> dict[str, Any]:
    """mysqlclient parameters as MySqlHook reads them: ssl (a dict of ca, cert, key...), ssl_mode, charset,
    unix_socket, and the IAM token of extra ``iam``. The cursor class is DataBridge's own (rows as tuples)."""
    from airflow.providers.mysql.hooks.mysql import MySqlHook

    params: dict[str, Any] = MySqlHook(mysql_conn_id=info.conn_id)._get_conn_config_mysql_client(
        airflow_connection(info)
    )
    params.pop("cursorclass", None)
    return params


def mysql_wants_tls(params: dict[str, Any]) -> bool:
    """Whether mysql_params ask for TLS: ssl_mode REQUIRED or stricter, or an ``ssl`` extra without a weaker mode."""
    mode = str(params.get("ssl_mode") or "").upper()
    return mode in ("REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY") or (
        bool(params.get("ssl")) and mode not in ("DISABLED", "PREFERRED")
    )


CONNECTORX_SSL_MODES = {"disabled", "preferred", "required", "verify_ca", "verify_identity"}


def connectorx_ssl(params: dict[str, Any]) -> dict[str, str] | None:
    """The MySQL TLS settings of ``params`` (mysql_params) as ConnectorX URI parameters; None when ConnectorX cannot
    express them (a client certificate): such a connection is read by mysqlclient only."""
    ssl = params.get("ssl") or {}
    if not isinstance(ssl, dict) or any(ssl.get(k) for k in ("cert", "key", "capath", "cipher")):
        return None
    mode = str(params.get("ssl_mode") or ("verify_ca" if ssl.get("ca") else "required" if ssl else "")).lower()
    if mode and mode not in CONNECTORX_SSL_MODES:
        return None
    found = {"ssl-mode": mode} if mode else {}
    if ssl.get("ca"):
        found["ssl-ca"] = str(ssl["ca"])
    return found


MSSQL_HOOK_IGNORED = ("sqlalchemy_scheme",)
"""Extras MsSqlHook keeps from pymssql.connect; every other extra is a pymssql.connect argument."""


def mssql_extras(info: ConnectionInfo) -> dict[str, Any]:
    """pymssql.connect arguments from the connection's extras, as MsSqlHook.get_conn passes them."""
    return {k: v for k, v in info.extra.items() if k not in MSSQL_HOOK_IGNORED}


MONGO_OWN_EXTRAS = ("srv", "allow_insecure", "sample_size")
"""Extras that are no MongoClient option: MongoHook's srv and allow_insecure, DataBridge's sample_size."""


def mongo_extras(info: ConnectionInfo) -> dict[str, Any]:
    """MongoClient options as MongoHook.get_conn passes them: every extra (tls, tlsCAFile, authSource, replicaSet...),
    and ``allow_insecure`` on a TLS connection as tlsAllowInvalidCertificates (MongoHook drops ``ssl`` then: tls
    stays)."""
    options = {k: v for k, v in info.extra.items() if k not in MONGO_OWN_EXTRAS}
    tls = any(str(info.extra.get(k, "false")).lower() == "true" for k in ("ssl", "tls"))
    if tls and str(info.extra.get("allow_insecure", "false")).lower() == "true":
        options["tlsAllowInvalidCertificates"] = True
        if "ssl" in options:
            options["tls"] = options.pop("ssl")
    return options


def s3_client(info: ConnectionInfo, config: Any) -> tuple[Any, str]:
    """A boto3 S3 client for an aws connection as the amazon provider's hooks make one (its connection wrapper and
    session factory: keys, session token, profile, role_arn to assume, region, endpoint_url or service_config.s3,
    verify, config_kwargs under DataBridge's ``config``), and the endpoint it talks to ("AWS" for AWS itself)."""
    from airflow.providers.amazon.aws.hooks.base_aws import BaseSessionFactory
    from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper

    region = info.extra.get("region_name") or "us-east-1"
    wrapper = AwsConnectionWrapper(conn=airflow_connection(info), region_name=region)
    config = wrapper.botocore_config.merge(config) if wrapper.botocore_config else config
    session = BaseSessionFactory(conn=wrapper, region_name=region, config=config).create_session()
    endpoint = wrapper.get_service_endpoint_url("s3")
    client = session.client("s3", endpoint_url=endpoint, config=config, verify=wrapper.verify)
    return client, endpoint or "AWS"
