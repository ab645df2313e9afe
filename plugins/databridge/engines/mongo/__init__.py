"""MongoDB: discovery by sampling documents, streamed reads, child tables for arrays, errors sorted for retry."""

from __future__ import annotations

from databridge.engines.mongo.source import MongoSource, mongo_error

__all__ = ["MongoSource", "mongo_error"]
