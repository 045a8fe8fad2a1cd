"""The data boundary: readers for participants, survey and register files (CSV, Parquet, Excel,
DREAM wide, long and spell layouts), ISO weeks, benefit-code lists and pseudonymisation.

Inputs are read once here, validated and pseudonymised; nothing downstream branches on file
formats or re-checks columns.
"""
