"""The wire edge: converters between q2c.v1 protobuf messages and domain values."""
