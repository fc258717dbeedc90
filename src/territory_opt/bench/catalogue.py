"""Imports every suite module so that each registers its suite."""

from territory_opt.bench import districting  # noqa: F401
