"""US postal codes (ZIP) as text, and rules that assign ranges of them.

A code is read as the five-digit ZIP it starts with: ``19999-1234`` (ZIP+4) is
19999; digits that lost their leading zeros in a spreadsheet (``501``) are
padded back to five (``00501``). Anything else, such as a Canadian code
``K1A 0B1``, is not a US ZIP and matches no range.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_ZIP = re.compile(r"^(\d{1,5})(?:-\d{4})?$")


def zip5(code: str) -> str | None:
    """The five-digit ZIP of ``code``, or None when it is not a US ZIP."""
    match = _ZIP.match(code.strip())
    if match is None:
        return None
    return match.group(1).zfill(5)


def in_zip_range(codes: Sequence[str], low: str, high: str) -> np.ndarray:
    """True where a code's ZIP lies in ``low``..``high`` (both included)."""
    first, last = zip5(low), zip5(high)
    if first is None or last is None:
        raise ValueError(f"'{low}'..'{high}' is not a range of five-digit ZIP codes")
    found = [zip5(code) for code in codes]
    return np.array([z is not None and first <= z <= last for z in found], dtype=bool)
