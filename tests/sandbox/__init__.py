"""Tests of the provider sandbox itself."""
