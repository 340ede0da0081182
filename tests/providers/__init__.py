"""Contract tests of the provider clients against the sandbox."""
