"""An S3-compatible object store (AWS, SeaweedFS, MinIO) through boto3: head, streamed upload, sorted errors.

Opened from an Airflow connection of type aws, read as the amazon provider reads it (engines/hooks.py): login =
access key id, password = secret access key, extra ``endpoint_url`` (absent for AWS itself), ``region_name``, and the
provider's other extras (role_arn, profile_name, aws_session_token, service_config...). The secret goes to boto3 only:
never into a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ConnectTimeoutError, ReadTimeoutError

from databridge.engines.base import ConnectionInfo
from databridge.engines.hooks import s3_client
from databridge.errors import EngineError

# Codes of a passing fault (retry); every other S3 error code is a wrong setting (fail now).
_TRANSIENT_CODES = {
    "SlowDown",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "ServiceUnavailable",
    "InternalError",
    "Throttling",
    "503",
    "500",
}
_HINTS = {
    "InvalidAccessKeyId": "the access key is unknown: check the connection's login",
    "SignatureDoesNotMatch": "the secret key is wrong: check the connection's password",
    "AccessDenied": "these credentials may not write there: check the key's permissions",
    "NoSuchBucket": "create the bucket, or fix attachments.bucket",
    "404": "create the bucket, or fix attachments.bucket",
    "403": "check the connection's login (access key) and password (secret key)",
}


class S3Store:
    """One bucket of an S3-compatible store, written with multipart uploads from ``part_mb`` on."""

    def __init__(self, info: ConnectionInfo, bucket: str, part_mb: int) -> None:
        if info.conn_type not in ("aws", "s3"):
            raise EngineError(
                f"{info.describe()}: attachments need a connection of type aws (with extra endpoint_url for an "
                "S3-compatible store)",
                transient=False,
            )
        self.info = info
        self.bucket = bucket
        config = Config(connect_timeout=10, read_timeout=120, retries={"max_attempts": 3, "mode": "standard"})
        self.client, self.endpoint = s3_client(info, config)
        part = part_mb << 20
        self.transfer = TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=2)

    def check_bucket(self) -> None:
        self._call("opening the bucket", lambda: self.client.head_bucket(Bucket=self.bucket))

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's headers and metadata, None when there is no such object."""
        try:
            found: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self.error(exc, f"reading {key!r}") from None
        except BotoCoreError as exc:
            raise self.error(exc, f"reading {key!r}") from None
        return found

    def chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]:
        """The object's bytes in chunks (never whole in memory); a missing object is an EngineError naming it."""
        body = self._call(f"reading {key!r}", lambda: self.client.get_object(Bucket=self.bucket, Key=key))["Body"]
        try:
            yield from body.iter_chunks(size)
        except (ClientError, BotoCoreError) as exc:
            raise self.error(exc, f"reading {key!r}") from None
        finally:
            body.close()

    def upload(self, body: IO[bytes], key: str, content_type: str, metadata: dict[str, str]) -> None:
        extra = {"ContentType": content_type, "Metadata": metadata}
        self._call(
            f"writing {key!r}",
            lambda: self.client.upload_fileobj(body, self.bucket, key, ExtraArgs=extra, Config=self.transfer),
        )

    def _call(self, doing: str, call: Any) -> Any:
        try:
            return call()
        except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
            raise self.error(exc, doing) from None

    def error(self, exc: Exception, doing: str) -> EngineError:
        """A boto3 failure as an EngineError: transient for lost connections and 5xx, permanent otherwise."""
        code, message = _code(exc)
        transient = (
            isinstance(exc, (ConnectionError, ConnectTimeoutError, ReadTimeoutError)) or code in _TRANSIENT_CODES
        )
        hint = f" ({_HINTS[code]})" if code in _HINTS else ""
        where = f"S3 ({self.info.conn_id!r} at {self.endpoint}, bucket {self.bucket!r})"
        return EngineError(
            f"{where}: {doing}: {code or type(exc).__name__}: {message}{hint}", transient=transient, engine="s3"
        )


def _code(exc: Exception) -> tuple[str, str]:
    """The S3 error code and message (an upload failure wraps them in its text)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "")), str(error.get("Message") or exc)
    text = str(exc)
    found = next((c for c in [*_HINTS, *_TRANSIENT_CODES] if f"({c})" in text), "")
    return found, text
