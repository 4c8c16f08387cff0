"""Evidence and its renderings: proving what a run did."""
