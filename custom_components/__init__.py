"""Custom integrations (a package so tests import this repository's copy first)."""
