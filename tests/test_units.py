"""Human-readable counts and labelled byte units."""

from __future__ import annotations

import pytest

from llmcalc.units import format_bytes, human_count


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (999, "999"),
        (1_000, "1.00K"),
        (9_999, "10.0K"),
        (99_995, "100K"),
        (999_950, "1.00M"),
        (124_439_808, "124M"),
        (6_738_415_616, "6.74B"),
        (46_702_792_704, "46.7B"),
        (999_500_000_000, "1.00T"),
        (1_234_599_751_680, "1.23T"),
    ],
    ids=lambda v: str(v),
)
def test_human_count(n: int, text: str) -> None:
    """Three significant digits; rounding never gives 1000 of a prefix."""
    assert human_count(n) == text


def test_binary_and_decimal_bytes_are_labelled() -> None:
    """2^30 bytes is 1.00 GiB and 1.07 GB; the label says which."""
    assert format_bytes(2**30, "binary") == "1.00 GiB"
    assert format_bytes(2**30, "decimal") == "1.07 GB"
    assert format_bytes(2**30, "decimal", label=False) == "1.07"
