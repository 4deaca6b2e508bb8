"""Connectors bound to one simulator process (the process fixtures come from tests/simulator)."""

from __future__ import annotations

import pytest

from q2c_core.adapters.erp.simulator_connectors import SimulatorErp, SimulatorPsa
from simulator.client import SimulatorClient
from tests.simulator.conftest import RunningSimulator, launch, sim  # noqa: F401  (fixtures)


@pytest.fixture
def erp(sim: RunningSimulator) -> SimulatorErp:  # noqa: F811
    """The ERP connector over the running simulator (short timeout: faults hold replies)."""
    return SimulatorErp(SimulatorClient(sim.url, timeout=2.0))


@pytest.fixture
def psa(sim: RunningSimulator) -> SimulatorPsa:  # noqa: F811
    """The PSA connector over the running simulator."""
    return SimulatorPsa(SimulatorClient(sim.url, timeout=2.0))
