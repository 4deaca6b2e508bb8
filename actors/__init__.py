"""Ray layer: engagement shard actors and the RayRuntime that routes commands to them."""
