"""Scenario file: what to align, what to balance, how to solve, where to write.

A scenario is a YAML file validated by pydantic. Unknown keys are rejected with the
list of valid ones, and every relative path is resolved against the folder that holds
the YAML file, so a scenario folder can be moved as a whole. The models are frozen:
a loaded scenario is never changed, only copied with :meth:`Scenario.with_overrides`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from territory_opt.config import StrictModel, resolve_path
from territory_opt.errors import InputError
from territory_opt.forecast.spec import ForecastSection
from territory_opt.quota.spec import QuotaSection

ACCOUNT_FIELDS = (
    "account_id",
    "lat",
    "lon",
    "potential",
    "workload_hours",
    "current_territory",
    "segment",
    "family_id",
    "revenue",
)
TERRITORY_FIELDS = (
    "territory_id",
    "rep_id",
    "lat",
    "lon",
    "fte",
    "capacity_hours",
    "segments",
    "parent",
    "home_unit",
)


class AccountColumns(StrictModel):
    """Which column of the accounts file holds each field.

    Required fields default to a column of the same name. Optional fields
    (``current_territory``, ``segment``, ``family_id``, ``revenue``) default to a
    column of the same name when the file has one, and are absent otherwise.
    """

    account_id: str = "account_id"
    lat: str = "lat"
    lon: str = "lon"
    potential: str = "potential"
    workload_hours: str = "workload_hours"
    current_territory: str | None = None
    segment: str | None = None
    family_id: str | None = None
    revenue: str | None = None


class TerritoryColumns(StrictModel):
    """Which column of the territories file holds each field.

    ``fte`` defaults to 1.0 when the file has no such column; ``capacity_hours``,
    ``segments`` (separated by ``;``), ``parent`` and ``home_unit`` (the account
    id of the unit that holds the rep's base, for contiguity) are optional. Home
    ``lat``/``lon`` may be blank when no distance is used (pure districting).
    """

    territory_id: str = "territory_id"
    rep_id: str | None = None
    lat: str = "lat"
    lon: str = "lon"
    fte: str | None = None
    capacity_hours: str | None = None
    segments: str | None = None
    parent: str | None = None
    home_unit: str | None = None


class AccountTable(StrictModel):
    """The accounts table: CSV, Parquet or XLSX, one row per account."""

    path: Path
    sheet: str | None = None
    encoding: str = "utf-8"
    columns: AccountColumns = AccountColumns()

    _resolve_path = field_validator("path")(resolve_path)


class TerritoryTable(StrictModel):
    """The territories table: one row per territory, one rep each or vacant."""

    path: Path
    sheet: str | None = None
    encoding: str = "utf-8"
    columns: TerritoryColumns = TerritoryColumns()

    _resolve_path = field_validator("path")(resolve_path)


class BalanceSpec(StrictModel):
    """Balance of one metric: a hard band and a soft deviation penalty.

    ``tolerance`` is the half-width of the band as a share of the FTE-weighted
    target (0.05 keeps every territory within ±5 % of its target); ``weight``
    multiplies the mean absolute relative deviation in the objective (default 1.0).
    """

    tolerance: float = Field(gt=0.0, lt=1.0)
    weight: float = Field(default=1.0, ge=0.0)


class ObjectiveSpec(StrictModel):
    """Weights of the objective terms (see docs/formulation.md).

    ``travel`` multiplies the workload-weighted mean km from account to home,
    ``disruption`` the share of accounts (or of ``disruption_basis``) moved from
    the current alignment, ``balance`` the weighted mean relative deviation,
    ``cut_edges`` the number of adjacency edges between different territories
    (needs ``geography``).
    """

    travel: float = Field(default=0.0, ge=0.0)
    disruption: float = Field(default=0.0, ge=0.0)
    balance: float = Field(default=1.0, ge=0.0)
    cut_edges: float = Field(default=0.0, ge=0.0)
    disruption_basis: Literal["accounts", "potential", "revenue"] = "accounts"


class Lock(StrictModel):
    """Keep one account in one territory whatever the optimiser prefers."""

    account: str
    territory: str

    @field_validator("account", "territory", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            raise ValueError(
                f"id {value!r} was read as a number; quote it in the YAML "
                f"(for example '{value}') so that leading zeros are kept"
            )
        return value


class DisruptionBudget(StrictModel):
    """The most the alignment may change from the current one, as shares."""

    accounts_share: float | None = Field(default=None, ge=0.0, le=1.0)
    potential_share: float | None = Field(default=None, ge=0.0, le=1.0)


class Candidates(StrictModel):
    """Pruning of account/territory pairs: the k nearest homes, within a radius.

    The current and the locked territory of an account are always kept.
    """

    nearest: int | None = Field(default=None, ge=1)
    max_km: float | None = Field(default=None, gt=0.0)


class ConstraintSpec(StrictModel):
    """Hard rules every alignment must keep."""

    locks: tuple[Lock, ...] = ()
    eligibility: bool = True
    capacity: bool = True
    max_disruption: DisruptionBudget | None = None
    keep_families_together: bool = True
    candidates: Candidates | None = None


class EdgeList(StrictModel):
    """A file of adjacent account pairs (CSV, Parquet or XLSX), ids as text."""

    path: Path
    from_column: str = "from"
    to_column: str = "to"
    encoding: str = "utf-8"

    _resolve_path = field_validator("path")(resolve_path)


class PolygonLayer(StrictModel):
    """Account polygons (GeoJSON, GeoPackage, Shapefile) keyed by ``id_column``."""

    path: Path
    id_column: str
    layer: str | None = None
    repair: bool = True

    _resolve_path = field_validator("path")(resolve_path)


class GeographySpec(StrictModel):
    """Where accounts are geographic units: adjacency, contiguity, shapes.

    Adjacency comes from ``adjacency`` (an edge list) or else from ``polygons``
    (``adjacency_method`` rook: a shared border; queen: a shared point).
    ``islands`` says what to do with units or groups of units that no edge links
    to the rest: ``attach_nearest`` links each to its nearest unit, ``own_territory``
    keeps each territory inside the piece that holds its home unit, ``fail``
    stops with their list. ``home_units``: ``nearest`` takes the account nearest
    to each territory's home point, ``column`` the territories' ``home_unit``
    column, ``none`` leaves territories without a fixed root.
    """

    adjacency: EdgeList | None = None
    polygons: PolygonLayer | None = None
    adjacency_method: Literal["rook", "queen"] = "rook"
    contiguity: bool = False
    islands: Literal["attach_nearest", "own_territory", "fail"] = "fail"
    home_units: Literal["nearest", "column", "none"] = "nearest"
    map_png: bool = True


class HierarchyTable(StrictModel):
    """A table of units and their parents (CSV, Parquet or XLSX), ids as text."""

    path: Path
    unit: str = "unit"
    parent: str = "parent"
    sheet: str | None = None
    encoding: str = "utf-8"

    _resolve_path = field_validator("path")(resolve_path)


class HierarchySection(StrictModel):
    """Units above the territories: districts, regions (see docs/hierarchy.md).

    ``levels`` names the levels bottom-up (``[district, region]``). The unit of a
    territory at a level comes from ``columns[level]`` (a territories column),
    else, for the first level, from the territories' ``parent`` column, else from
    ``table`` (the parent of each unit of the level below). ``keep_within`` maps
    a level to an accounts column: an account stays inside the unit named there
    (blank: anywhere). ``balance`` puts a band on the sum of each unit's
    territories, around the sum of their targets. ``solve`` is ``monolithic`` (one
    model) or ``top_down`` (level by level from the top; ``workers`` local
    processes per level, default the number of cores).
    """

    levels: tuple[str, ...] = Field(min_length=1)
    columns: dict[str, str] = Field(default_factory=dict)
    table: HierarchyTable | None = None
    keep_within: dict[str, str] = Field(default_factory=dict)
    balance: dict[str, dict[str, BalanceSpec]] = Field(default_factory=dict)
    solve: Literal["monolithic", "top_down"] = "monolithic"
    workers: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _known_levels(self) -> HierarchySection:
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"levels {list(self.levels)} name a level twice")
        for key in ("columns", "keep_within", "balance"):
            unknown = [name for name in getattr(self, key) if name not in self.levels]
            if unknown:
                raise ValueError(
                    f"{key} names level(s) {unknown} that are not in levels "
                    f"{list(self.levels)}; add them to levels or correct the name"
                )
        return self


class SolverSpec(StrictModel):
    """Engine and limits. ``auto`` picks HiGHS."""

    engine: Literal["cpsat", "highs", "cbc", "auto"] = "auto"
    time_limit_s: float = Field(default=60.0, gt=0.0)
    seed: int = Field(default=0, ge=0)
    threads: int = Field(default=1, ge=1)
    relative_gap: float = Field(default=0.0, ge=0.0, lt=1.0)


class OutputSpec(StrictModel):
    """Where results go; the folder is relative to the scenario file."""

    folder: Path | None = None
    formats: tuple[Literal["csv", "json", "parquet"], ...] = ("csv", "json")

    @field_validator("folder")
    @classmethod
    def _resolve_folder(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, info)


class Scenario(StrictModel):
    """A complete scenario: inputs, balance, objective, constraints, solver."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    accounts: AccountTable
    territories: TerritoryTable
    balance: dict[str, BalanceSpec] = Field(default_factory=dict)
    objective: ObjectiveSpec = ObjectiveSpec()
    constraints: ConstraintSpec = ConstraintSpec()
    geography: GeographySpec | None = None
    hierarchy: HierarchySection | None = None
    quota: QuotaSection | None = None
    forecast: ForecastSection | None = None
    solver: SolverSpec = SolverSpec()
    output: OutputSpec = OutputSpec()
    source_path: Path | None = Field(default=None, exclude=True)
    source_sha256: str | None = Field(default=None, exclude=True)

    def with_overrides(self, **solver_fields: Any) -> Scenario:
        """Return a copy with some solver fields replaced (``None`` keeps one)."""
        changes = {k: v for k, v in solver_fields.items() if v is not None}
        if not changes:
            return self
        data = self.solver.model_dump() | changes
        try:
            solver = SolverSpec.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])} = {e['input']!r}: {e['msg']}"
                for e in exc.errors()
            )
            raise InputError(f"solver option out of range: {problems}") from None
        return self.model_copy(update={"solver": solver})

    def output_folder(self) -> Path:
        """``output.folder``, or ``results/<name>`` beside the scenario file."""
        if self.output.folder is not None:
            return self.output.folder
        base = self.source_path.parent if self.source_path else Path.cwd()
        return (base / "results" / self.name).resolve()


def _format_validation_error(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: the scenario is not valid ({error.error_count()} problem(s))"]
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(top level)"
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            msg = "this key is required"
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    InputError
        When the file is missing, is not YAML, or breaks the schema; the message
        names each offending key path.
    """
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the scenario file ({exc.strerror})"
        ) from None
    try:
        data = yaml.safe_load(raw_bytes.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid UTF-8 YAML file: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of keys at the top level")
    context = {"base_dir": path.resolve().parent}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(_format_validation_error(path, exc)) from None
    return scenario.model_copy(
        update={
            "source_path": path.resolve(),
            "source_sha256": hashlib.sha256(raw_bytes).hexdigest(),
        }
    )


def scenario_json_schema() -> str:
    """The JSON Schema of the scenario file, for editors and validators."""
    schema = Scenario.model_json_schema()
    for key in ("source_path", "source_sha256"):
        schema.get("properties", {}).pop(key, None)
    return json.dumps(schema, indent=2)
