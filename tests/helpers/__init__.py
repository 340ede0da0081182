"""What the tests share: fixtures (registered as plugins by tests/conftest.py) and helpers."""
