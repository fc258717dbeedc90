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

from territory_opt.config import (
    OctalLookingInt,
    StrictModel,
    numeric_id_problem,
    read_yaml,
    resolve_path,
)
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
    "postal_code",
)
CSV_SUFFIXES = (".csv", ".txt")
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
    postal_code: str | None = None


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


class Region(StrictModel):
    """A box of latitudes and longitudes in degrees, ``(low, high)`` each."""

    lat: tuple[float, float]
    lon: tuple[float, float]


class AccountTable(StrictModel):
    """The accounts table: CSV, Parquet or XLSX, one row per account.

    ``encoding`` and ``delimiter`` (one character: ``";"``, ``"\\t"``; default
    ``","``) say how a CSV file is written; the other tables take them too.
    ``numeric_ids`` says what to do with ids that a Parquet or Excel file stores
    as numbers (a ZIP ``02116`` saved as the integer 2116): ``keep`` their
    digits, ``pad`` them with leading zeros to ``id_digits`` digits (with a
    warning), or ``reject`` the file. A CSV file has no numbers, only text, so
    ``pad`` or ``reject`` with a CSV file is refused. ``fill_missing`` maps a
    numeric field (``potential``, ``workload_hours``, ``revenue`` or a balanced
    metric) to the value that replaces its blank or NaN cells, with a warning
    that counts them; without it such a cell is an error. ``drop_blank_ids``
    drops rows with an empty id (with a warning) instead of refusing the file.
    ``region`` is the box
    the accounts lie in: a row outside it is an error, named as swapped when it
    falls inside once latitude and longitude are swapped (and the columns named
    when every row does). Without it, rows that fit only swapped, against a box
    around the median account or around the median territory home, get a
    warning.
    """

    path: Path
    sheet: str | None = None
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    columns: AccountColumns = AccountColumns()
    numeric_ids: Literal["keep", "pad", "reject"] = "keep"
    id_digits: int = Field(default=5, ge=1, le=20)
    fill_missing: dict[str, float] = Field(default_factory=dict)
    drop_blank_ids: bool = False
    region: Region | None = None

    _resolve_path = field_validator("path")(resolve_path)

    @model_validator(mode="after")
    def _numeric_ids_need_typed_cells(self) -> AccountTable:
        if self.numeric_ids != "keep" and self.path.suffix.lower() in CSV_SUFFIXES:
            raise ValueError(
                f"numeric_ids: {self.numeric_ids} applies to Parquet and Excel "
                f"files, whose cells store ids as numbers or as text; {self.path} "
                f"is a CSV file, where every id is read as text exactly as written, "
                f"so remove numeric_ids (if leading zeros were lost when the CSV "
                f"was written, restore them in the file)"
            )
        return self


