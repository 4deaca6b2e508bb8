"""Base model settings shared by every domain value."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable domain value: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
