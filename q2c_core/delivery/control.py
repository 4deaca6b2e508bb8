"""DeliveryControl: what DeliveryService asks of the delivery tables (tenant-scoped)."""

from __future__ import annotations

from collections.abc import Callable

from q2c_core.store.deliveries import DeliveryStore


class DeliveryControl:
    """Dead letters, their retry, and delivery statistics; `wake` nudges the worker."""

    def __init__(self, store: DeliveryStore, wake: Callable[[], None]) -> None:
        self.store = store
        self.wake = wake
