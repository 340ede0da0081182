"""Tests for the Call Transfer integration, its provider clients and the sandbox."""
