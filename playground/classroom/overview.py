"""The teacher's view of a class: who is active, and the whole class's results for one setting or one
lab step, one row per student run, with outliers marked (Tukey's fences within each value)."""

from __future__ import annotations

import json
import statistics

from playground import datasets
from playground.classroom import roster
from playground.config import TrainConfig
from playground.runs import REUSABLE
from playground.sizes import toy_train_count
from playground.wording import plural

RESULT_STATUSES = (*REUSABLE, "stopped")  # runs that have a test accuracy worth comparing
FENCE = 1.5  # Tukey: below Q1 - 1.5 IQR or above Q3 + 1.5 IQR is an outlier
MIN_GROUP = 4  # fewer runs of one value: no quartiles worth the name, nobody marked


def roster_rows(store) -> list[dict]:
    """Everyone on the roster: name, role, runs held, runs queued or training now, last seen, the lab
    and step they were last on."""
    sql = """
        SELECT p.*,
          (SELECT COUNT(*) FROM holders h WHERE h.owner = 'p' || p.id) AS runs,
          (SELECT COUNT(*) FROM holders h JOIN runs r ON r.id = h.run_id
            WHERE h.owner = 'p' || p.id AND r.status IN ('queued', 'running')) AS training,
          (SELECT lab || char(31) || state FROM lab_progress l WHERE l.owner = 'p' || p.id ORDER BY updated DESC LIMIT 1) AS lab
        FROM people p ORDER BY p.role DESC, p.name"""
    out = []
    for r in store.query(sql):
        lab = None
        if r["lab"]:
            name, state = r["lab"].split("\x1f", 1)
            lab = f"{name}, step {json.loads(state).get('step', 1)}"
        out.append({
            "name": r["name"], "role": r["role"], "runs": r["runs"], "training": r["training"],
            "last_seen": r["last_seen"], "lab": lab, "signs_in_with": "school account" if r["login"] else "join link",
        })  # fmt: skip
    return out


def lab_step_runs(store, lab: str, step: int) -> set[int]:
    """The runs every student started from one step of a lab (quick and full mode)."""
    out: set[int] = set()
    for r in store.query("SELECT state FROM lab_progress WHERE lab=? AND owner != ''", (lab,)):
        for started in json.loads(r["state"]).get("runs", []):
            if int(started.get("step", 0)) == step:
                out.update(int(i) for i in started.get("run_ids", []))
    return out


def results(store, setting: str, dataset: str | None = None, run_ids: set[int] | None = None) -> list[dict]:
    """One row per student run that ended with a test accuracy: the student, the run, the setting's
    value, the accuracy and what it was measured on (the epochs trained, the test examples), with
    `outlier` 'low', 'high' or '' among the runs of its value measured alike. A run two students
    hold (one was served it from the cache) is a row for each: it is in both their results."""
    names = {p.owner: p.name for p in roster.everyone(store) if not p.teacher}
    marks = ",".join("?" * len(RESULT_STATUSES))
    sql = f"SELECT h.owner, r.id, r.config, r.final, r.status FROM holders h JOIN runs r ON r.id = h.run_id WHERE r.status IN ({marks}) ORDER BY r.id"
    rows = []
    for r in store.query(sql, RESULT_STATUSES):
        final, config = json.loads(r["final"] or "{}"), json.loads(r["config"])
        if r["owner"] not in names or final.get("test_accuracy") is None:
            continue
        if (dataset is not None and config.get("dataset") != dataset) or (run_ids is not None and r["id"] not in run_ids):
            continue
        epochs, tested = final.get("epoch"), test_examples(config)
        rows.append({
            "student": names[r["owner"]], "run": r["id"], "dataset": config.get("dataset"),
            "value": epochs if setting == "epochs" else config.get(setting),  # the epochs its accuracy was measured after
            "test_accuracy": final["test_accuracy"], "epochs": epochs, "test_examples": tested, "status": r["status"],
            "model": config.get("model"), "training_images": config.get("train_limit") or "all",  # what else may differ: shown, not grouped
            "measured_on": measured_on(None if setting == "epochs" else epochs, tested, config.get("dataset")),
        })  # fmt: skip
    return mark_outliers(rows)


def test_examples(config: dict) -> int | None:
    """How many test images (points) a stored config's run was evaluated on: all, or its test_limit."""
    c = TrainConfig.stored(config)
    if c.dataset not in datasets.REGISTRY:
        return c.test_limit or None
    info = datasets.info(c.dataset)
    total = c.toy_points - toy_train_count(c.toy_points, c.toy_train_share) if info.is_toy else info.test_size
    return min(c.test_limit, total) if c.test_limit else total


def measured_on(epochs: int | None, tested: int | None, dataset: str | None) -> str:
    """What a test accuracy was measured on, so that only like numbers are compared: 'after 2 epochs,
    on all 10,000 test images' ('on the first 5,000 test images' for a test limit; no epochs: the
    setting compared is the epochs)."""
    info = datasets.info(dataset) if dataset in datasets.REGISTRY else None
    noun = "test point" if info is not None and info.is_toy else "test image"
    if tested is None:
        on = f"on {noun}s of an unknown number"
    elif info is not None and not info.is_toy and tested < info.test_size:
        on = f"on the first {plural(tested, noun)}"
    else:
        on = f"on all {plural(tested, noun)}"
    return on if epochs is None else f"after {plural(epochs, 'epoch')}, {on}"


def mark_outliers(rows: list[dict]) -> list[dict]:
    """Each row's `outlier`: 'low' or 'high' outside Tukey's fences of the accuracies of the rows of
    its value measured alike (its `measured_on`, when the rows have one)."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        groups.setdefault(_group(row), []).append(row["test_accuracy"])
    fences = {}
    for group, accuracies in groups.items():
        if len(accuracies) >= MIN_GROUP:
            q1, _, q3 = statistics.quantiles(accuracies, n=4, method="inclusive")
            fences[group] = (q1 - FENCE * (q3 - q1), q3 + FENCE * (q3 - q1))
    for row in rows:
        low, high = fences.get(_group(row), (float("-inf"), float("inf")))
        row["outlier"] = "low" if row["test_accuracy"] < low else "high" if row["test_accuracy"] > high else ""
    return rows


def _group(row: dict) -> str:
    return repr((row.get("measured_on"), row["value"]))


def comparable(rows: list[dict]) -> dict[str, list[dict]]:
    """The rows by what they were measured on (`measured_on`), the largest group first: only the
    numbers of one group compare (2 epochs against 5, or a test limit against the whole test set, do not)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["measured_on"], []).append(row)
    return dict(sorted(groups.items(), key=lambda g: -len(g[1])))


def wipe(store, dry_run: bool = False) -> dict[str, int]:
    """Delete the class: every run (curves included), sweep, lab progress record and person. The
    counts of what goes (or would go)."""
    tables = ("runs", "sweeps", "lab_progress", "people")
    counts = {t: store.query(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in tables}
    if not dry_run:
        for table in tables:
            store.write(f"DELETE FROM {table}")
    return counts
