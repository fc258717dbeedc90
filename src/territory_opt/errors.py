"""Exception hierarchy of territory_opt.

Every error the package raises on purpose derives from :class:`TerritoryOptError`.
The command line maps each subclass to an exit code that scripts can rely on.
"""

from __future__ import annotations

from collections.abc import Sequence


class TerritoryOptError(Exception):
    """Base class of every error raised on purpose by territory_opt."""

    exit_code = 1


class InputError(TerritoryOptError):
    """A scenario or table is malformed: wrong field, bad value, unknown id."""

    exit_code = 2


class InfeasibleSpecificationError(TerritoryOptError):
    """The scenario asks for something that cannot hold, found before solving.

    ``conflicts`` lists one plain-language sentence per conflicting requirement.
    """

    exit_code = 3

    def __init__(self, message: str, conflicts: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.conflicts = list(conflicts)


class SolverError(TerritoryOptError):
    """A solver backend failed in a way the result object cannot express."""

    exit_code = 1


def preview_ids(ids: Sequence[object], limit: int = 5) -> str:
    """Format the first ``limit`` ids and a count of the rest, for error messages."""
    shown = ", ".join(repr(str(i)) for i in ids[:limit])
    rest = len(ids) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
