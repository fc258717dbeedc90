"""Base of every configuration model: frozen, strict, paths resolved.

Kept apart from :mod:`territory_opt.scenario` so that the sections of the
scenario (quota, forecast) can build on it without an import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator


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
