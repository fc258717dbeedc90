"""Coordinates that look wrong: outside the accounts' region, or swapped.

A latitude and a longitude typed into each other's column is a common slip in
data out of spreadsheets. For the US east of the Mississippi it even passes the
range checks (latitude -75 is valid), so the accounts are compared with a
region: the one declared in the scenario (``accounts.region``, where a row
outside is an error), or else a box around the median account and one around
the median territory home (where a row that fits only swapped is a warning).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import numpy as np

from territory_opt.scenario import Region

if TYPE_CHECKING:
    from territory_opt.tables import AccountData, TerritoryData, TextTable

logger = logging.getLogger(__name__)


class Problems(Protocol):
    """Collects the problems of one table (see :mod:`territory_opt.tables`)."""

    def add(self, message: str) -> None: ...


SWAP_MARGIN_DEGREES = 5.0


def _region_box(
    lat: np.ndarray, lon: np.ndarray, region: Region | None
) -> tuple[float, float, float, float] | None:
    """(lat low, lat high, lon low, lon high) of the accounts' region.

    Without a ``region`` in the scenario: a box around the median account,
    three median absolute deviations wide on each side and at least
    ``SWAP_MARGIN_DEGREES``; ``None`` when no row has valid coordinates.
    """
    if region is not None:
        return (*region.lat, *region.lon)
    valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90)
    valid &= np.abs(lon) <= 180
    if not valid.any():
        return None
    bounds: list[float] = []
    for values in (lat[valid], lon[valid]):
        middle = float(np.median(values))
        spread = float(np.median(np.abs(values - middle)))
        half = max(3.0 * spread, SWAP_MARGIN_DEGREES)
        bounds += [middle - half, middle + half]
    return bounds[0], bounds[1], bounds[2], bounds[3]


def _places(
    table: TextTable, rows: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> str:
    """The first five ``rows`` with their coordinates, and a count of the rest."""
    shown = ", ".join(
        f"{table.where(int(i))} ({lat[i]:g}, {lon[i]:g})" for i in rows[:5]
    )
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def _column_swap_hint(lat_column: str, lon_column: str) -> str:
    return (
        f"every row is affected, so the lat and lon columns are likely swapped: "
        f"map accounts.columns.lat to '{lon_column}' and accounts.columns.lon to "
        f"'{lat_column}', or swap the two columns in the file"
    )


def flag_swapped(
    table: TextTable,
    lat: np.ndarray,
    lon: np.ndarray,
    region: Region | None,
    problems: Problems,
    columns: tuple[str, str] = ("lat", "lon"),
) -> None:
    """Check the accounts against their region; name rows that look swapped.

    With a declared ``region`` every row outside it is an error: the rows that
    fall inside once latitude and longitude swap are named as swapped (and the
    columns themselves when every row is), the others as outside the region.
    Without one, the region is a box around the median account, and valid rows
    far outside it but inside once swapped are named in a warning. A row whose
    latitude is out of range gets a swap hint next to its error either way.
    """
    box = _region_box(lat, lon, region)
    if box is None:
        return
    lat_low, lat_high, lon_low, lon_high = box

    def inside(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (y >= lat_low) & (y <= lat_high) & (x >= lon_low) & (x <= lon_high)

    with np.errstate(invalid="ignore"):
        swapped = ~inside(lat, lon) & inside(lon, lat)
        valid = np.isfinite(lat) & np.isfinite(lon)
        valid &= (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        outside = valid & ~inside(lat, lon)
    invalid = np.abs(lat) > 90
    for i in np.nonzero(swapped & invalid)[0]:
        problems.add(
            f"{table.where(int(i))}: lat {lat[i]:g} and lon {lon[i]:g} look swapped "
            f"(swapped, the point falls among the other accounts); swap the two values"
        )
    valid_swapped = np.nonzero(swapped & valid)[0]
    if region is None:
        if len(valid_swapped):
            logger.warning(
                "%s: %d row(s) lie outside the accounts' region but inside it with "
                "lat and lon swapped: %s; check those coordinates",
                table.path,
                len(valid_swapped),
                _places(table, valid_swapped, lat, lon),
            )
        return
    declared = (
        f"accounts.region (lat {lat_low:g} to {lat_high:g}, "
        f"lon {lon_low:g} to {lon_high:g})"
    )
    if len(valid_swapped):
        advice = "swap the two values in those rows"
        if len(valid_swapped) == int(valid.sum()):
            advice = _column_swap_hint(*columns)
        problems.add(
            f"{len(valid_swapped)} row(s) lie outside {declared} but inside it with "
            f"lat and lon swapped: {_places(table, valid_swapped, lat, lon)}; "
            f"{advice}"
        )
    far = np.nonzero(outside & ~swapped)[0]
    if len(far):
        problems.add(
            f"{len(far)} row(s) lie outside {declared}, even with lat and lon "
            f"swapped: {_places(table, far, lat, lon)}; correct their coordinates "
            f"or widen accounts.region"
        )


def flag_swapped_against_homes(
    accounts: AccountData, territories: TerritoryData
) -> None:
    """Warn about accounts that lie near the territory homes only once swapped.

    Used when the scenario declares no ``accounts.region``: a box around the
    median home (see :func:`_region_box`) stands in for it, so that a whole
    accounts table with lat and lon swapped, which moves its own median box with
    it, is still noticed. Homes left blank are ignored.
    """
    box = _region_box(territories.lat, territories.lon, None)
    if box is None:
        return
    lat_low, lat_high, lon_low, lon_high = box
    lat, lon = accounts.lat, accounts.lon

    def inside(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (y >= lat_low) & (y <= lat_high) & (x >= lon_low) & (x <= lon_high)

    with np.errstate(invalid="ignore"):
        swapped = np.nonzero(~inside(lat, lon) & inside(lon, lat))[0]
        located = int((np.isfinite(lat) & np.isfinite(lon)).sum())
    if not len(swapped):
        return
    shown = ", ".join(
        f"'{accounts.account_id[i]}' ({lat[i]:g}, {lon[i]:g})" for i in swapped[:5]
    )
    shown += f" and {len(swapped) - 5} more" if len(swapped) > 5 else ""
    advice = "check those coordinates"
    if len(swapped) == located:
        advice = "every account is affected, so the lat and lon columns are likely "
        advice += "swapped; map them the other way under accounts.columns"
    logger.warning(
        "%s: %d account(s) lie far from every territory home but among the homes "
        "with lat and lon swapped: %s; %s (declare accounts.region to make this an "
        "error)",
        accounts.path,
        len(swapped),
        shown,
        advice,
    )
