"""Reusable fakes for tests: real servers on loopback that stand in for the providers."""
