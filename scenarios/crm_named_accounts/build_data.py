"""Build the ``crm_named_accounts`` scenario from the seeded CRM generator.

The generator (``territory_opt.crm.generator``) makes a CRM export with the
shape of the public CRM sample, planted faults included; this script turns it
into the scenario tables with the same code as ``territory-opt import-crm``.
Deterministic: running it again gives identical files.

Run with::

    .venv/bin/python scenarios/crm_named_accounts/build_data.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from territory_opt.crm.adapter import read_crm_folder
from territory_opt.crm.generator import generate_crm
from territory_opt.crm.scenario import write_crm_scenario

HERE = Path(__file__).resolve().parent
SEED = 11


def build(folder: Path = HERE) -> Path:
    """Write the scenario into ``folder``; return its scenario.yaml."""
    with tempfile.TemporaryDirectory() as export:
        generate_crm(SEED).write(Path(export))
        crm = read_crm_folder(Path(export))
    return write_crm_scenario(
        crm, folder, name="crm_named_accounts", as_of="2026-01-05", time_limit_s=30
    )


if __name__ == "__main__":
    print(f"wrote {build()}")
