"""Numbers in messages, and values made ready for JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def fmt(value: float) -> str:
    """Format a number for a message: 1,234,567 / 12 / 0.125 / 3.142."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def json_ready(value: Any) -> Any:
    """A copy of ``value`` that :func:`json.dumps` accepts as strict JSON.

    NumPy scalars become Python numbers, dates become ISO strings, and NaN and
    infinite floats become None.
    """
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
