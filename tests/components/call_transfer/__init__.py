"""Tests of the integration through Home Assistant: test_<module>[_<aspect>].py per module."""
