"""One Prefect server for every test in tests/flows that asks for it."""

from tests.flows.prefect_server import prefect_api  # noqa: F401 (a fixture)
