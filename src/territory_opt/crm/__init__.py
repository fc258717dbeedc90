"""CRM data: an adapter for the CRM sample schema and a seeded generator of
look-alike data sets with planted faults."""

from territory_opt.crm.adapter import (
    CrmData,
    DataQualityReport,
    crm_forecast_section,
    read_crm_folder,
)
from territory_opt.crm.generator import FaultPlan, SyntheticCrm, generate_crm

__all__ = [
    "CrmData",
    "DataQualityReport",
    "FaultPlan",
    "SyntheticCrm",
    "crm_forecast_section",
    "generate_crm",
    "read_crm_folder",
]
