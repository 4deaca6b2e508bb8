"""Old names of the table mappings, now declared beside the tables (`schema.RowMap`)."""

from q2c_core.adapters.store.schema import AUDIT, EVENTS, Params, utc

to_event = EVENTS.record
to_audit = AUDIT.record

__all__ = ["Params", "to_audit", "to_event", "utc"]
