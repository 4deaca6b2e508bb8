"""ERP reconciliation: the run, its rules, and requested runs."""
