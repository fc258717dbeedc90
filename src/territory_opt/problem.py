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

from territory_opt.adjacency import Adjacency
from territory_opt.errors import InfeasibleSpecificationError, InputError, preview_ids
from territory_opt.formatting import fmt
from territory_opt.geo import distance_matrix_km
from territory_opt.geography import (
    adjacency_from_pairs,
    attach_islands,
    describe_pieces,
    home_units,
)
from territory_opt.hierarchy import Hierarchy, HierarchyInput, build_hierarchy
from territory_opt.postal import in_zip_range
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
    assignments, sorted by account then territory. ``hierarchy`` holds the units
    above the territories; ``home_km`` (accounts × territories) replaces the
    great-circle km to the home point where a territory has no single home (a
    unit of a hierarchy solved top-down).
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
    adjacency: Adjacency | None = None
    contiguity: bool = False
    roots: np.ndarray | None = None
    cut_edge_weight: float = 0.0
    peak_workload_weight: float = 0.0
    symmetry_broken: bool = False
    hierarchy: Hierarchy | None = None
    home_km: np.ndarray | None = None
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
    scenario: Scenario,
    accounts: AccountData,
    territories: TerritoryData,
    adjacency_pairs: list[tuple[str, str]] | None = None,
    hierarchy_input: HierarchyInput | None = None,
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

    _postal_locks(scenario, accounts, a_order, t_index, locks)

    if scenario.objective.cut_edges > 0 and adjacency_pairs is None:
        raise InputError(
            "objective.cut_edges needs adjacency: add a geography section with an "
            "adjacency edge list or polygons"
        )

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
    km = _distances(
        scenario, account_lat, account_lon, territory_lat, territory_lon, territory_ids
    )
    adjacency = None
    roots = None
    pieces_mask = None
    geography = scenario.geography
    if adjacency_pairs is not None and geography is not None:
        adjacency = adjacency_from_pairs(adjacency_pairs, account_ids)
        if geography.contiguity:
            home_named = tuple(territories.home_unit[i] for i in t_order)
            roots = home_units(
                geography.home_units, km, home_named, account_ids, territory_ids
            )
            for t, root in enumerate(roots):
                if root < 0:
                    continue
                if locks.get(int(root), t) != t:
                    raise InputError(
                        f"account '{account_ids[root]}' is the home unit of territory "
                        f"'{territory_ids[t]}' but is locked to "
                        f"'{territory_ids[locks[int(root)]]}'"
                    )
                locks[int(root)] = t
            adjacency, pieces_mask = _islands(
                geography.islands,
                adjacency,
                roots,
                balances,
                account_lat,
                account_lon,
                account_ids,
                territory_ids,
            )
    hierarchy = None
    within = eligible
    if hierarchy_input is not None:
        hierarchy = build_hierarchy(
            hierarchy_input,
            account_ids,
            territory_ids,
            fte,
            {m: v[a_order] for m, v in accounts.metrics.items()},
            {b.metric: b.target for b in balances},
        )
        keep = hierarchy.allowed(k)
        if keep is not None:
            within = eligible & keep
    allowed = _candidate_pairs(scenario, km, within, current, locks, families)
    if pieces_mask is not None:
        allowed &= pieces_mask
    if adjacency is not None and roots is not None:
        # A unit can join a rooted territory only if allowed units link it to
        # the home unit.
        for t, root in enumerate(roots.tolist()):
            if root >= 0:
                for piece in adjacency.components(allowed[:, t]):
                    if root not in set(piece.tolist()):
                        allowed[piece, t] = False
    symmetric = hierarchy is None and _interchangeable(
        scenario, territories, t_order, current, locks, roots, eligible
    )
    if symmetric:
        # Identical territories: label them by their smallest account, so
        # account a can only join territories 0..a (one labelling of k! kept).
        allowed &= np.arange(k)[None, :] <= np.arange(n)[:, None]
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
        adjacency=adjacency,
        contiguity=bool(geography and geography.contiguity and adjacency is not None),
        roots=roots,
        cut_edge_weight=scenario.objective.cut_edges,
        peak_workload_weight=scenario.objective.peak_workload,
        symmetry_broken=symmetric,
        hierarchy=hierarchy,
    )


