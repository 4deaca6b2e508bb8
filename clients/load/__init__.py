"""`q2c load`: drive a running q2c with a month-end workload, then check and report it.

profile.py (what to generate) -> scenario.py (the seeded plan) -> driver.py (send it, closed or
open loop, in one or several processes) -> bill run, issuing, payments -> oracle.py (recompute
every invoice and compare to the server's) -> record.py / report.py (what it measured).
"""
