"""Prefect flows: the only package that imports Prefect.

Offline by default: Prefect's client and server telemetry are switched off
here, before Prefect is imported, unless the user has set them.
"""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_UI_ENABLED", "false")
# The ephemeral server's first start runs its migrations: on a busy machine
# that takes longer than Prefect's default wait of 20 s.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