def _postal_locks(
    scenario: Scenario,
    accounts: AccountData,
    a_order: np.ndarray,
    t_index: dict[str, int],
    locks: dict[int, int],
) -> None:
    """Add the locks of the postal rules to ``locks`` (accounts by index)."""
    rules = scenario.constraints.postal_rules
    if not rules:
        return
    source = accounts.postal_code or accounts.account_id
    codes = [source[i] for i in a_order]
    for rule in rules:
        name = f"constraints.postal_rules ({rule.from_code}-{rule.to_code})"
        if rule.territory not in t_index:
            raise InputError(
                f"{name}: territory '{rule.territory}' is not in the territories table"
            )
        t = t_index[rule.territory]
        matched = np.nonzero(in_zip_range(codes, rule.from_code, rule.to_code))[0]
        logger.info("%s: %d account(s) go to %s", name, len(matched), rule.territory)
        for a in matched.tolist():
            if locks.get(a, t) != t:
                raise InputError(
                    f"{name}: account '{accounts.account_id[a_order[a]]}' (postal "
                    f"code '{codes[a]}') is also locked to another territory; "
                    f"remove one of the two rules"
                )
            locks[a] = t


def _islands(
    policy: str,
    adjacency: Adjacency,
    roots: np.ndarray,
    balances: list[Balance],
    lat: np.ndarray,
    lon: np.ndarray,
    account_ids: tuple[str, ...],
    territory_ids: tuple[str, ...],
) -> tuple[Adjacency, np.ndarray | None]:
    """Apply the islands policy; returns the adjacency and an allowed-pairs mask."""
    pieces = adjacency.components()
    if len(pieces) <= 1:
        return adjacency, None
    if policy == "attach_nearest":
        attached, notes = attach_islands(adjacency, lat, lon)
        for note in notes:
            logger.info("islands: %s", note)
        return attached, None
    if policy == "fail":
        described = [
            text + _piece_load(piece, balances)
            for text, piece in zip(
                describe_pieces(pieces, account_ids), pieces[1:], strict=True
            )
        ]
        listed = "\n".join(f"  - {d}" for d in described)
        raise InfeasibleSpecificationError(
            f"contiguity cannot hold: the adjacency graph falls into {len(pieces)} "
            f"pieces:\n{listed}\nSet geography.islands to attach_nearest or "
            f"own_territory",
            described,
        )
    # own_territory: a territory stays inside the piece that holds its home unit.
    if (roots < 0).any():
        raise InputError(
            "geography.islands: own_territory needs a home unit for every territory; "
            "set geography.home_units to nearest or column"
        )
    mask = np.zeros((adjacency.n, len(roots)), dtype=bool)
    orphans = []
    too_small = []
    for piece in pieces:
        holders = [t for t, r in enumerate(roots) if r in set(piece.tolist())]
        if not holders:
            orphans.append(piece)
        for t in holders:
            mask[piece, t] = True
        for balance in balances if holders else ():
            value = float(balance.values[piece].sum())
            low = float(balance.lower[holders].sum())
            high = float(balance.upper[holders].sum())
            if not low - 1e-9 <= value <= high + 1e-9:
                what = describe_pieces(
                    [np.array([], dtype=np.int64), piece], account_ids
                )
                names = ", ".join(f"'{territory_ids[t]}'" for t in holders)
                bound = "minimum" if value < low else "maximum"
                too_small.append(
                    f"{what[0]} holds {fmt(value)} of {balance.metric}; with islands: "
                    f"own_territory it is all that territory {names} may take, but "
                    f"the band {bound} is {fmt(low if value < low else high)}"
                )
    if orphans:
        lonely = describe_pieces([np.array([], dtype=np.int64)] + orphans, account_ids)
        raise InfeasibleSpecificationError(
            "with islands: own_territory every piece of the map needs a territory "
            "based in it; these have none: " + "; ".join(lonely),
            lonely,
        )
    if too_small:
        raise InfeasibleSpecificationError(
            "contiguity cannot hold: " + "; ".join(too_small), too_small
        )
    return adjacency, mask


