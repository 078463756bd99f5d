"""Shared fixtures. Integration tests (marked ``integration``) share one testbed per session."""
