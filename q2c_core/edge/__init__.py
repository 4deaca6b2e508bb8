"""The gRPC edge: servicers, interceptors, authentication, converters and the error table."""
