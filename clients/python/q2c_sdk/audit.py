"""AuditService methods of the q2c client (see `q2c/v1/audit.proto`).

One method per RPC, generated into `q2c_sdk._gen_audit` by scripts/gen_sdk.py; friendly
helpers that do more than one call go here.
"""

from __future__ import annotations

from q2c_sdk._gen_audit import AuditServiceMethods


class AuditMethods(AuditServiceMethods):
    """AuditService: every RPC as a typed method taking the request message and per-call options."""
