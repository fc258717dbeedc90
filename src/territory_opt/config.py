"""Base of every configuration model: frozen, strict, paths resolved.

Kept apart from :mod:`territory_opt.scenario` so that the sections of the
scenario (quota, forecast) can build on it without an import cycle.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

# YAML 1.1 (PyYAML) reads unquoted digits with a leading zero as an octal number.
_OCTAL_TEXT = re.compile(r"^[-+]?0[0-7_]+$")


class OctalLookingInt(int):
    """A number that YAML read from digits with a leading zero, as an octal one.

    ``written`` keeps the text as it stands in the file (``01234`` for 668), so
    that an error can quote what the user wrote.
    """

    written: str


class _ScenarioLoader(yaml.SafeLoader):
    """The safe YAML loader, keeping the text of octal-looking numbers."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value = loader.construct_yaml_int(node)
    if _OCTAL_TEXT.match(str(node.value)):
        number = OctalLookingInt(value)
        number.written = str(node.value)
        return number
    return value


_ScenarioLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def read_yaml(text: str) -> Any:
    """Parse scenario YAML safely; octal-looking numbers keep their text."""
    return yaml.load(text, Loader=_ScenarioLoader)


def numeric_id_problem(value: Any) -> str | None:
    """Why an id that YAML read as a number cannot be used, or None for text.

    A number written with a leading zero (``01234``) is named with the octal
    value YAML made of it (668), so that the user sees why the id changed.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, OctalLookingInt):
        return (
            f"{value.written} was read by YAML as the octal number {int(value)} (an "
            f"unquoted number with a leading zero), not as the id "
            f"'{value.written}'; quote it in the YAML: '{value.written}'"
        )
    return (
        f"id {value!r} was read as a number; quote it in the YAML "
        f"(for example '{value}') so that leading zeros are kept"
    )


class StrictModel(BaseModel):
    """Frozen model that names the valid keys when it meets an unknown one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            valid = {k for k, f in cls.model_fields.items() if not f.exclude}
            unknown = sorted(str(k) for k in data if k not in valid)
            if unknown:
                raise ValueError(
                    f"unknown key(s) {', '.join(unknown)}; "
                    f"valid keys are: {', '.join(sorted(valid))}"
                )
        return data


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    if base is not None and not value.is_absolute():
        return (Path(base) / value).resolve()
    return value
