"""Numbers in messages: thousands separators and few decimals."""

from __future__ import annotations


def fmt(value: float) -> str:
    """Format a number for a message: 1,234,567 / 12 / 0.125 / 3.142."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"
