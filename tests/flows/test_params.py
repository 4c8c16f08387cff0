"""Flow parameters: pydantic models of paths and settings, validated by the
flow itself with one line that names the field and never quotes the value."""

from __future__ import annotations

import pytest

from ingestguard.errors import InputError
from ingestguard.flows.protect import Execution, ProtectRequest, _parse


@pytest.mark.parametrize(
    ("model", "value", "field"),
    [
        (Execution, {"workers": "jane.doe@example.com"}, "workers"),
        (Execution, {"timeout_seconds": -1}, "timeout_seconds"),
        (
            ProtectRequest,
            {"input_path": "in", "output_path": "out", "api_key": "sk-live-0123456789"},
            "api_key",
        ),
        (ProtectRequest, {"input_path": "in"}, "output_path"),
    ],
)
def test_a_bad_parameter_names_the_field_not_the_value(model, value, field) -> None:
    with pytest.raises(InputError) as info:
        _parse(model, value)
    message = str(info.value)
    assert message.startswith(f"bad flow parameter '{field}'") and "\n" not in message
    assert not [v for v in value.values() if isinstance(v, str) and len(v) > 3 and v in message]


def test_parameters_come_as_models_or_as_the_json_a_deployment_sends() -> None:
    as_json = {"input_path": "/data/in", "output_path": "/data/out"}
    assert _parse(ProtectRequest, as_json) == ProtectRequest(input_path="/data/in", output_path="/data/out")
    assert _parse(Execution, None) == Execution()
    schema = ProtectRequest.model_json_schema()  # what the Prefect UI builds its form from
    assert schema["required"] == ["input_path", "output_path"]
    fields = {"workers", "dask_address", "timeout_seconds", "part_rows"}
    assert set(Execution.model_json_schema()["properties"]) == fields


def test_only_io_errors_are_retried() -> None:
    from prefect.states import Failed

    from ingestguard.errors import InputError, PolicyViolation, ScanError
    from ingestguard.flows.protect import _io_error, protect_task

    assert _io_error(None, None, Failed(data=OSError(5, "Input/output error", "/data/x.parquet")))
    for error in (
        ScanError("x did not finish within 5 s"),
        InputError("input has zero rows"),
        PolicyViolation("x"),
    ):
        assert not _io_error(None, None, Failed(data=error))
    assert protect_task.retries == 2 and protect_task.retry_condition_fn is _io_error


def test_heartbeats_go_only_to_a_real_server() -> None:
    """The CLI's temporary server dies with the process: heartbeats to it detect nothing."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from ingestguard.flows.protect import heartbeats_only_to_a_real_server

    with temporary_settings(updates={PREFECT_API_URL: None}), heartbeats_only_to_a_real_server():
        assert get_current_settings().flows.heartbeat_frequency is None
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        default = get_current_settings().flows.heartbeat_frequency
        with heartbeats_only_to_a_real_server():
            assert get_current_settings().flows.heartbeat_frequency == default >= 30


def test_a_file_is_divided_only_when_larger_than_a_worker_s_share(monkeypatch) -> None:
    """Equal files keep the workers busy side by side: dividing them would only add merges."""
    import logging

    from ingestguard.flows import protect as flow
    from ingestguard.io import BATCH_ROWS
    from ingestguard.stages import FileJob

    monkeypatch.setattr(flow, "get_run_logger", lambda: logging.getLogger("test"))

    class Runner:
        def submit(self, task, parameters):
            part = parameters.get("part")
            return (task.name, (part.start, part.stop) if part else None)

    def submitted(batches: list[int], execution: Execution, size: int | None = BATCH_ROWS) -> list[object]:
        plans = [
            {"rows": n * BATCH_ROWS, "divisible": True, "part_rows": size, "input_sha256": "0" * 64}
            for n in batches
        ]
        share = flow._worker_share(Runner(), plans, execution)
        jobs = [{"job": FileJob(f"/in/{i}", f"/out/{i}", None, "/state")} for i in range(len(plans))]
        return [
            flow._submit_protect(Runner(), a, p, execution, share) for a, p in zip(jobs, plans, strict=True)
        ]

    two = Execution(workers=2)
    assert submitted([2, 2], two) == [("protect", None), ("protect", None)]
    small, large = submitted([1, 3], two)  # 4 batches in all, 2 per worker: the 3-batch file is divided
    assert small == ("protect", None)
    assert large.parts == [("protect-part", (b * BATCH_ROWS, (b + 1) * BATCH_ROWS)) for b in range(3)]
    assert submitted([3], Execution(workers=1)) == [("protect", None)]  # one worker: nothing to share
    [forced] = submitted([2, 2], Execution(workers=2, part_rows=BATCH_ROWS))[:1]
    assert len(forced.parts) == 2  # --part-rows divides every file larger than it
    # a file without free text (no default part size) stays whole unless --part-rows asks
    assert submitted([1, 3], two, size=None) == [("protect", None), ("protect", None)]
    [asked] = submitted([1, 3], Execution(workers=2, part_rows=BATCH_ROWS), size=None)[1:]
    assert len(asked.parts) == 3
