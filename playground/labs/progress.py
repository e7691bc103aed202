"""Where a student is in a lab: the step they were on, quick or full mode, the runs each step
started and the answers they typed. Kept in the run store, so leaving the page, closing the
browser or restarting the app loses none of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.labs.deliver import Started
from playground.runs import RunStore

MAX_ANSWER = 5000  # characters of one answer kept


@dataclass
class Progress:
    lab: str
    step: int = 1  # 1-based, the step on screen
    quick: bool = True  # the offline quick mode first: a student sees every step filled in minutes
    answers: dict[int, str] = field(default_factory=dict)  # step -> what they typed
    runs: dict[tuple[int, bool], Started] = field(default_factory=dict)  # (step, quick) -> what it started

    def runs_of(self, step: int, quick: bool | None = None) -> Started | None:
        """What step started in quick or full mode (default: the mode now chosen; the two are kept apart)."""
        return self.runs.get((step, self.quick if quick is None else quick))

    def set_runs(self, step: int, started: Started, quick: bool | None = None) -> None:
        self.runs[(step, self.quick if quick is None else quick)] = started

    def answer(self, step: int, text: str) -> None:
        self.answers[step] = text[:MAX_ANSWER]

    def to_dict(self) -> dict:
        return {
            "step": self.step,
            "quick": self.quick,
            "answers": {str(k): v for k, v in self.answers.items()},
            "runs": [{"step": k, "quick": q, **v.to_dict()} for (k, q), v in self.runs.items()],
        }

    @classmethod
    def from_dict(cls, lab: str, d: dict) -> Progress:
        return cls(
            lab,
            int(d.get("step", 1)),
            bool(d.get("quick", True)),
            {int(k): str(v) for k, v in d.get("answers", {}).items()},
            {(int(r["step"]), bool(r["quick"])): Started.from_dict(r) for r in d.get("runs", [])},
        )


def load(store: RunStore, lab: str, owner: str = "") -> Progress:
    d = store.lab_progress(lab, owner)
    return Progress(lab) if d is None else Progress.from_dict(lab, d)


def save(store: RunStore, p: Progress, owner: str = "") -> None:
    store.save_lab_progress(p.lab, p.to_dict(), owner)
