"""What one person sees of the run store and the job manager: the pages and the load test go
through these, never the store itself.

A student sees, stops, reopens and deletes only the runs they hold (RunStore.holders): those they
trained, and those of the same settings served to them from the cache, which are theirs without a
word of whose they were. Asking for another run's id gives nothing: None, an empty curve. The
teacher (and the one user of a laptop) sees everything and may stop or delete any run. Every check
is made here, on the server, not by hiding a button."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.classroom import config as class_config
from playground.classroom import limits

if TYPE_CHECKING:
    from playground.config import TrainConfig
    from playground.events import Event
    from playground.jobs import FinderJob, Job, JobManager
    from playground.runs import Run, RunStore


@dataclass(frozen=True)
class Viewer:
    owner: str = ""  # the key their runs are stored under ('' on a laptop)
    name: str = ""  # shown in the sidebar in class mode
    teacher: bool = True  # sees, stops and deletes every run (the laptop's one user too)


LAPTOP = Viewer()


class OwnStore:
    """The run store as one viewer sees it."""

    def __init__(self, store: RunStore, viewer: Viewer):
        self.store, self.viewer = store, viewer
        self.path = store.path

    def sees(self, run_id: int | None) -> bool:
        if run_id is None:
            return False
        return self.viewer.teacher or self.store.holds(self.viewer.owner, run_id)

    def get(self, run_id: int) -> Run | None:
        return self.store.get(run_id) if self.sees(run_id) else None

    def list_runs(self, limit: int = 100) -> list[Run]:
        return self.store.list_runs(limit, owner=None if self.viewer.teacher else self.viewer.owner)

    def find_reusable(self, config: TrainConfig) -> Run | None:
        """The viewer's finished run of these settings (a run only someone else holds stays unseen
        until they ask for it: JobManager.submit then puts it in their list)."""
        run = self.store.find_reusable(config)
        return run if run is not None and self.sees(run.id) else None

    def delete(self, run_id: int) -> bool:
        """The teacher deletes the run; a student takes it out of their own list (it goes once nobody
        holds it). False if the viewer cannot see it."""
        if not self.sees(run_id):
            return False
        if self.viewer.teacher:
            self.store.delete(run_id)
        else:
            self.store.release(run_id, self.viewer.owner)
        return True

    # a run's curves and pictures: nothing of a run the viewer cannot see
    def steps(self, run_id: int) -> list[dict]:
        return self.store.steps(run_id) if self.sees(run_id) else []

    def step_columns(self, run_id: int):
        from playground import step_chunks

        return self.store.step_columns(run_id) if self.sees(run_id) else step_chunks.empty()

    def step_count(self, run_id: int) -> int:
        return self.store.step_count(run_id) if self.sees(run_id) else 0

    def epochs(self, run_id: int) -> list[dict]:
        return self.store.epochs(run_id) if self.sees(run_id) else []

    def layer_stats(self, run_id: int) -> list[dict]:
        return self.store.layer_stats(run_id) if self.sees(run_id) else []

    def first_loss(self, run_id: int) -> float | None:
        return self.store.first_loss(run_id) if self.sees(run_id) else None

    def snapshots(self, run_id: int) -> list:
        return self.store.snapshots(run_id) if self.sees(run_id) else []

    def snapshot_ends(self, run_id: int) -> list:
        return self.store.snapshot_ends(run_id) if self.sees(run_id) else []

    def network(self, run_id: int):
        return self.store.network(run_id) if self.sees(run_id) else None

    # sweeps and lab progress: the viewer's own
    def create_sweep(self, setting: str, base: TrainConfig, members: list[dict]) -> int:
        return self.store.create_sweep(setting, base, members, owner=self.viewer.owner)

    def list_sweeps(self, limit: int = 50) -> list[dict]:
        return self.store.list_sweeps(limit, owner=None if self.viewer.teacher else self.viewer.owner)

    def get_sweep(self, sweep_id: int) -> dict | None:
        sweep = self.store.get_sweep(sweep_id)
        return sweep if sweep is not None and (self.viewer.teacher or sweep["owner"] == self.viewer.owner) else None

    def lab_progress(self, lab: str, owner: str = "") -> dict | None:
        return self.store.lab_progress(lab, self.viewer.owner)

    def save_lab_progress(self, lab: str, state: dict, owner: str = "") -> None:
        self.store.save_lab_progress(lab, state, self.viewer.owner)


class OwnJobs:
    """The job manager as one viewer sees it: their submissions carry their owner key (the fair queue
    takes owners in turn) and, for a student in class mode, the class's limits."""

    def __init__(self, manager: JobManager, viewer: Viewer):
        self.manager, self.viewer = manager, viewer
        self.store = OwnStore(manager.store, viewer)
        self.executor = manager.executor

    def _limited(self) -> class_config.ClassConfig | None:
        """The class's limits where they apply: a student in class mode."""
        return None if self.viewer.teacher else class_config.current()

    def _queued(self) -> int:
        return sum(1 for j in self.manager.active() if j.owner == self.viewer.owner)

    def submit(self, config: TrainConfig, on_event: Callable[[Event], None] | None = None) -> Job:
        if (
            (rules := self._limited()) is not None
            and self.manager.unfinished(config) is None
            and self.manager.store.find_reusable(config) is None
        ):
            limits.check_size(config, rules)
            limits.check_queue(self._queued(), 1, rules)
        return self.manager.submit(config, on_event, owner=self.viewer.owner)

    def submit_group(self, configs: list[TrainConfig], on_event: Callable[[int, Event], None] | None = None) -> list[Job]:
        if (rules := self._limited()) is not None:
            fresh = [c for c in configs if self.manager.unfinished(c) is None and self.manager.store.find_reusable(c) is None]
            for config in fresh:
                limits.check_size(config, rules)
            limits.check_queue(self._queued(), len(fresh), rules)
        return self.manager.submit_group(configs, on_event, owner=self.viewer.owner)

    def find_lr(self, config: TrainConfig, *args, **kw) -> FinderJob:
        if (rules := self._limited()) is not None:
            limits.check_size(config, rules)
        return self.manager.find_lr(config, *args, **kw, owner=self.viewer.owner)

    def unfinished(self, config: TrainConfig) -> Job | None:
        job = self.manager.unfinished(config)
        return job if job is not None and self.store.sees(job.run_id) else None

    def job(self, run_id: int) -> Job | None:
        return self.manager.job(run_id) if self.store.sees(run_id) else None

    def active(self) -> list[Job]:
        return [j for j in self.manager.active() if self.store.sees(j.run_id)]

    def finder(self, key: tuple) -> FinderJob | None:
        job = self.manager.finder(key)
        return job if job is not None and (self.viewer.teacher or job.owner == self.viewer.owner) else None

    def active_finders(self) -> list[FinderJob]:
        return [j for j in self.manager.active_finders() if self.viewer.teacher or j.owner == self.viewer.owner]

    def ahead(self, job: FinderJob) -> int:
        return self.manager.ahead(job)

    def stop(self, job: Job | None) -> None:
        """Stop a run for the viewer. A run others hold too (the same settings asked for by two
        students) goes on for them: it only leaves this student's list. The teacher's stop of a
        student's run says so in the run's message ('stopped by the teacher (Tess) at step 40')."""
        if job is None or job.done:
            return
        if job.run_id is None:  # a finder
            if self.viewer.teacher or job.owner == self.viewer.owner:
                job.stop(self._by([job.owner]))
            return
        if not self.store.sees(job.run_id):
            return
        others = [o for o in self.manager.store.holders(job.run_id) if o != self.viewer.owner]
        if self.viewer.teacher or not others:
            job.stop(self._by(others))
        else:
            self.manager.store.release(job.run_id, self.viewer.owner)

    def _by(self, owners: list[str]) -> str:
        """Who the run's message names as stopping it: the teacher, in class mode, when the run is
        someone else's ('the teacher (Tess)'); '' (the run's own user) otherwise."""
        if not (self.viewer.owner and self.viewer.teacher) or all(o == self.viewer.owner for o in owners):
            return ""
        return f"the teacher ({self.viewer.name})" if self.viewer.name else "the teacher"
