"""Service settings: environment variables (Q2C_*) overridden by command-line flags."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from q2c_core.app.billing.lease import LeaseSettings
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.domain.duties import SelfApprovalPolicy

if TYPE_CHECKING:
    from q2c_core.edge.limits import ServerLimits


class Settings(BaseSettings):
    """Everything `q2c serve` can be told; each field is also a Q2C_<NAME> variable."""

    model_config = SettingsConfigDict(env_prefix="Q2C_", extra="ignore")

    host: str = Field("127.0.0.1", description="interface the gRPC server binds")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0: any free port)")
    database_url: str = Field("sqlite:///q2c.db", description="SQLite file or PostgreSQL URL")
    sqlite_synchronous: Literal["full", "normal"] = Field(
        "full",
        description="SQLite durability: full syncs every commit (no acknowledged command is lost on "
        "power loss); normal may lose the last commits on power loss, never corrupts",
    )
    ray_address: str | None = Field(None, description="Ray cluster address; absent: start a local Ray")
    shards: int = Field(2, ge=1, le=1024, description="number of engagement shard actors")
    shard_placement: Literal["spread", "pack"] = Field(
        "spread",
        description="where Ray puts the shard actors: spread evenly over the cluster's nodes (a SPREAD "
        "placement group, one 0.001-CPU bundle per shard, moved to survivors when a node is lost), or "
        "pack them where Ray's default scheduler finds room",
    )
    shard_channel: Literal["direct", "ray"] = Field(
        "direct",
        description="how the gateway sends command batches to a shard: direct, over the shard's own "
        "socket (an ephemeral TCP port on its node, opened by a secret the shard hands out through "
        "Ray); ray, as Ray actor calls (each costs about a millisecond of CPU more on both sides)",
    )
    ray_num_cpus: int | None = Field(None, ge=1, description="CPUs for a local Ray (default: all)")
    deployment: str = Field("q2c", pattern=r"^[a-z0-9-]+$", description="shard actor name prefix")
    local: bool = Field(False, description="run engagements in-process, without Ray")
    grace_seconds: float = Field(10.0, ge=0, description="drain time for in-flight calls on shutdown")
    log_level: str = Field("INFO", description="logging level")
    log_format: Literal["text", "json"] = Field(
        "text", description="log lines as text, or as JSON objects (one per line) for a log pipeline"
    )
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="HTTP port of /metrics (Prometheus); absent: off; 0: any free port"
    )
    dashboard_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="HTTP port of the operations dashboard; absent: off; 0: any free port",
    )
    erp_url: str | None = Field(None, description="ERP base URL (the simulator's); absent: no ERP delivery")
    psa_url: str | None = Field(None, description="PSA base URL (the simulator's); absent: no PSA delivery")
    delivery_max_attempts: int = Field(10, ge=1, description="attempts before an item is a dead letter")
    delivery_base_seconds: float = Field(1.0, ge=0, description="first retry delay (doubles, jittered)")
    delivery_cap_seconds: float = Field(300.0, ge=0, description="longest retry delay")
    erp_concurrency: int = Field(8, ge=1, description="ERP calls in flight at most")
    psa_concurrency: int = Field(4, ge=1, description="PSA calls in flight at most")
    connector_timeout_seconds: float = Field(10.0, gt=0, description="timeout of one ERP/PSA call")
    reconcile_interval_seconds: float | None = Field(
        None, gt=0, description="run ERP reconciliation for every tenant this often; absent: on request only"
    )
    bill_run_lease_seconds: float = Field(
        30.0,
        gt=0,
        description="a bill-run coordinator's lease: renewed every third; lapsed: the run is resumed",
    )
    bill_run_sweep_seconds: float = Field(
        15.0, gt=0, description="every gateway looks for abandoned bill runs at start and this often"
    )
    bill_run_max_resumes: int = Field(
        3, ge=0, description="times a bill run is resumed after losing its coordinator before it is FAILED"
    )
    bill_run_chunk: int = Field(
        250, ge=1, le=10_000, description="engagements a bill run sends a shard per call (one group commit)"
    )
    bill_run_pause_seconds: float = Field(
        0.0, ge=0, le=60, description="pause between a shard's bill-run chunks (throttles a long run)"
    )

    auth: Literal["required", "none"] = Field(
        "required", description="'none' trusts x-tenant-id/x-principal unverified: development only"
    )
    dev_key_dir: Path | None = Field(
        None,
        description="trust tokens minted from this development key (q2c auth dev-key); --local: .q2c/dev-key",
    )
    jwt_public_key_file: Path | None = Field(None, description="PEM public key that verifies bearer tokens")
    jwt_jwks: str | None = Field(None, description="JWKS file or URL that verifies bearer tokens (cached)")
    jwt_issuer: str | None = Field(None, description="required 'iss' of bearer tokens")
    jwt_audience: str = Field("q2c", description="required 'aud' of bearer tokens")
    jwt_leeway_seconds: float = Field(30.0, ge=0, le=300, description="clock skew allowed on exp/nbf")
    tls_cert_file: Path | None = Field(
        None, description="PEM certificate chain: serve TLS (re-read on change)"
    )
    tls_key_file: Path | None = Field(None, description="PEM private key of --tls-cert-file")
    tls_client_ca_file: Path | None = Field(
        None, description="PEM CA bundle: require client certificates (mTLS)"
    )
    mtls_identity_map_file: Path | None = Field(
        None, description="JSON map of certificate SAN -> tenant, principal, scopes"
    )
    mtls_default_scopes: str = Field("", description="scopes of a SPIFFE client certificate not in the map")
    security_events_per_second: float = Field(20.0, gt=0, description="refusals written per second at most")
    audit_signing_key_file: Path | None = Field(
        None, description="Ed25519 PEM key that signs audit checkpoints (default: the development key's)"
    )
    audit_retired_public_key_files: str = Field(
        "", description="comma-separated PEM public keys of retired audit keys, still trusted to verify"
    )
    audit_checkpoint_interval_seconds: float | None = Field(
        None, gt=0, description="write a signed audit checkpoint for every changed tenant this often"
    )
    self_approval_tenants: str = Field(
        "", description="comma-separated tenants whose principals may approve their own time and expenses"
    )

    max_concurrent_rpcs: int = Field(1000, ge=0, description="calls in progress at once (0: unlimited)")
    max_streams_per_tenant: int = Field(
        32, ge=0, description="open SubscribeEvents/WatchBillRun streams per tenant (0: unlimited)"
    )
    tenant_mutations_per_second: float = Field(
        2000.0, ge=0, description="mutations per second per tenant (0: unlimited)"
    )
    tenant_mutation_burst: float = Field(4000.0, ge=1, description="mutations a tenant may send at once")
    tenant_reads_per_second: float = Field(
        5000.0, ge=0, description="reads per second per tenant (0: unlimited)"
    )
    tenant_read_burst: float = Field(10000.0, ge=1, description="reads a tenant may send at once")
    principal_mutations_per_second: float = Field(
        1000.0, ge=0, description="mutations per second per principal of a tenant (0: unlimited)"
    )
    principal_mutation_burst: float = Field(
        2000.0, ge=1, description="mutations a principal may send at once"
    )
    principal_reads_per_second: float = Field(
        2500.0, ge=0, description="reads per second per principal of a tenant (0: unlimited)"
    )
    principal_read_burst: float = Field(5000.0, ge=1, description="reads a principal may send at once")
    max_receive_message_bytes: int = Field(4 << 20, ge=1024, description="largest request accepted")
    max_send_message_bytes: int = Field(16 << 20, ge=1024, description="largest reply sent")
    keepalive_time_seconds: float = Field(
        60.0, gt=0, description="ping a connection with open calls after this long without traffic"
    )
    keepalive_timeout_seconds: float = Field(
        20.0, gt=0, description="close a connection whose ping is unanswered"
    )
    min_client_ping_interval_seconds: float = Field(
        10.0, ge=0, description="clients may ping this often at most while no data flows"
    )
    max_ping_strikes: int = Field(2, ge=0, description="too-frequent client pings tolerated before GOAWAY")
    max_connection_idle_seconds: float = Field(
        900.0, ge=0, description="close connections without calls for this long (0: never)"
    )
    max_connection_age_seconds: float = Field(
        0.0, ge=0, description="close connections gracefully after this long, to rebalance (0: never)"
    )
    max_connection_age_grace_seconds: float = Field(
        30.0, ge=0, description="time calls get to finish when their connection reaches its age"
    )

    def server_limits(self) -> ServerLimits:
        """The gateway's limits: rates, stream cap, concurrent calls, transport options."""
        from q2c_core.edge.limits import Rate, RateLimits, ServerLimits
        from q2c_core.edge.server_options import TransportLimits

        rates = RateLimits(
            tenant_mutations=Rate(self.tenant_mutations_per_second, self.tenant_mutation_burst),
            tenant_reads=Rate(self.tenant_reads_per_second, self.tenant_read_burst),
            principal_mutations=Rate(self.principal_mutations_per_second, self.principal_mutation_burst),
            principal_reads=Rate(self.principal_reads_per_second, self.principal_read_burst),
        )
        transport = TransportLimits(
            max_receive_message_bytes=self.max_receive_message_bytes,
            max_send_message_bytes=self.max_send_message_bytes,
            keepalive_time_seconds=self.keepalive_time_seconds,
            keepalive_timeout_seconds=self.keepalive_timeout_seconds,
            min_client_ping_interval_seconds=self.min_client_ping_interval_seconds,
            max_ping_strikes=self.max_ping_strikes,
            max_connection_idle_seconds=self.max_connection_idle_seconds,
            max_connection_age_seconds=self.max_connection_age_seconds,
            max_connection_age_grace_seconds=self.max_connection_age_grace_seconds,
        )
        return ServerLimits(rates, self.max_streams_per_tenant, self.max_concurrent_rpcs, transport)

    def self_approval_policy(self) -> SelfApprovalPolicy:
        """Tenants exempt from separation of duties (none unless listed)."""
        tenants = (tenant.strip() for tenant in self.self_approval_tenants.split(","))
        return SelfApprovalPolicy(frozenset(tenant for tenant in tenants if tenant))

    def bill_run_leases(self) -> LeaseSettings:
        """Bill-run lease length, sweep interval and resumes allowed."""
        return LeaseSettings(
            seconds=self.bill_run_lease_seconds,
            sweep_seconds=self.bill_run_sweep_seconds,
            max_resumes=self.bill_run_max_resumes,
        )

    def delivery_config(self) -> DeliveryConfig:
        """The delivery worker's part of the settings."""
        return DeliveryConfig(
            erp_url=self.erp_url,
            psa_url=self.psa_url,
            max_attempts=self.delivery_max_attempts,
            base_seconds=self.delivery_base_seconds,
            cap_seconds=self.delivery_cap_seconds,
            erp_concurrency=self.erp_concurrency,
            psa_concurrency=self.psa_concurrency,
            timeout_seconds=self.connector_timeout_seconds,
        )


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
