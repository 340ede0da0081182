"""Reliability: the findings of issue 12, faults, fuzzing, load and lifecycle."""
