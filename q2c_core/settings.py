"""Service settings: environment variables (Q2C_*) overridden by command-line flags."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything `q2c serve` can be told; each field is also a Q2C_<NAME> variable."""

    model_config = SettingsConfigDict(env_prefix="Q2C_", extra="ignore")

    host: str = Field("127.0.0.1", description="interface the gRPC server binds")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0: any free port)")
    database_url: str = Field("sqlite:///q2c.db", description="SQLite file or PostgreSQL URL")
    ray_address: str | None = Field(None, description="Ray cluster address; absent: start a local Ray")
    shards: int = Field(2, ge=1, le=1024, description="number of engagement shard actors")
    ray_num_cpus: int | None = Field(None, ge=1, description="CPUs for a local Ray (default: all)")
    deployment: str = Field("q2c", pattern=r"^[a-z0-9-]+$", description="shard actor name prefix")
    local: bool = Field(False, description="run engagements in-process, without Ray")
    grace_seconds: float = Field(10.0, ge=0, description="drain time for in-flight calls on shutdown")
    log_level: str = Field("INFO", description="logging level")


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the environment, with any flags given on the command line winning."""
    parser = argparse.ArgumentParser(prog="q2c serve", description="Run the q2c gRPC service.")
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if field.annotation is bool:
            parser.add_argument(flag, action="store_true", default=None, help=field.description)
        else:
            parser.add_argument(flag, default=None, help=field.description)
    given = {k: v for k, v in vars(parser.parse_args(argv)).items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = "; ".join(
            f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in error.errors()
        )
        parser.error(problems)
