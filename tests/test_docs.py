"""The documentation stands on its own: no reference outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_cite_no_notes_outside_the_repository(page: Path) -> None:
    """No page sends the reader to DOMAIN.md, which the repository does not hold."""
    assert "DOMAIN" not in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve_inside_the_repository(page: Path) -> None:
    """Every relative link of a page names a file of the repository."""
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name}: {target}"
        assert resolved.exists(), f"{page.name}: {target}"


def test_quota_and_forecast_pages_state_their_formulas() -> None:
    """The pages that once pointed elsewhere now state the formulas themselves."""
    quota = (ROOT / "docs" / "quota.md").read_text(encoding="utf-8")
    forecast = (ROOT / "docs" / "forecast.md").read_text(encoding="utf-8")
    for formula in (
        "T_street = T × Π_ℓ (1 + oa_ℓ)",
        "Σ_i clamp(λ Q_i^raw, L_i, U_i) = T_street",
        "Q_i(π) = median_i exp(s_i Φ⁻¹(1 − π))",
        "ln S_{i,k} = ln median_i + s_i (sqrt(ρ) z_k^0 + sqrt(1 − ρ) z_{i,k})",
        "V_between / (V_between + V_within)",
    ):
        assert formula in quota
    for formula in (
        "p_s = (Wn_s + α p0_s) / (N_s + α)",
        "B = (I − Q)⁻¹ R",
        "SD_g = sqrt(Σ amount_j² p_j (1 − p_j))",
        "WAPE = Σ |A − F| / Σ A",
        "tracking_signal = Σ (A − F) / MAE",
    ):
        assert formula in forecast
