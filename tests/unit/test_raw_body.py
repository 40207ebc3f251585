"""A transport message's body read into CFX envelopes (domain/ingest/raw_body.py): JSON objects
and arrays, gzip by magic bytes or content-encoding, capped once inflated; what cannot be
read says why; what a rejection keeps of it."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from domain.errors import DomainError, ErrorCode
from domain.ingest.raw_body import kept_body, read_body

ENV = {"MessageName": "CFX.Production.WorkStarted", "UniqueID": "u1"}
MAX = 10_000


def test_an_object_is_one_envelope_an_array_its_items() -> None:
    assert read_body(json.dumps(ENV).encode(), None, MAX) == [ENV]
    assert read_body(json.dumps([ENV, ENV]).encode(), None, MAX) == [ENV, ENV]
    assert read_body(b"[]", None, MAX) == []


def test_gzip_is_found_by_its_magic_bytes() -> None:
    assert read_body(gzip.compress(json.dumps([ENV]).encode()), None, MAX) == [ENV]


@pytest.mark.parametrize(
    ("body", "encoding", "code", "says"),
    [
        (b"{not json", None, ErrorCode.INGEST_PAYLOAD_INVALID, "not JSON"),
        (b'"a string"', None, ErrorCode.INGEST_PAYLOAD_INVALID, "JSON str"),
        (b"\xff\xfe{}", None, ErrorCode.INGEST_PAYLOAD_INVALID, "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, None, ErrorCode.INGEST_PAYLOAD_INVALID, "nests too deeply"),
        (b"{}", "gzip", ErrorCode.INGEST_PAYLOAD_INVALID, "cannot be inflated"),
        (gzip.compress(b"{}")[:-12], None, ErrorCode.INGEST_PAYLOAD_INVALID, "cut short"),
        (gzip.compress(b" " * (MAX + 1)), None, ErrorCode.PAYLOAD_TOO_LARGE, "inflates to"),
        (b" " * (MAX + 1), None, ErrorCode.PAYLOAD_TOO_LARGE, "more than"),
    ],
)
def test_an_unreadable_body_says_why(
    body: bytes, encoding: str | None, code: ErrorCode, says: str
) -> None:
    with pytest.raises(DomainError) as raised:
        read_body(body, encoding, MAX)
    assert raised.value.code is code
    assert says in raised.value.message


def test_a_rejection_keeps_text_inflated_binary_as_base64_and_cuts_at_the_limit() -> None:
    assert kept_body(b"oops", 100) == ({"text": "oops", "bytes": 4, "gzip": False}, False)
    packed = gzip.compress(b"[1, 2")
    assert kept_body(packed, 100) == (
        {"text": "[1, 2", "bytes": len(packed), "gzip": True},
        False,
    )
    assert kept_body(b"a\x00b", 100)[0]["base64"] == base64.b64encode(b"a\x00b").decode()
    kept, cut = kept_body(b"x" * 300, 100)
    assert (kept["text"], cut) == ("x" * 100, True)
    bomb = gzip.compress(b"y" * 1_000_000)
    kept, cut = kept_body(bomb, 100)
    assert (kept["text"], cut) == ("y" * 100, True)
