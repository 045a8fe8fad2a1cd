"""Difference in differences: 2×2, two-way fixed effects and Callaway–Sant'Anna (staggered): evidence level 3."""

from evaluation.designs.did.estimators import TWFE, CallawaySantAnna, DiD2x2

__all__ = ["DiD2x2", "TWFE", "CallawaySantAnna"]
