"""q2c core library: domain, store, host, runtime, api mapping and gateway (never imports ray)."""
