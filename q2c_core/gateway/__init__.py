"""The gRPC edge: servicers, the call-context interceptor, the error table and server wiring."""
