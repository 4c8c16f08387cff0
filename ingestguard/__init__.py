"""ingestguard."""
