"""Transforms: what replaces a sensitive value."""
