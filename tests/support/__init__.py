"""Helpers tests (and benchmarks) share: corpus paths and routes, misbehaving servers, fake DNS, ports."""
