r"""Hierarchy: territories rolled up into districts, regions and further levels.

A scenario's ``hierarchy`` section names levels bottom-up, ℓ = 0 .. L−1 (for
example district, region). Every territory t has exactly one unit u_ℓ(t) at each
level, and every unit has exactly one parent at the level above, so the units
form a tree whose leaves are the territories. This module reads and checks that
tree and turns it into arrays that the model, the checker and the scorecard use.

Sets and parameters (the symbols of docs/hierarchy.md)
    U_ℓ          units of level ℓ; T(u) the territories under unit u
    K(a)         the unit an account must stay inside (``keep_within``), if any
    τ[u, m]      Σ_{t ∈ T(u)} τ[t, m], the unit's target (sum of its territories'
                 FTE-weighted targets)
    ε_ℓ[m]       band half-width of metric m at level ℓ; ω_ℓ[m] its weight
Constraints added to the model of :mod:`territory_opt.model`
    (keep)       x[a, t] = 0 for t ∉ T(K(a)): the pair is not allowed at all
    (level band) (1 − ε_ℓ[m]) τ[u, m] ≤ Σ_{t ∈ T(u)} Σ_a v[a, m] x[a, t]
                 ≤ (1 + ε_ℓ[m]) τ[u, m]                       for u ∈ U_ℓ
    (deviation)  e[u, m] ≥ ±(Σ_{t ∈ T(u)} Σ_a v[a, m] x[a, t] − τ[u, m]),
                 W_B ω_ℓ[m] (1 / |U_ℓ|) Σ_u e[u, m] / τ[u, m] in the objective.

Where the unit of a level comes from, in this order: the territories column named
in ``columns``; for the first level, the territories' ``parent`` column; else the
hierarchy ``table``, which gives the parent of each unit of the level below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from territory_opt.errors import InputError, preview_ids
from territory_opt.scenario import HierarchySection, Scenario
from territory_opt.tables import TextTable, read_text_table


@dataclass(frozen=True)
class LevelBalance:
    """Band and deviation weight of one metric over the units of one level.

    ``values`` is per account; ``target``, ``lower`` and ``upper`` are per unit
    of ``level`` (index into :attr:`Hierarchy.levels`).
    """

    level: int
    metric: str
    tolerance: float
    weight: float
    values: np.ndarray
    target: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Hierarchy:
    """The units above the territories of a problem, as index arrays.

    ``unit_ids[ℓ]`` lists the units of level ℓ in id order; ``territory_unit[ℓ,
    t]`` is the index of territory t's unit at level ℓ. ``keep_within`` holds,
    per constrained level, the unit index each account must stay inside (-1:
    anywhere).
    """

    levels: tuple[str, ...]
    unit_ids: tuple[tuple[str, ...], ...]
    territory_unit: np.ndarray
    keep_within: tuple[tuple[int, np.ndarray], ...] = ()
    balances: tuple[LevelBalance, ...] = ()
    solve: str = "monolithic"
    workers: int | None = None

    def territories_of(self, level: int, unit: int) -> np.ndarray:
        """Indices of the territories under ``unit`` of ``level``."""
        return np.nonzero(self.territory_unit[level] == unit)[0]

    def allowed(self, n_territories: int) -> np.ndarray | None:
        """(accounts × territories) mask of the keep-within rule, None if none."""
        if not self.keep_within:
            return None
        n = len(self.keep_within[0][1])
        mask = np.ones((n, n_territories), dtype=bool)
        for level, unit_of in self.keep_within:
            bound = unit_of >= 0
            inside = self.territory_unit[level][None, :] == unit_of[:, None]
            mask[bound] &= inside[bound]
        return mask


@dataclass(frozen=True)
class HierarchyInput:
    """What the tables say, by id: units of every territory, keep-within units."""

    section: HierarchySection
    territory_units: dict[str, tuple[str, ...]]
    keep_within: dict[str, dict[str, str]]


def _column(table: TextTable, column: str, what: str) -> list[str]:
    if column not in table.frame:
        available = ", ".join(f"'{c}'" for c in table.frame.columns)
        raise InputError(
            f"{table.path}: no column '{column}' ({what}); the file has {available}. "
            f"Rename the column or correct the hierarchy section"
        )
    return [str(v) for v in table.frame[column]]


def _parent_table(section: HierarchySection) -> dict[str, str]:
    """Parent of each unit from the hierarchy table (empty without one)."""
    spec = section.table
    if spec is None:
        return {}
    table = read_text_table(spec.path, spec.sheet, spec.encoding, spec.delimiter)
    units = _column(table, spec.unit, "hierarchy.table.unit")
    parents = _column(table, spec.parent, "hierarchy.table.parent")
    found: dict[str, tuple[str, int]] = {}
    for i, (unit, parent) in enumerate(zip(units, parents, strict=True)):
        if not unit or not parent:
            raise InputError(
                f"{spec.path}, {table.where(i)}: the unit or its parent is blank; "
                f"every row needs both"
            )
        if unit in found and found[unit][0] != parent:
            first, where = found[unit]
            raise InputError(
                f"{spec.path}: unit '{unit}' has two parents, '{first}' "
                f"({table.where(where)}) and '{parent}' ({table.where(i)}); a unit "
                f"has one parent: keep one of the rows"
            )
        found.setdefault(unit, (parent, i))
    return {unit: parent for unit, (parent, _) in found.items()}


def resolve_units(
    scenario: Scenario, section: HierarchySection
) -> dict[str, tuple[str, ...]]:
    """Units of every territory at every level, bottom-up, by territory id.

    Raises
    ------
    InputError
        When a territory has no unit at a level, or a unit has two parents.
    """
    spec = scenario.territories
    table = read_text_table(spec.path, spec.sheet, spec.encoding, spec.delimiter)
    ids = _column(table, spec.columns.territory_id, "territory_id")
    parent_of = _parent_table(section)
    path = spec.path
    per_level: list[list[str]] = []
    for level, name in enumerate(section.levels):
        column = section.columns.get(name)
        if column is None and level == 0 and spec.columns.parent is not None:
            column = spec.columns.parent
        if column is not None:
            units = _column(table, column, f"hierarchy level {name}")
            blank = [ids[i] for i, u in enumerate(units) if not u]
            if blank:
                raise InputError(
                    f"{path}: territory {preview_ids(blank)} has no {name} (column "
                    f"'{column}' is blank); every territory needs one"
                )
        elif level > 0 and parent_of:
            below = section.levels[level - 1]
            units = [parent_of.get(u, "") for u in per_level[-1]]
            lost = sorted(
                {u for u, p in zip(per_level[-1], units, strict=True) if not p}
            )
            if lost:
                where = section.table.path if section.table else ""
                raise InputError(
                    f"{below} {preview_ids(lost)} has no {name}: {where} gives no "
                    f"parent for it; add a row with the {below} and its {name}"
                )
        else:
            raise InputError(
                f"hierarchy level '{name}' has no source: map it in "
                f"hierarchy.columns, or give hierarchy.table with the parent of "
                f"every unit of the level below"
            )
        per_level.append(units)

    for level in range(len(section.levels) - 1):
        _one_parent(section, per_level, level, ids)
    return {t: tuple(units[i] for units in per_level) for i, t in enumerate(ids)}


def _one_parent(
    section: HierarchySection, per_level: list[list[str]], level: int, ids: list[str]
) -> None:
    """Every unit of ``level`` lies under a single unit of the level above."""
    below, above = section.levels[level], section.levels[level + 1]
    seen: dict[str, dict[str, list[str]]] = {}
    for i, (unit, parent) in enumerate(
        zip(per_level[level], per_level[level + 1], strict=True)
    ):
        seen.setdefault(unit, {}).setdefault(parent, []).append(ids[i])
    for unit, parents in sorted(seen.items()):
        if len(parents) > 1:
            listed = ", ".join(
                f"'{p}' (territories {preview_ids(ts)})"
                for p, ts in sorted(parents.items())
            )
            raise InputError(
                f"{below} '{unit}' lies under {len(parents)} {above}s: {listed}; a "
                f"{below} has one {above}: correct the territories' {above}"
            )


def load_hierarchy_input(scenario: Scenario) -> HierarchyInput | None:
    """Read the units of every territory and the keep-within column of accounts.

    Raises
    ------
    InputError
        For a territory without a unit, a unit with two parents, or keep-within
        values that name no unit (with the account rows that hold them).
    """
    section = scenario.hierarchy
    if section is None:
        return None
    territory_units = resolve_units(scenario, section)
    keep: dict[str, dict[str, str]] = {}
    if section.keep_within:
        spec = scenario.accounts
        table = read_text_table(spec.path, spec.sheet, spec.encoding, spec.delimiter)
        ids = _column(table, spec.columns.account_id, "account_id")
        for name, column in section.keep_within.items():
            level = section.levels.index(name)
            known = {units[level] for units in territory_units.values()}
            values = _column(table, column, f"hierarchy.keep_within.{name}")
            bad = [i for i, v in enumerate(values) if v and v not in known]
            if bad:
                unknown = sorted({values[i] for i in bad})
                rows = [f"{table.where(i)} (account '{ids[i]}')" for i in bad]
                raise InputError(
                    f"{spec.path}, column '{column}' (hierarchy.keep_within.{name}): "
                    f"{len(bad)} account row(s) name a {name} that no territory "
                    f"is in: {preview_ids(unknown)}; rows {', '.join(rows[:5])}"
                    f"{' and more' if len(rows) > 5 else ''}. Known {name}s: "
                    f"{preview_ids(sorted(known))}"
                )
            keep[name] = {a: v for a, v in zip(ids, values, strict=True) if v}
    return HierarchyInput(
        section=section, territory_units=territory_units, keep_within=keep
    )


def build_hierarchy(
    given: HierarchyInput,
    account_ids: tuple[str, ...],
    territory_ids: tuple[str, ...],
    fte: np.ndarray,
    metric_values: dict[str, np.ndarray],
    balance_targets: dict[str, np.ndarray],
) -> Hierarchy:
    """Index arrays of the hierarchy for accounts and territories in id order.

    ``metric_values`` holds each level-balanced metric per account;
    ``balance_targets`` the territory targets of metrics balanced at territory
    level (others get total × fte / Σ fte).
    """
    section = given.section
    levels = section.levels
    unit_ids = []
    territory_unit = np.zeros((len(levels), len(territory_ids)), dtype=np.int64)
    for level in range(len(levels)):
        names = [given.territory_units[t][level] for t in territory_ids]
        ordered = tuple(sorted(set(names)))
        index = {u: i for i, u in enumerate(ordered)}
        territory_unit[level] = [index[u] for u in names]
        unit_ids.append(ordered)

    keep = []
    for name, by_account in given.keep_within.items():
        level = levels.index(name)
        index = {u: i for i, u in enumerate(unit_ids[level])}
        unit_of = np.array(
            [index.get(by_account.get(a, ""), -1) for a in account_ids], dtype=np.int64
        )
        keep.append((level, unit_of))

    balances = []
    share = fte / fte.sum()
    for name, specs in section.balance.items():
        level = levels.index(name)
        for metric, spec in specs.items():
            values = metric_values[metric]
            if float(values.sum()) <= 0:
                raise InputError(
                    f"hierarchy.balance.{name}.{metric}: the accounts' {metric} adds "
                    f"up to {float(values.sum()):g}; a metric with no total cannot be "
                    f"balanced, remove it"
                )
            per_territory = balance_targets.get(metric, float(values.sum()) * share)
            target = np.bincount(
                territory_unit[level],
                weights=per_territory,
                minlength=len(unit_ids[level]),
            )
            balances.append(
                LevelBalance(
                    level=level,
                    metric=metric,
                    tolerance=spec.tolerance,
                    weight=spec.weight,
                    values=values,
                    target=target,
                    lower=(1.0 - spec.tolerance) * target,
                    upper=(1.0 + spec.tolerance) * target,
                )
            )
    return Hierarchy(
        levels=levels,
        unit_ids=tuple(unit_ids),
        territory_unit=territory_unit,
        keep_within=tuple(keep),
        balances=tuple(balances),
        solve=section.solve,
        workers=section.workers,
    )


def level_metrics(scenario: Scenario) -> list[str]:
    """Metrics balanced at some level (the accounts table must provide them)."""
    section = scenario.hierarchy
    if section is None:
        return []
    return sorted({m for specs in section.balance.values() for m in specs})
