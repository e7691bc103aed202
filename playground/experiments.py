"""Running a sweep through the job manager and reading it back from the run store.

The members are queued one after another on the same worker as every other run; members that
already finished (in an earlier sweep, or trained alone) come from the cache at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playground import datasets, sweep_summary, sweeps
from playground.config import TrainConfig
from playground.events import Event
from playground.jobs import Job, JobManager
from playground.runs import RunStore


@dataclass
class SweepRun:
    id: int
    setting: str
    base: TrainConfig
    members: list[dict]  # {label, value, seed, run_id}

    @property
    def run_ids(self) -> list[int]:
        return [m["run_id"] for m in self.members]

    @property
    def seeds(self) -> list[int]:
        return sorted({m["seed"] for m in self.members})


def start(
    manager: JobManager,
    base: TrainConfig,
    setting: str,
    values: list,
    seeds: list[int] | None = None,
    on_event: Callable[[int, Event], None] | None = None,
) -> tuple[SweepRun, list[Job]]:
    """Queue every member (or take it from the cache) and record the sweep; on_event(i, event)
    hears member i's training events."""
    twins = sweeps.members(base, setting, values, seeds)
    jobs = manager.submit_group([m.config for m in twins], on_event)  # twins of one architecture train together
    records = [{"label": m.label, "value": m.value, "seed": m.seed, "run_id": j.run_id} for m, j in zip(twins, jobs)]
    sweep_id = manager.store.create_sweep(setting, base, records)
    return SweepRun(sweep_id, setting, base, records), jobs


def load(store: RunStore, sweep_id: int) -> SweepRun | None:
    d = store.get_sweep(sweep_id)
    return SweepRun(d["id"], d["setting"], d["base"], d["members"]) if d else None


def outcomes(store: RunStore, sweep: SweepRun) -> list[sweep_summary.Outcome]:
    """What the store holds about each member now (runs deleted since are left out)."""
    out = []
    for m in sweep.members:
        run = store.get(m["run_id"])
        if run is None:
            continue
        member = sweeps.Member(m["value"], m["label"], m["seed"], run.config)
        out.append(sweep_summary.Outcome(member, run.id, run.status, run.params, store.epochs(run.id), store.first_loss(run.id)))
    return out


def num_classes(sweep: SweepRun) -> int:
    return datasets.info(sweep.base.dataset).num_classes
