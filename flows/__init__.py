"""Prefect flows: the only place that imports Prefect."""
