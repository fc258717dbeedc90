"""Quotas and comp fairness: set quotas from a territory alignment and simulate pay.

Start with :func:`plan_quotas` (one territories table and a validated
:class:`QuotaSection` in, a frozen :class:`QuotaOutcome` out) and
:func:`joint_design` (the territory-quota loop). ``docs/quota.md`` states the
formulas, the steps and the choices made on top of them.
"""

from territory_opt.quota.run import QuotaOutcome, joint_design, plan_quotas
from territory_opt.quota.spec import QuotaSection, load_quota_section

__all__ = [
    "QuotaOutcome",
    "QuotaSection",
    "joint_design",
    "load_quota_section",
    "plan_quotas",
]
