"""`ingestguard serve`: the protect flow as a deployment this process serves.

Two ways to start runs: a schedule (cron or interval) that guards a folder,
and an event trigger that guards each new file as it lands: whoever writes the
file emits `ingestguard.file.arrived` with the file's path as the resource's
`ingestguard.path` (e.g. `prefect event emit`), and a run protects that one
file into the output folder. Already protected files are skipped by the
completion records, so a scheduled run over a folder only does what is new.
"""

from __future__ import annotations

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.events import DeploymentEventTrigger

from ingestguard.flows.protect import Execution, ProtectRequest, protect_dataset

FILE_EVENT = "ingestguard.file.arrived"
PATH_LABEL = "ingestguard.path"


def file_trigger(request: ProtectRequest, execution: Execution) -> DeploymentEventTrigger:
    """A run per arrival event: the event's file into the request's output folder."""
    per_file = request.model_dump() | {
        "input_path": f'{{{{ event.resource["{PATH_LABEL}"] }}}}',
        "output_path": request.output_path.rstrip("/") + "/",
    }
    return DeploymentEventTrigger(
        name="ingestguard-new-file",
        expect={FILE_EVENT},
        match={PATH_LABEL: "*"},
        parameters={"request": per_file, "execution": execution.model_dump()},
    )


def deployment(
    name: str,
    request: ProtectRequest,
    execution: Execution,
    cron: str | None = None,
    interval: float | None = None,
    on_file_event: bool = False,
) -> RunnerDeployment:
    """The deployment: the folder on a schedule, and/or a run per new file."""
    return protect_dataset.to_deployment(
        name=name,
        cron=cron,
        interval=interval,
        parameters={"request": request.model_dump(), "execution": execution.model_dump()},
        triggers=[file_trigger(request, execution)] if on_file_event else None,
        description="Protect datasets before training reads them; fails on a policy violation.",
        tags=["ingestguard"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def serve(deployment_: RunnerDeployment) -> None:
    """Register the deployment and run its flow runs here until interrupted."""
    from prefect import serve as prefect_serve

    prefect_serve(deployment_)
