"""ExceptionService methods of the q2c client (see `q2c/v1/exception.proto`).

One method per RPC, generated into `q2c_sdk._gen_exception` by scripts/gen_sdk.py; friendly
helpers that do more than one call go here.
"""

from __future__ import annotations

from q2c_sdk._gen_exception import ExceptionServiceMethods


class ExceptionMethods(ExceptionServiceMethods):
    """ExceptionService: every RPC as a typed method taking the request message and per-call options."""
