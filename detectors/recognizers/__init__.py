"""Recognizers, one module per family, and the explicit table that names them."""
