"""Builders for tiny scenarios written to a temporary folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import settings

# Property tests are seeded and never timed: shared machines are noisy.
settings.register_profile(
    "territory_opt", deadline=None, derandomize=True, database=None
)
settings.load_profile("territory_opt")

ENGINES = ("cpsat", "highs", "cbc")


def write_scenario(
    folder: Path,
    accounts: Sequence[dict[str, Any]] | pd.DataFrame,
    territories: Sequence[dict[str, Any]] | pd.DataFrame,
    /,
    name: str = "tiny",
    **sections: Any,
) -> Path:
    """Write accounts.csv, territories.csv and scenario.yaml; return the YAML path."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(accounts).to_csv(folder / "accounts.csv", index=False)
    pd.DataFrame(territories).to_csv(folder / "territories.csv", index=False)
    document: dict[str, Any] = {
        "name": name,
        "accounts": {"path": "accounts.csv"},
        "territories": {"path": "territories.csv"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def scenario_writer(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario into the test's temporary folder."""

    def make(*args: Any, **kwargs: Any) -> Path:
        return write_scenario(tmp_path, *args, **kwargs)

    return make