class TerritoryTable(StrictModel):
    """The territories table: one row per territory, one rep each or vacant."""

    path: Path
    sheet: str | None = None
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
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
    (needs ``geography``), ``peak_workload`` the largest workload, in hours, of
    any territory (minimising it spreads the work; default 0, off).
    """

    travel: float = Field(default=0.0, ge=0.0)
    disruption: float = Field(default=0.0, ge=0.0)
    balance: float = Field(default=1.0, ge=0.0)
    cut_edges: float = Field(default=0.0, ge=0.0)
    peak_workload: float = Field(default=0.0, ge=0.0)
    disruption_basis: Literal["accounts", "potential", "revenue"] = "accounts"


class Lock(StrictModel):
    """Keep one account in one territory whatever the optimiser prefers."""

    account: str
    territory: str

    @field_validator("account", "territory", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        problem = numeric_id_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class PostalRule(StrictModel):
    """Lock every account whose postal code lies in a ZIP range to a territory.

    ``from_code`` and ``to_code`` are five-digit ZIPs, both included (a bare
    number such as 10000 is taken as written; one with a leading zero must be
    quoted, as YAML reads it as octal); codes are
    read from the accounts' ``postal_code`` column, or from their ids when the
    table has none (ZIP+4 counts by its first five digits; see
    :mod:`territory_opt.postal`).
    """

    from_code: str
    to_code: str
    territory: str

    @field_validator("territory", mode="before")
    @classmethod
    def _territory_as_text(cls, value: Any) -> Any:
        problem = numeric_id_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("from_code", "to_code", mode="before")
    @classmethod
    def _zip(cls, value: Any) -> Any:
        from territory_opt.postal import zip5

        if isinstance(value, OctalLookingInt):
            raise ValueError(numeric_id_problem(value))
        text = str(value) if isinstance(value, int) else value
        if isinstance(text, str) and zip5(text) is None:
            raise ValueError(f"'{text}' is not a five-digit ZIP code")
        return zip5(text) if isinstance(text, str) else text


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
    postal_rules: tuple[PostalRule, ...] = ()
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
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    _resolve_path = field_validator("path")(resolve_path)


class PolygonLayer(StrictModel):
    """Account polygons (GeoJSON, GeoPackage, Shapefile) keyed by ``id_column``.

    ``match``: ``id`` pairs each account with the polygon of the same id (as
    text); ``location`` with the polygon that holds the account's lat/lon
    point, whatever the layer's coordinate reference system.
    """

    path: Path
    id_column: str
    layer: str | None = None
    repair: bool = True
    match: Literal["id", "location"] = "id"

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
    delimiter: str = Field(default=",", min_length=1, max_length=1)

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
    """Engine and limits. ``auto`` picks HiGHS.

    ``cross_check``: with more than one thread, solve again with one and
    compare; a disagreement on feasibility or on the proven optimum is reported
    as a solver inconsistency (default off).
    """

    engine: Literal["cpsat", "highs", "cbc", "auto"] = "auto"
    time_limit_s: float = Field(default=60.0, gt=0.0)
    seed: int = Field(default=0, ge=0)
    threads: int = Field(default=1, ge=1)
    relative_gap: float = Field(default=0.0, ge=0.0, lt=1.0)
    cross_check: bool = False


class CrmExportSpec(StrictModel):
    """Settings of the Salesforce Enterprise Territory Management load files.

    ``territory2_model_id`` and ``territory2_type_id`` are the 18-character ids of
    the territory model (in planning state) and of the territory type in the
    target org; left blank, the columns are written empty for the CRM admin to
    fill. ``user_role`` is the ``RoleInTerritory2`` value given to every rep;
    the access levels apply to every territory (Read, Edit or All for accounts;
    None, Read or Edit for opportunities and cases).
    """

    territory2_model_id: str = ""
    territory2_type_id: str = ""
    user_role: str = "Owner"
    account_access: Literal["Read", "Edit", "All"] = "Edit"
    opportunity_access: Literal["None", "Read", "Edit"] = "Read"
    case_access: Literal["None", "Read", "Edit"] = "Read"


OutputFormat = Literal["csv", "json", "parquet", "html", "xlsx", "crm"]


class OutputSpec(StrictModel):
    """Where results go and which files; the folder is relative to the scenario.

    ``formats``: ``csv`` and ``parquet`` tables, ``json`` metrics, ``html`` the
    self-contained report, ``xlsx`` the workbook, ``crm`` the CRM load files
    (default: csv, json, html and xlsx).
    """

    folder: Path | None = None
    formats: tuple[OutputFormat, ...] = ("csv", "json", "html", "xlsx")
    crm: CrmExportSpec = CrmExportSpec()

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


def _shown(node: yaml.Node) -> str:
    """A short form of a YAML value: the scalar, or the tolerance it sets."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "tolerance" and isinstance(value, yaml.ScalarNode):
                return f"tolerance {value.value}"
    return "a section"


def _repeated_keys(node: yaml.Node | None, where: str = "") -> list[str]:
    """Every mapping key that appears more than once, with its lines and values."""
    found: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, list[tuple[yaml.Node, yaml.Node]]] = {}
        for key, value in node.value:
            seen.setdefault(str(key.value), []).append((key, value))
            found += _repeated_keys(value, f"{where}{key.value}.")
        for name, copies in seen.items():
            if len(copies) > 1:
                lines = " and ".join(str(k.start_mark.line + 1) for k, _ in copies)
                values = " and ".join(_shown(v) for _, v in copies)
                found.append(
                    f"{where}{name} is given {len(copies)} times (lines {lines}), "
                    f"with {values}"
                )
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _repeated_keys(item, f"{where}{i}.")
    return found


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
        text = raw_bytes.decode("utf-8-sig")
        twice = _repeated_keys(yaml.compose(text, Loader=yaml.SafeLoader))
        data = read_yaml(text)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid UTF-8 YAML file: {exc}") from None
    if twice:
        listed = "\n".join(f"  - {item}" for item in twice)
        raise InputError(
            f"{path}: {len(twice)} key(s) given more than once; YAML would keep "
            f"only the last, so keep the one you mean:\n{listed}"
        )
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of keys at the top level")
    return scenario_from_mapping(data, path, hashlib.sha256(raw_bytes).hexdigest())


def scenario_from_mapping(
    data: dict[str, Any], path: Path, sha256: str | None = None
) -> Scenario:
    """Validate a scenario given as a mapping, as if read from the file ``path``.

    Relative paths resolve against the folder of ``path``; ``sha256`` is
    recorded as the scenario's hash.

    Raises
    ------
    InputError
        When the mapping breaks the schema; the message names each key path.
    """
    context = {"base_dir": path.resolve().parent}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(_format_validation_error(path, exc)) from None
    return scenario.model_copy(
        update={"source_path": path.resolve(), "source_sha256": sha256}
    )


def scenario_json_schema() -> str:
    """The JSON Schema of the scenario file, for editors and validators."""
    schema = Scenario.model_json_schema()
    for key in ("source_path", "source_sha256"):
        schema.get("properties", {}).pop(key, None)
    return json.dumps(schema, indent=2)
