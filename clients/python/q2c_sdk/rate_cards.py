"""RateCardService methods of the q2c client (see `q2c/v1/rate_card.proto`).

One method per RPC, generated into `q2c_sdk._gen_rate_card` by scripts/gen_sdk.py; friendly
helpers that do more than one call go here.
"""

from __future__ import annotations

from q2c_sdk._gen_rate_card import RateCardServiceMethods


class RateCardMethods(RateCardServiceMethods):
    """RateCardService: every RPC as a typed method taking the request message and per-call options."""
