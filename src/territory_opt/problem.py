"""The validated, immutable territory design problem.

:func:`build_problem` joins a scenario with its account and territory tables and
checks every cross reference (current territories, locks, families). Accounts and
territories are sorted by id, so the problem, and hence the model and its answer,
do not depend on the order of rows in the input files. Nothing here reads files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from territory_opt.errors import InputError, preview_ids
from territory_opt.geo import distance_matrix_km
from territory_opt.scenario import Scenario
from territory_opt.tables import AccountData, TerritoryData

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Balance:
    """Band and deviation weight of one balanced metric over all territories.

    ``target`` is τ[t, m], the metric total times the territory's FTE share;
    ``lower`` and ``upper`` are (1 ∓ ε) τ.
    """

    metric: str
    tolerance: float
    weight: float
    values: np.ndarray
    target: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Problem:
    """Everything a model builder needs, as arrays indexed by account or territory.

    Accounts are indexed ``a = 0..n-1`` in id order, territories ``t = 0..k-1`` in id
    order. ``current[a]`` is the index of the current territory or -1 when the
    account has none. ``pair_account``/``pair_territory`` list the allowed
    assignments, sorted by account then territory.
    """

    name: str
    account_ids: tuple[str, ...]
    territory_ids: tuple[str, ...]
    rep_ids: tuple[str, ...]
    account_lat: np.ndarray
    account_lon: np.ndarray
    territory_lat: np.ndarray
    territory_lon: np.ndarray
    potential: np.ndarray
    workload_hours: np.ndarray
    revenue: np.ndarray | None
    segment: tuple[str, ...] | None
    territory_segments: tuple[frozenset[str] | None, ...]
    parent: tuple[str, ...]
    fte: np.ndarray
    capacity_hours: np.ndarray
    current: np.ndarray
    families: tuple[tuple[int, ...], ...]
    locks: dict[int, int]
    balances: tuple[Balance, ...]
    eligible: np.ndarray
    pair_account: np.ndarray
    pair_territory: np.ndarray
    pair_km: np.ndarray
    travel_weight: float
    disruption_weight: float
    balance_weight: float
    disruption_basis: str
    disruption_values: np.ndarray
    max_moved_accounts_share: float | None
    max_moved_potential_share: float | None
    capacity_enforced: bool
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_territories(self) -> int:
        return len(self.territory_ids)

    def account_index(self) -> dict[str, int]:
        """Map account id to its index."""
        return {a: i for i, a in enumerate(self.account_ids)}

    def territory_index(self) -> dict[str, int]:
        """Map territory id to its index."""
        return {t: i for i, t in enumerate(self.territory_ids)}


def _order(ids: tuple[str, ...]) -> np.ndarray:
    return np.array(sorted(range(len(ids)), key=lambda i: ids[i]), dtype=np.int64)


def _eligibility(
    segment: tuple[str, ...] | None,
    territory_segments: tuple[frozenset[str] | None, ...],
    enforced: bool,
) -> np.ndarray:
    k = len(territory_segments)
    n = 0 if segment is None else len(segment)
    if segment is None or not enforced:
        return np.ones((n if segment is not None else 0, k), dtype=bool)
    allowed = np.ones((n, k), dtype=bool)
    for t, served in enumerate(territory_segments):
        if served is None:
            continue
        allowed[:, t] = [s == "" or s in served for s in segment]
    return allowed


def _families(family_id: tuple[str, ...] | None) -> tuple[tuple[int, ...], ...]:
    if family_id is None:
        return ()
    groups: dict[str, list[int]] = {}
    for a, fam in enumerate(family_id):
        if fam:
            groups.setdefault(fam, []).append(a)
    return tuple(tuple(g) for _, g in sorted(groups.items()) if len(g) > 1)


def build_problem(
    scenario: Scenario, accounts: AccountData, territories: TerritoryData
) -> Problem:
    """Join scenario and tables into a :class:`Problem`.

    Raises
    ------
    InputError
        For unknown territory ids in the current alignment or in locks, unknown
        account ids in locks, or a balanced metric whose total is zero.
    """
    a_order = _order(accounts.account_id)
    t_order = _order(territories.territory_id)
    account_ids = tuple(accounts.account_id[i] for i in a_order)
    territory_ids = tuple(territories.territory_id[i] for i in t_order)
    t_index = {t: i for i, t in enumerate(territory_ids)}
    a_index = {a: i for i, a in enumerate(account_ids)}
    n, k = len(account_ids), len(territory_ids)
    if n == 0:
        raise InputError(f"{accounts.path}: no accounts; add at least one row")

    # Current alignment: every named territory must exist.
    current = np.full(n, -1, dtype=np.int64)
    if accounts.current_territory is not None:
        named = [accounts.current_territory[i] for i in a_order]
        unknown = sorted({c for c in named if c and c not in t_index})
        if unknown:
            raise InputError(
                f"{accounts.path}: the current alignment names territory id(s) "
                f"{preview_ids(unknown)} that are not in {territories.path}; add "
                f"them to the territories table or correct the accounts"
            )
        current = np.array([t_index.get(c, -1) for c in named], dtype=np.int64)

    # Locks: known account, known territory, one territory per account.
    locks: dict[int, int] = {}
    for lock in scenario.constraints.locks:
        if lock.account not in a_index:
            raise InputError(
                f"constraints.locks: account '{lock.account}' is not in "
                f"{accounts.path}; check the id (ids are text: '02142' is not '2142')"
            )
        if lock.territory not in t_index:
            raise InputError(
                f"constraints.locks: account '{lock.account}' is locked to territory "
                f"'{lock.territory}', which is not in {territories.path}; valid ids "
                f"include {preview_ids(territory_ids)}"
            )
        a, t = a_index[lock.account], t_index[lock.territory]
        if locks.get(a, t) != t:
            raise InputError(
                f"constraints.locks: account '{lock.account}' is locked to two "
                f"territories, '{territory_ids[locks[a]]}' and '{lock.territory}'"
            )
        locks[a] = t

    fte = territories.fte[t_order]
    share = fte / fte.sum()
    balances = []
    for metric, spec in scenario.balance.items():
        values = accounts.metrics[metric][a_order]
        total = float(values.sum())
        if total <= 0:
            raise InputError(
                f"balance.{metric}: the accounts' {metric} adds up to {total:g}; a "
                f"metric with no total cannot be balanced, remove it from 'balance'"
            )
        target = total * share
        balances.append(
            Balance(
                metric=metric,
                tolerance=spec.tolerance,
                weight=spec.weight,
                values=values,
                target=target,
                lower=(1.0 - spec.tolerance) * target,
                upper=(1.0 + spec.tolerance) * target,
            )
        )

    segment = None
    if accounts.segment is not None:
        segment = tuple(accounts.segment[i] for i in a_order)
    territory_segments = tuple(territories.segments[i] for i in t_order)
    eligible = _eligibility(
        segment, territory_segments, scenario.constraints.eligibility
    )
    if eligible.shape[0] == 0:
        eligible = np.ones((n, k), dtype=bool)

    families: tuple[tuple[int, ...], ...] = ()
    if scenario.constraints.keep_families_together and accounts.family_id is not None:
        families = _families(tuple(accounts.family_id[i] for i in a_order))

    account_lat, account_lon = accounts.lat[a_order], accounts.lon[a_order]
    territory_lat, territory_lon = territories.lat[t_order], territories.lon[t_order]
    km = distance_matrix_km(account_lat, account_lon, territory_lat, territory_lon)
    allowed = _candidate_pairs(scenario, km, eligible, current, locks, families)
    pair_account, pair_territory = np.nonzero(allowed)

    potential = accounts.potential[a_order]
    revenue = None if accounts.revenue is None else accounts.revenue[a_order]
    basis = scenario.objective.disruption_basis
    if basis == "revenue" and revenue is None:
        raise InputError(
            "objective.disruption_basis is 'revenue' but the accounts have no revenue "
            "column; map accounts.columns.revenue or choose 'accounts' or 'potential'"
        )
    disruption_values = {
        "accounts": np.ones(n),
        "potential": potential,
        "revenue": revenue if revenue is not None else np.ones(n),
    }[basis]
    budget = scenario.constraints.max_disruption
    return Problem(
        name=scenario.name,
        account_ids=account_ids,
        territory_ids=territory_ids,
        rep_ids=tuple(territories.rep_id[i] for i in t_order),
        account_lat=account_lat,
        account_lon=account_lon,
        territory_lat=territory_lat,
        territory_lon=territory_lon,
        potential=potential,
        workload_hours=accounts.workload_hours[a_order],
        revenue=revenue,
        segment=segment,
        territory_segments=territory_segments,
        parent=tuple(territories.parent[i] for i in t_order),
        fte=fte,
        capacity_hours=territories.capacity_hours[t_order],
        current=current,
        families=families,
        locks=locks,
        balances=tuple(balances),
        eligible=eligible,
        pair_account=pair_account.astype(np.int64),
        pair_territory=pair_territory.astype(np.int64),
        pair_km=km[pair_account, pair_territory],
        travel_weight=scenario.objective.travel,
        disruption_weight=scenario.objective.disruption,
        balance_weight=scenario.objective.balance,
        disruption_basis=basis,
        disruption_values=disruption_values,
        max_moved_accounts_share=None if budget is None else budget.accounts_share,
        max_moved_potential_share=None if budget is None else budget.potential_share,
        capacity_enforced=scenario.constraints.capacity,
    )


def _candidate_pairs(
    scenario: Scenario,
    km: np.ndarray,
    eligible: np.ndarray,
    current: np.ndarray,
    locks: dict[int, int],
    families: tuple[tuple[int, ...], ...],
) -> np.ndarray:
    """Allowed (account, territory) pairs: eligible, pruned, locks and families applied.

    Pruning keeps the ``nearest`` eligible homes within ``max_km``; the current
    territory stays allowed when eligible. A lock leaves only its territory, even
    an ineligible one, so that pre-solve checks can name the conflict.
    """
    allowed = eligible.copy()
    rule = scenario.constraints.candidates
    if rule is not None:
        keep = np.ones_like(allowed)
        if rule.max_km is not None:
            keep &= km <= rule.max_km
        if rule.nearest is not None and rule.nearest < km.shape[1]:
            masked = np.where(allowed, km, np.inf)
            rank = np.argsort(np.argsort(masked, axis=1, kind="stable"), axis=1)
            keep &= rank < rule.nearest
        rows = np.nonzero(current >= 0)[0]
        keep[rows, current[rows]] = True
        allowed &= keep
    for a, t in locks.items():
        allowed[a, :] = False
        allowed[a, t] = True
    for group in families:
        together = np.logical_and.reduce(allowed[list(group)], axis=0)
        allowed[list(group)] = together
    return allowed
