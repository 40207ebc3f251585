"""The input rules of DOMAIN.md §1 at their own layer: codes, free text, JSON depth, and what
no database stores."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.validation import (
    check_code,
    check_free_text,
    check_sn,
    has_unstorable,
    json_depth,
    storable,
)


@pytest.mark.parametrize(
    "code",
    [
        "in side",
        "tab\there",
        "zero\u200bwidth",
        "\ufeffbom",
        "\u202eevil",
        "nb\u00a0sp",
        "ideo\u3000space",
        "line\u2028sep",
        "e\u0301",
        "lone\ud800",
        "nul\x00",
        "",
    ],
)
def test_codes_refuse_white_space_control_format_surrogates_and_non_nfc(code: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_code(code, "code")
    assert refused.value.details is not None and refused.value.details["field"] == "code"


@pytest.mark.parametrize("code", ["BRD200-000001", "é-composé", "名前", "a_b.c:d/e#f", "💥"])
def test_codes_keep_everything_else(code: str) -> None:
    assert check_code(code, "code") == code


def test_free_text_refuses_only_control_characters() -> None:
    check_free_text("spaces and ünïcode\u200b", "dedupeKey")
    with pytest.raises(DomainError):
        check_free_text("tab\there", "dedupeKey")


def test_the_sn_pattern_is_a_full_match() -> None:
    assert check_sn("BRD200-000001", "sns", r"BRD\d{3}-\d{6}") == "BRD200-000001"
    with pytest.raises(DomainError):
        check_sn("BRD200-0000012", "sns", r"BRD\d{3}-\d{6}")


def _nest(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = {"k": value} if level % 2 else [value, 2]
    return value


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 150))
def test_json_depth_counts_levels_and_stops_past_the_limit(depth: int) -> None:
    assert json_depth(_nest(depth), 64) == min(depth, 65)


#: text with NUL, lone surrogates and the six characters of an escaped "\u0000"
TEXT = st.text() | st.lists(st.sampled_from(["a", "\x00", "\ud800", "é", "\\", "u", "0"])).map(
    "".join
)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.text() | st.integers(-(2**70), 2**70),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_the_fast_unstorable_check_agrees_with_the_characters(value: Any) -> None:
    def chars(v: Any) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, dict):
            return "".join(chars(k) + chars(x) for k, x in v.items())
        if isinstance(v, list):
            return "".join(chars(x) for x in v)
        return ""

    text = chars(value)
    expected = "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert has_unstorable({"v": value}) is expected
    assert not has_unstorable(storable(text))
