"""Browser tests: a new user's first steps in a real Home Assistant frontend."""
