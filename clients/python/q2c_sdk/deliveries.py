"""DeliveryService methods of the q2c client (see `q2c/v1/delivery.proto`).

One method per RPC, generated into `q2c_sdk._gen_delivery` by scripts/gen_sdk.py; friendly
helpers that do more than one call go here.
"""

from __future__ import annotations

from q2c_sdk._gen_delivery import DeliveryServiceMethods


class DeliveryMethods(DeliveryServiceMethods):
    """DeliveryService: outbound ERP / PSA deliveries, dead letters and their retry."""
