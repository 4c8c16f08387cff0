"""Prefect flows: the only package that imports Prefect.

Offline by default: Prefect's client and server telemetry are switched off
here, before Prefect is imported, unless the user has set them.
"""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_UI_ENABLED", "false")
