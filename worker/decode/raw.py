"""(B) The page bytes as the Kafka value, its description in Kafka headers.

This is CloudEvents' Kafka binary mode (``content-type``, ``ce_source``,
``ce_time``, ``ce_id``, ``ce_type``, extensions as ``ce_<name>``) as well as
plain ``url`` / ``status`` / ``final_url`` / ``fetched_at`` / ``source`` /
``record_id`` headers. The Kafka ``content-type`` describes the body the way
an HTTP Content-Type would, so it is kept as the page's content-type header.
"""

from __future__ import annotations

from worker.decode.draft import Draft
from worker.decode.kafka_headers import fields_from_headers


def draft_from_raw(value: bytes, kafka: dict[str, str]) -> Draft:
    fields = fields_from_headers(kafka)
    content_type = kafka.get("content-type")
    return Draft(
        input_format="raw",
        url=fields.get("url"),
        body=value,
        final_url=fields.get("final_url"),
        status=fields.get("status"),
        headers={"content-type": content_type} if content_type else {},
        charset=fields.get("charset"),
        fetched_at=fields.get("fetched_at"),
        source=fields.get("source"),
        record_id=fields.get("record_id"),
        metadata=fields.get("metadata"),
    )
