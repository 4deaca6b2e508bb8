"""The delivery actor on Ray: killed mid-delivery, Ray restarts it and it resumes from the outbox."""

from __future__ import annotations

import uuid
from typing import Any

import ray

from actors.runtime import RayRuntime
from q2c_core.adapters.erp.simulator_connectors import simulator_connectors
from q2c_core.adapters.store import Store
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.delivery.model import DeliveryStatus
from tests.delivery.conftest import billed, eventually, fast_config
from tests.simulator.conftest import RunningSimulator


async def test_killing_the_delivery_actor_mid_delivery_loses_and_doubles_nothing(
    ray_cluster: str, store: Store, fresh_url: str, sim: RunningSimulator
) -> None:
    # Slow invoice postings, one at a time, so the kill lands while postings are in flight.
    sim.client.request("POST", "/faults", {"path_prefix": "/erp/invoices", "latency_ms": 150})
    config = fast_config(sim.url, erp_concurrency=1)
    runtime = RayRuntime(
        store,
        fresh_url,
        shards=1,
        deployment=f"dlv-{uuid.uuid4().hex[:8]}",
        delivery=config,
        connectors=simulator_connectors,
    )
    try:
        await runtime.wait_ready()
        bill = await billed(runtime, store, 10)
        await runtime.start_delivery()
        actor: Any = runtime.delivery_actor
        first_pid = (await actor.stats.remote())["pid"]
        deliveries = DeliveryStore(store.engine)

        def delivered_invoices() -> int:
            page = deliveries.list_items(bill.tenant_id, status=DeliveryStatus.DELIVERED, page_size=1000)
            return sum(1 for i in page.items if i.invoice_id)

        await eventually(lambda: delivered_invoices() >= 2, what="some invoices delivered")
        assert delivered_invoices() < 10  # still mid-delivery
        ray.kill(actor, no_restart=False)

        def all_posted() -> bool:
            return all(
                runtime.queries.get_invoice(bill.tenant_id, i).erp_document_number for i in bill.invoice_ids
            )

        await eventually(all_posted, timeout=60, what="every invoice posted by the restarted actor")
        assert (await actor.stats.remote())["pid"] != first_pid
        documents = [
            d
            for d in sim.client.request("GET", "/erp/invoices")["documents"]
            if d["payload"]["invoice_id"] in set(bill.invoice_ids)
        ]
        assert sorted(d["payload"]["invoice_id"] for d in documents) == sorted(bill.invoice_ids)
        numbers = {
            runtime.queries.get_invoice(bill.tenant_id, i).erp_document_number for i in bill.invoice_ids
        }
        assert numbers == {d["document_number"] for d in documents}
    finally:
        await runtime.close(kill_shards=True)
