"""Activation's downstream records: the ERP customer and job, and the PSA project."""

from __future__ import annotations

from q2c_core.adapters.erp.simulator_connectors import SimulatorErp, SimulatorPsa
from q2c_core.app.connectors import Ack, AckResult, customer_key, job_key, project_key
from tests.integration.builders import customer, engagement
from tests.simulator.conftest import RunningSimulator


def acked(result: AckResult) -> Ack:
    """The acknowledgement, failing the test with the failure otherwise."""
    assert isinstance(result, Ack), result
    return result


def test_provisioning_the_psa_project_stores_the_engagement(psa: SimulatorPsa, sim: RunningSimulator) -> None:
    eng = engagement()
    ack = acked(psa.provision_project(eng, key=project_key(eng)))
    assert (ack.record, ack.key, ack.version) == ("project", "q2c:project:eng-1", 1)
    stored = sim.client.request("GET", "/psa/projects/q2c:project:eng-1")["payload"]
    assert (stored["customer"], stored["roles"], stored["start_date"]) == (
        "cust-1",
        ["architect"],
        "2025-02-01",
    )


def test_creating_the_erp_job_stores_the_engagement(erp: SimulatorErp, sim: RunningSimulator) -> None:
    eng = engagement()
    ack = acked(erp.create_job(eng, key=job_key(eng)))
    assert (ack.record, ack.version) == ("job", 1)
    stored = sim.client.request("GET", "/erp/jobs/q2c:job:eng-1")["payload"]
    assert (stored["engagement_id"], stored["name"]) == ("eng-1", "ERP rollout")


def test_upserting_a_customer_twice_keeps_one_record(erp: SimulatorErp, sim: RunningSimulator) -> None:
    cust = customer()
    first = acked(erp.upsert_customer(cust, key=customer_key(cust)))
    again = acked(erp.upsert_customer(cust, key=customer_key(cust)))
    assert first.key == again.key == "q2c:customer:cust-1"
    stored = sim.client.request("GET", "/erp/customers/q2c:customer:cust-1")
    assert stored["payload"] == {
        "customer_id": "cust-1",
        "name": "ACME GmbH",
        "legal_entity": "",
        "currency": "EUR",
        "payment_terms_days": 30,
        "po_required": False,
        "status": "ACTIVE",
        "tax": {"jurisdiction": "DE", "rate": "0.19", "exempt": False},
    }


def test_keys_with_reserved_characters_reach_the_record(erp: SimulatorErp) -> None:
    cust = customer(customer_id="a/b c")
    ack = acked(erp.upsert_customer(cust, key=customer_key(cust)))
    assert ack.key == "q2c:customer:a/b c"
