"""The audit ledger: signed checkpoints, their verification and resume tokens."""
