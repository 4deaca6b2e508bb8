"""Fuzzing: hypothesis properties of the converters and a black-box fuzzer against a real server."""
