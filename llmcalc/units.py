"""Units: integers inside, units attached only when printing.

Parameter counts use decimal prefixes (K = 10^3, M = 10^6, B = 10^9, T = 10^12), as model cards do.
Bytes are shown in binary units (GiB = 2^30) or decimal units (GB = 10^9), always labelled; the two
are never mixed in one figure.
"""

from __future__ import annotations

from typing import Literal

ByteUnits = Literal["binary", "decimal"]

KIB, MIB, GIB, TIB = 2**10, 2**20, 2**30, 2**40
KB, MB, GB, TB = 10**3, 10**6, 10**9, 10**12


def human_count(n: int) -> str:
    """``46702792704`` -> ``46.7B``: three significant digits, decimal prefixes (K, M, B, T).

    The value is rounded before its prefix is chosen, so 999,950 is ``1.00M``, not ``1000K``.
    """
    if abs(n) < 1000:
        return str(n)
    if abs(n) >= 999_500 * 10**9:  # 1,000T and up: exact integers, not a float's digits
        return exact_decimal(n, 10**12, 0) + "T"
    scales = ((10**3, "K"), (10**6, "M"), (10**9, "B"), (10**12, "T"))
    for i, (scale, suffix) in enumerate(scales):
        value = n / scale
        digits = 0 if abs(value) >= 99.95 else 1 if abs(value) >= 9.995 else 2
        text = f"{value:.{digits}f}"
        if abs(float(text)) < 1000 or i == len(scales) - 1:
            return text + suffix
    raise AssertionError("unreachable")  # the last scale always returns


def byte_unit(units: ByteUnits) -> tuple[int, str]:
    """The divisor and label used for memory figures: (2^30, 'GiB') or (10^9, 'GB')."""
    return (GIB, "GiB") if units == "binary" else (GB, "GB")


def unit_legend(units: ByteUnits) -> str:
    """``GiB (2^30 bytes)`` or ``GB (10^9 bytes)``: how a table says what its sizes are in."""
    return "GiB (2^30 bytes)" if units == "binary" else "GB (10^9 bytes)"


def exact_decimal(n: int, divisor: int, digits: int = 2) -> str:
    """``n / divisor`` to ``digits`` decimals, grouped with commas, from integers (no float artefacts at any size).

    Ties round to even, as ``format(float)`` does for the exactly representable quotients of bytes by
    powers of two, so the text is what ``f"{n / divisor:,.2f}"`` gives wherever that is exact.
    """
    scale = 10**digits
    q, r = divmod(abs(n) * scale, divisor)
    if 2 * r > divisor or (2 * r == divisor and q % 2 == 1):
        q += 1
    whole, frac = divmod(q, scale)
    sign = "-" if n < 0 and q else ""
    return f"{sign}{whole:,}" + (f".{frac:0{digits}d}" if digits else "")


def format_bytes(n: int, units: ByteUnits = "binary", *, digits: int = 2, label: bool = True) -> str:
    """``n`` bytes in GiB or GB with ``digits`` decimals, labelled unless ``label`` is False."""
    divisor, name = byte_unit(units)
    text = exact_decimal(n, divisor, digits)
    return f"{text} {name}" if label else text


def format_small_bytes(n: int, units: ByteUnits = "binary") -> str:
    """Bytes with the largest prefix that keeps the value >= 1 (for per-token figures)."""
    steps = ((TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")) if units == "binary" else (
        (TB, "TB"), (GB, "GB"), (MB, "MB"), (KB, "kB"))
    for scale, name in steps:
        if n >= scale:
            return f"{n / scale:,.2f} {name}"
    return f"{n:,} B"


#: Suffixes of a count: K = 2^10, M = 2^20 (context windows are named so: 32K = 32,768, 128K = 131,072).
COUNT_SUFFIXES = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}
#: No count llmcalc takes is larger (2^40 tokens or sequences); longer text is not a count.
MAX_COUNT = 2**40
_COUNT_TEXT_LIMIT = 32


def parse_count(text: str) -> int:
    """``"32k"`` -> 32,768; ``"128K"`` -> 131,072; ``"1M"`` -> 1,048,576; ``"32,768"``, ``"32_768"``, ``"1.5k"``
    -> 1,536. Raises ValueError (with the reason) for anything else, a fraction of one included."""
    from fractions import Fraction

    raw = text.strip()
    if not raw or len(raw) > _COUNT_TEXT_LIMIT:
        raise ValueError("expected a whole number such as 4096, 32k or 1M")
    body, suffix = raw, ""
    if body[-1].isalpha():
        body, suffix = body[:-1], body[-1].lower()
    if suffix not in COUNT_SUFFIXES or not body or not all(c in "0123456789.,_" for c in body) \
            or body.count(".") > 1 or not body.replace(",", "").replace("_", "").replace(".", "").isascii():
        raise ValueError("expected a whole number such as 4096, 32k or 1M (k = 1,024, M = 1,048,576)")
    digits = body.replace(",", "").replace("_", "")
    if not digits.strip(".") or not digits.replace(".", "").isdigit():
        raise ValueError("expected a whole number such as 4096, 32k or 1M")
    value = Fraction(digits) * COUNT_SUFFIXES[suffix]
    if value.denominator != 1:
        raise ValueError(f"{text.strip()} is not a whole number")
    if value > MAX_COUNT:
        raise ValueError(f"more than {MAX_COUNT:,}")
    return int(value)
