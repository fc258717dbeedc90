r"""The territory alignment model, described once for every engine.

Sets
    A accounts (index a), T territories (index t), M balanced metrics (index m),
    P ⊆ A × T allowed pairs (eligible, not pruned, locks applied), F families.
Parameters
    v[a, m]   value of metric m on account a (``Balance.values``)
    τ[t, m]   target: Σ_a v[a, m] × fte[t] / Σ fte  (``Balance.target``)
    ε[m]      band half-width as a share of τ (``Balance.tolerance``)
    ω[m]      weight of metric m's deviation (``Balance.weight``)
    h[a]      workload hours; cap[t] capacity hours
    d[a, t]   great-circle km from account a to the home of territory t
    c[a]      current territory (none for new accounts)
    E         adjacency edges between accounts (geographic units)
    b[a]      disruption basis: 1, potential or revenue of a
    W_T, W_D, W_B, W_C, W_P  objective weights: travel, disruption, balance,
              cut edges, peak workload
Variables
    x[a, t] ∈ {0, 1} for (a, t) ∈ P;  e[t, m] ≥ 0, the absolute deviation;
    z ≥ 0, the largest workload of any territory (when W_P > 0).
Constraints
    (assign)    Σ_t x[a, t] = 1                                  for every a
    (band)      (1 − ε[m]) τ[t, m] ≤ Σ_a v[a, m] x[a, t] ≤ (1 + ε[m]) τ[t, m]
    (deviation) e[t, m] ≥ ± (Σ_a v[a, m] x[a, t] − τ[t, m])      when ω[m] W_B > 0
    (capacity)  Σ_a h[a] x[a, t] ≤ cap[t]                         when enforced
    (budget)    Σ_{a, t ≠ c[a]} b'[a] x[a, t] ≤ β Σ_{a with c[a]} b'[a], for
                the account share (b' = 1) and the potential share (b' = potential)
    (family)    x[a, t] = x[f, t] for every member a of family f's first member f
    (lock)      implied: a locked account has one allowed pair.
    (level band) the band and deviation above over the territories of each
                district or region u: Σ_{t ∈ T(u)} Σ_a v[a, m] x[a, t] around
                τ[u, m] = Σ_{t ∈ T(u)} τ[t, m]; accounts kept within a unit have
                pairs only to its territories (territory_opt.hierarchy).
    (contiguity) Σ_{s ∈ S} x[s, t] ≥ x[a, t] (+ x[b, t] − 1 without a home unit)
                for a separator S between a and the home unit (or b), added in
                rounds for the pieces that the previous solution left apart.
Objective (minimise)
    W_T Σ h[a] d[a, t] x[a, t] / Σ h
  + W_D Σ_{a, t ≠ c[a]} b[a] x[a, t] / Σ_{a with c[a]} b[a]
  + W_B Σ_m ω[m] (1 / |T|) Σ_t e[t, m] / τ[t, m]
  + W_C Σ_{(u, v) ∈ E} y[u, v],  y[u, v] ≥ |x[u, t] − x[v, t]| for every t
  + W_P z,  z ≥ Σ_a h[a] x[a, t] for every t
That is: the workload-weighted mean km from account to home, the share of the
disruption basis that moves, and the mean relative deviation from target, each
times its weight. The objective is linear; the pair costs and deviation weights
below are its coefficients. See docs/formulation.md for the long form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from territory_opt.problem import Problem


@dataclass(frozen=True)
class Row:
    """One linear row over pair variables: lower ≤ Σ coef × x[pairs] ≤ upper.

    ``kind`` is ``band``, ``level_band``, ``capacity`` or ``budget``;
    ``territory`` and ``metric`` say which, for reports. ``deviation_weight`` > 0
    adds e ≥ |Σ − target| to the objective with that coefficient per unit of the
    metric.
    """

    kind: str
    name: str
    pairs: np.ndarray
    coef: np.ndarray
    lower: float
    upper: float
    target: float = 0.0
    deviation_weight: float = 0.0
    territory: int = -1
    metric: str = ""


@dataclass(frozen=True)
class TerritoryModel:
    """A solver-agnostic description of the model above.

    ``account_pairs[a]`` holds the pair indices of account a (the assign rows);
    ``pair_cost`` holds the travel and disruption coefficients of each pair;
    ``family_links`` holds (i, j) pair index couples with x[i] = x[j];
    ``peak_rows`` the workload of each territory, whose largest value is
    weighted by ``peak_weight`` in the objective.
    """

    problem: Problem
    account_pairs: tuple[np.ndarray, ...]
    pair_cost: np.ndarray
    rows: tuple[Row, ...]
    family_links: tuple[tuple[int, int], ...]
    edge_pairs: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    cut_edge_weight: float = 0.0
    peak_rows: tuple[Row, ...] = ()
    peak_weight: float = 0.0

    @property
    def n_pairs(self) -> int:
        return len(self.pair_cost)

    def objective_of(self, pair_chosen: np.ndarray) -> float:
        """Exact objective of a 0/1 pair vector, recomputed in floating point."""
        value = float(self.pair_cost @ pair_chosen)
        for pu, pv in self.edge_pairs:
            xu = np.where(pu >= 0, pair_chosen[np.maximum(pu, 0)], 0.0)
            xv = np.where(pv >= 0, pair_chosen[np.maximum(pv, 0)], 0.0)
            value += self.cut_edge_weight * float(np.abs(xu - xv).max())
        for row in self.rows:
            if row.deviation_weight > 0:
                total = float(row.coef @ pair_chosen[row.pairs])
                value += row.deviation_weight * abs(total - row.target)
        if self.peak_rows:
            value += self.peak_weight * max(
                float(row.coef @ pair_chosen[row.pairs]) for row in self.peak_rows
            )
        return value


def pair_lookup(
    problem: Problem, accounts: np.ndarray, territories: np.ndarray
) -> np.ndarray:
    """Pair index of each (account, territory), or -1 where the pair is not allowed."""
    k = problem.n_territories
    keys = problem.pair_account * k + problem.pair_territory
    wanted = np.asarray(accounts, dtype=np.int64) * k + np.asarray(territories)
    position = np.searchsorted(keys, wanted)
    position = np.minimum(position, len(keys) - 1)
    found = keys[position] == wanted
    return np.where(found, position, -1)


def pair_costs(problem: Problem) -> np.ndarray:
    """Travel plus disruption coefficient of every allowed pair."""
    a, t = problem.pair_account, problem.pair_territory
    cost = np.zeros(len(a))
    workload_total = problem.workload_hours.sum()
    if problem.travel_weight > 0 and workload_total > 0:
        cost += (
            problem.travel_weight
            * problem.workload_hours[a]
            * problem.pair_km
            / workload_total
        )
    has_current = problem.current >= 0
    basis_total = problem.disruption_values[has_current].sum()
    if problem.disruption_weight > 0 and basis_total > 0:
        moved = (problem.current[a] >= 0) & (problem.current[a] != t)
        cost += (
            problem.disruption_weight
            * problem.disruption_values[a]
            * moved
            / basis_total
        )
    return cost


def build_model(problem: Problem) -> TerritoryModel:
    """Describe ``problem`` as a :class:`TerritoryModel`."""
    a_of_pair, t_of_pair = problem.pair_account, problem.pair_territory
    k = problem.n_territories
    bounds = np.searchsorted(a_of_pair, np.arange(problem.n_accounts + 1))
    account_pairs = tuple(
        np.arange(bounds[i], bounds[i + 1]) for i in range(problem.n_accounts)
    )
    by_territory = [np.nonzero(t_of_pair == t)[0] for t in range(k)]
    rows: list[Row] = []

    # Balance bands, one row per territory and metric, with their deviation weight.
    for balance in problem.balances:
        scale = problem.balance_weight * balance.weight / k
        for t, pairs in enumerate(by_territory):
            rows.append(
                Row(
                    kind="band",
                    name=f"band[{problem.territory_ids[t]},{balance.metric}]",
                    pairs=pairs,
                    coef=balance.values[a_of_pair[pairs]],
                    lower=float(balance.lower[t]),
                    upper=float(balance.upper[t]),
                    target=float(balance.target[t]),
                    deviation_weight=scale / float(balance.target[t]),
                    territory=t,
                    metric=balance.metric,
                )
            )

    # Level bands: the sum over a district's (region's) territories, one row per
    # unit and metric, around the sum of their targets (territory_opt.hierarchy).
    hierarchy = problem.hierarchy
    level_balances = hierarchy.balances if hierarchy is not None else ()
    for level_balance in level_balances:
        assert hierarchy is not None
        level = level_balance.level
        units = hierarchy.unit_ids[level]
        scale = problem.balance_weight * level_balance.weight / len(units)
        unit_of_pair = hierarchy.territory_unit[level][t_of_pair]
        for u, unit in enumerate(units):
            pairs = np.nonzero(unit_of_pair == u)[0]
            target = float(level_balance.target[u])
            rows.append(
                Row(
                    kind="level_band",
                    name=f"band[{hierarchy.levels[level]}={unit},"
                    f"{level_balance.metric}]",
                    pairs=pairs,
                    coef=level_balance.values[a_of_pair[pairs]],
                    lower=float(level_balance.lower[u]),
                    upper=float(level_balance.upper[u]),
                    target=target,
                    deviation_weight=scale / target if target > 0 else 0.0,
                    metric=level_balance.metric,
                )
            )

    # Capacity: workload hours per territory within the rep's capacity.
    if problem.capacity_enforced:
        for t, pairs in enumerate(by_territory):
            cap = float(problem.capacity_hours[t])
            if np.isfinite(cap):
                rows.append(
                    Row(
                        kind="capacity",
                        name=f"capacity[{problem.territory_ids[t]}]",
                        pairs=pairs,
                        coef=problem.workload_hours[a_of_pair[pairs]],
                        lower=-np.inf,
                        upper=cap,
                        territory=t,
                        metric="workload_hours",
                    )
                )

    # Disruption budgets: what moves away from the current alignment.
    current = problem.current[a_of_pair]
    moved = np.nonzero((current >= 0) & (current != t_of_pair))[0]
    has_current = problem.current >= 0
    budgets = (
        ("accounts", problem.max_moved_accounts_share, np.ones(problem.n_accounts)),
        ("potential", problem.max_moved_potential_share, problem.potential),
    )
    for label, share, weight in budgets:
        if share is not None:
            rows.append(
                Row(
                    kind="budget",
                    name=f"max_disruption[{label}_share]",
                    pairs=moved,
                    coef=weight[a_of_pair[moved]],
                    lower=-np.inf,
                    upper=float(share * weight[has_current].sum()),
                    metric=label,
                )
            )

    # Identical territories: ordered by their smallest account.
    if problem.symmetry_broken:
        rows += _ordering_rows(problem, by_territory)

    # Families: each member's pair on t equals the first member's pair on t.
    links: list[tuple[int, int]] = []
    for group in problem.families:
        first = account_pairs[group[0]]
        for member in group[1:]:
            links += list(
                zip(first.tolist(), account_pairs[member].tolist(), strict=True)
            )

    # Cut edges: y[e] ≥ |x[u, t] − x[v, t]| for every territory t.
    edge_pairs: list[tuple[np.ndarray, np.ndarray]] = []
    if problem.cut_edge_weight > 0 and problem.adjacency is not None:
        every_t = np.arange(k)
        for u, v in problem.adjacency.edges:
            pu = pair_lookup(problem, np.full(k, u), every_t)
            pv = pair_lookup(problem, np.full(k, v), every_t)
            edge_pairs.append((pu, pv))

    # Peak workload: z ≥ the workload of every territory.
    peak_rows: list[Row] = []
    if problem.peak_workload_weight > 0:
        peak_rows = [
            Row(
                kind="peak",
                name=f"peak[{problem.territory_ids[t]}]",
                pairs=pairs,
                coef=problem.workload_hours[a_of_pair[pairs]],
                lower=-np.inf,
                upper=np.inf,
                territory=t,
                metric="workload_hours",
            )
            for t, pairs in enumerate(by_territory)
        ]

    return TerritoryModel(
        problem=problem,
        account_pairs=account_pairs,
        pair_cost=pair_costs(problem),
        rows=tuple(rows),
        family_links=tuple(links),
        edge_pairs=tuple(edge_pairs),
        cut_edge_weight=problem.cut_edge_weight,
        peak_rows=tuple(peak_rows),
        peak_weight=problem.peak_workload_weight,
    )


def _ordering_rows(problem: Problem, by_territory: list[np.ndarray]) -> list[Row]:
    """x[a, t] ≤ Σ_{b < a} x[b, t − 1] for t ≥ 1: territory t − 1 holds an account
    smaller than every account of t.

    Valid only for interchangeable territories (``Problem.symmetry_broken``):
    every partition then has exactly one labelling with min T_0 < min T_1 < …,
    which also meets the pruning a ≥ t of the allowed pairs.
    """
    rows = []
    for t in range(1, problem.n_territories):
        before = by_territory[t - 1]
        before_account = problem.pair_account[before]
        for p in by_territory[t].tolist():
            a = int(problem.pair_account[p])
            name = f"order[{problem.territory_ids[t]},{problem.account_ids[a]}]"
            rows.append(covering_row(name, p, before[before_account < a], t))
    return rows


def covering_row(name: str, pair: int, others: np.ndarray, territory: int) -> Row:
    """The row x[pair] ≤ Σ x[others]: the pair may be chosen only with one of them."""
    return Row(
        kind="cut",
        name=name,
        pairs=np.concatenate([others, [pair]]).astype(np.int64),
        coef=np.concatenate([np.ones(len(others)), [-1.0]]),
        lower=0.0,
        upper=np.inf,
        territory=territory,
    )
