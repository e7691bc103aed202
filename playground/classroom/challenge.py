"""A class challenge: the teacher sets a dataset and a budget (epochs, parameters); students enter runs.

The test set is cut in two: an entry is evaluated during training on the public part only (its first
half: the run's test_limit), which is the score its student sees. The leaderboard ranks each
student's best entry by its accuracy on the hidden part (the second half), which no run ever
evaluates on and no student is shown unless the teacher shows the leaderboard. The hidden score is
worked out once per entry, after its run ended, from its stored weights."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass

from playground import datasets, families
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.wording import plural

SCORED = ("completed", "stopped")  # runs with weights worth scoring (a diverged run scores nothing)


@dataclass(frozen=True)
class Challenge:
    id: int
    title: str
    dataset: str
    max_epochs: int
    max_params: int
    board_shown: bool  # students see the leaderboard
    open: bool  # entries are taken

    @property
    def public_size(self) -> int:
        """Test images of the public part: the first half of the test set."""
        return datasets.info(self.dataset).test_size // 2


def create(store, title: str, dataset: str, max_epochs: int, max_params: int, board_shown: bool = False) -> Challenge:
    """A new challenge, open; the ones before it close."""
    if not title.strip():
        raise PlaygroundError("the challenge needs a title")
    if dataset not in datasets.REGISTRY or datasets.info(dataset).is_toy:
        raise PlaygroundError(f"dataset = {dataset!r} is not allowed for a challenge: use an image dataset")
    if max_epochs < 1 or max_params < 1:
        raise PlaygroundError("the budget must allow at least 1 epoch and 1 parameter")
    store.write("UPDATE challenges SET open=0")
    store.write(
        "INSERT INTO challenges (created, title, dataset, max_epochs, max_params, board_shown, open) VALUES (?, ?, ?, ?, ?, ?, 1)",
        (time.time(), title.strip(), dataset, max_epochs, max_params, int(board_shown)),
    )
    return current(store)


def current(store) -> Challenge | None:
    """The latest challenge (open or closed), or None."""
    return _one(store.query("SELECT * FROM challenges ORDER BY id DESC LIMIT 1"))


def entered_in(store, run_id: int) -> Challenge | None:
    """The (latest) challenge the run is an entry of, or None: a run trained with Train is none."""
    return _one(
        store.query(
            "SELECT c.* FROM challenges c JOIN entries e ON e.challenge_id = c.id WHERE e.run_id=? ORDER BY c.id DESC LIMIT 1", (run_id,)
        )
    )


def _one(rows) -> Challenge | None:
    if not rows:
        return None
    r = rows[0]
    return Challenge(r["id"], r["title"], r["dataset"], r["max_epochs"], r["max_params"], bool(r["board_shown"]), bool(r["open"]))


def update(store, challenge: Challenge, board_shown: bool, is_open: bool) -> None:
    store.write("UPDATE challenges SET board_shown=?, open=? WHERE id=?", (int(board_shown), int(is_open), challenge.id))


def entry_config(challenge: Challenge, config: TrainConfig) -> TrainConfig:
    """The entry of these settings: evaluated on the public part of the test set. PlaygroundError
    for a closed challenge, or naming every rule the settings break (another dataset, past the
    budget) at once, so that one round of changes makes the entry fit."""
    if not challenge.open:
        raise PlaygroundError(f"the challenge {challenge.title!r} is closed: it takes no more entries")
    problems = entry_problems(challenge, config)
    if len(problems) == 1:
        raise PlaygroundError(problems[0])
    if problems:
        raise PlaygroundError(
            f"this entry breaks {len(problems)} of the challenge's rules; change all of them:\n\n" + "\n".join(f"- {p}" for p in problems)
        )
    return as_entry(challenge, config)


def entry_problems(challenge: Challenge, config: TrainConfig) -> list[str]:
    """What keeps the settings from being an entry, each with what to change; [] if nothing."""
    problems = []
    if config.dataset != challenge.dataset:
        problems.append(f"the challenge is on {datasets.info(challenge.dataset).title}: choose it in the sidebar first")
    if config.epochs > challenge.max_epochs:
        problems.append(
            f"this run has {config.epochs} epochs; the challenge's budget is {plural(challenge.max_epochs, 'epoch')}: use fewer epochs"
        )
    params = families.anatomy(config.model, config.input_shape, datasets.info(config.dataset).num_classes).trainable_params
    if params > challenge.max_params:
        problems.append(
            f"this model has {params:,} trainable parameters; the challenge's budget is {challenge.max_params:,}: use a smaller model"
        )
    return problems


def as_entry(challenge: Challenge, config: TrainConfig) -> TrainConfig:
    """config as the challenge trains it (unchecked): evaluated on the public part of the test set."""
    return dataclasses.replace(config, test_limit=challenge.public_size)


def enter(jobs, challenge: Challenge, config: TrainConfig):
    """Queue (or take from the cache) the entry of config for the viewer of `jobs` (access.OwnJobs)."""
    job = jobs.submit(entry_config(challenge, config))
    jobs.manager.store.write(
        "INSERT OR IGNORE INTO entries (challenge_id, run_id, owner, entered) VALUES (?, ?, ?, ?)",
        (challenge.id, job.run_id, jobs.viewer.owner, time.time()),
    )
    return job


def entries(store, challenge: Challenge, owner: str | None = None) -> list[dict]:
    """Every entry (or one student's), newest first: run, owner, status, public and hidden accuracy."""
    sql = (
        "SELECT e.run_id, e.owner, e.entered, e.hidden_accuracy, r.status, r.final FROM entries e JOIN runs r ON r.id = e.run_id "
        "WHERE e.challenge_id=?" + (" AND e.owner=?" if owner is not None else "") + " ORDER BY e.entered DESC"
    )
    args = (challenge.id,) if owner is None else (challenge.id, owner)
    return [
        {
            "run": r["run_id"],
            "owner": r["owner"],
            "status": r["status"],
            "public_accuracy": json.loads(r["final"] or "{}").get("test_accuracy"),
            "hidden_accuracy": r["hidden_accuracy"],
        }
        for r in store.query(sql, args)
    ]


def score_pending(store, challenge: Challenge) -> int:
    """Work out the hidden accuracy of every ended entry that has none yet; how many were scored."""
    from playground import hidden_score

    done = 0
    for entry in entries(store, challenge):
        if entry["hidden_accuracy"] is None and entry["status"] in SCORED:
            run = store.get(entry["run"])
            accuracy = hidden_score.accuracy(run, challenge.public_size)
            if accuracy is not None:
                store.write("UPDATE entries SET hidden_accuracy=? WHERE run_id=?", (accuracy, entry["run"]))
                done += 1
    return done


def leaderboard(store, challenge: Challenge, names: dict[str, str]) -> list[dict]:
    """Each student's best scored entry, best first: rank, student, hidden and public accuracy, run."""
    best: dict[str, dict] = {}
    for e in entries(store, challenge):
        if e["hidden_accuracy"] is None or e["owner"] not in names:
            continue
        if e["owner"] not in best or e["hidden_accuracy"] > best[e["owner"]]["hidden_accuracy"]:
            best[e["owner"]] = e
    ranked = sorted(best.values(), key=lambda e: -e["hidden_accuracy"])
    return [
        {
            "rank": i,
            "student": names[e["owner"]],
            "hidden_accuracy": e["hidden_accuracy"],
            "public_accuracy": e["public_accuracy"],
            "run": e["run"],
        }
        for i, e in enumerate(ranked, 1)
    ]
