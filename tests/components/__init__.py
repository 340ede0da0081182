"""Home Assistant-level tests, laid out as Home Assistant core lays out its own."""
