"""Tests of the repository itself: docs, packaging, releases, workflows."""
