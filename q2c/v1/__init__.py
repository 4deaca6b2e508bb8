"""Generated from protos/q2c/v1; do not edit."""
