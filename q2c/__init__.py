"""Generated protobuf / gRPC code for q2c; do not edit."""
