"""Settings built the way `q2c serve` builds them, without the test runner's own Q2C_* environment."""

from __future__ import annotations

import os
from typing import Any

import pytest

from q2c_core.settings import Settings


def settings(**values: Any) -> Settings:
    """Settings from `values` alone: any Q2C_* variable of the environment is ignored."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [key for key in os.environ if key.upper().startswith("Q2C_")]:
            patch.delenv(name)
        return Settings(**values)
