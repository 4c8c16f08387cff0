"""Detection: what is sensitive, and where."""