def _piece_load(piece: np.ndarray, balances: list[Balance]) -> str:
    """What a detached piece holds against the smallest band minimum."""
    words = []
    for balance in balances:
        value = float(balance.values[piece].sum())
        minimum = float(balance.lower.min())
        if value < minimum - 1e-9 * max(1.0, minimum):
            words.append(
                f"it holds {fmt(value)} of {balance.metric}, below the band minimum "
                f"{fmt(minimum)} of any territory, so it cannot be a territory alone"
            )
    return "; " + "; ".join(words) if words else ""


def _interchangeable(
    scenario: Scenario,
    territories: TerritoryData,
    t_order: np.ndarray,
    current: np.ndarray,
    locks: dict[int, int],
    roots: np.ndarray | None,
    eligible: np.ndarray,
) -> bool:
    """True when relabelling territories changes nothing: same FTE, capacity,
    segments and (if travel counts) home, no locks, roots or current alignment."""
    if len(t_order) < 2 or locks or (roots is not None and (roots >= 0).any()):
        return False
    if (current >= 0).any() and (
        scenario.objective.disruption > 0 or scenario.constraints.max_disruption
    ):
        return False
    fte = territories.fte[t_order]
    cap = territories.capacity_hours[t_order]
    same = np.allclose(fte, fte[0]) and (
        np.all(np.isinf(cap)) or np.allclose(cap, cap[0])
    )
    same = same and bool((eligible == eligible[:, :1]).all())
    if scenario.objective.travel > 0 or scenario.constraints.candidates is not None:
        lat, lon = territories.lat[t_order], territories.lon[t_order]
        same = same and bool(np.allclose(lat, lat[0]) and np.allclose(lon, lon[0]))
    return bool(same)


def _distances(
    scenario: Scenario,
    account_lat: np.ndarray,
    account_lon: np.ndarray,
    territory_lat: np.ndarray,
    territory_lon: np.ndarray,
    territory_ids: tuple[str, ...],
) -> np.ndarray:
    """Account-to-home km; territories without a home get 0 where nothing needs it."""
    if np.isnan(account_lat).any() or np.isnan(account_lon).any():
        needs = _distance_needs(scenario)
        if needs:
            raise InputError(
                f"the accounts have no lat/lon, which {', '.join(needs)} need(s); "
                f"add coordinates to the accounts or drop those settings"
            )
        return np.zeros((len(account_lat), len(territory_lat)))
    homeless = np.isnan(territory_lat) | np.isnan(territory_lon)
    if homeless.any():
        needs = _distance_needs(scenario)
        if needs:
            names = [territory_ids[t] for t in np.nonzero(homeless)[0]]
            raise InputError(
                f"territories {preview_ids(names)} have no home lat/lon, which "
                f"{', '.join(needs)} need(s); fill in the home coordinates or drop "
                f"those settings"
            )
        filled_lat = np.where(homeless, 0.0, territory_lat)
        filled_lon = np.where(homeless, 0.0, territory_lon)
        km = distance_matrix_km(account_lat, account_lon, filled_lat, filled_lon)
        km[:, homeless] = 0.0
        return km
    return distance_matrix_km(account_lat, account_lon, territory_lat, territory_lon)


def _distance_needs(scenario: Scenario) -> list[str]:
    """Settings that need account-to-home distances."""
    needs = []
    if scenario.objective.travel > 0:
        needs.append("objective.travel > 0")
    if scenario.constraints.candidates is not None:
        needs.append("constraints.candidates")
    geography = scenario.geography
    if geography and geography.contiguity and geography.home_units == "nearest":
        needs.append("geography.home_units: nearest")
    return needs


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
