"""Every shipped lab runs end to end in quick mode, headless (`lab run NAME --quick --json`), on a
tiny Fashion-MNIST written by the tests, and fills every deliverable; then it exports."""

from __future__ import annotations

import json

import pytest

from playground.cli import main
from playground.labs import format
from tests.conftest import write_tiny_fashion


@pytest.fixture
def lab_home(home):
    """1,000 training and 300 test images: quick mode's batch of 1,000 (CIFAR-10's batch sizes) fits."""
    write_tiny_fashion(home / "data" / "FashionMNIST" / "raw", n_train=1000, n_test=300)
    return home


def run_lab(capsys, name: str) -> dict:
    assert main(["lab", "run", name, "--quick", "--json", "--quiet"]) == 0
    return json.loads(capsys.readouterr().out)


def empty_cells(table: dict) -> list:
    return [(i, k) for i, row in enumerate(table["rows"]) for k, v in row.items() if v is None or str(v).strip() == ""]


@pytest.mark.parametrize("name", sorted(format.paths()))
def test_every_lab_runs_end_to_end_in_quick_mode(lab_home, capsys, no_leftover_jobs, name):
    out = run_lab(capsys, name)
    lab = format.find(name)
    assert out["quick"] is True and len(out["steps"]) == len(lab.steps)
    for step, filled in zip(lab.steps, out["steps"]):
        where = f"{name} step {step.index} ({step.do})"
        assert not filled["training"], where
        for t in filled["tables"]:
            assert t["rows"] and not empty_cells(t), (where, t["title"], empty_cells(t))
        if step.do in ("train", "sweep"):
            assert filled["run_ids"] and filled["tables"], where
            assert all(c["points"] for c in filled["charts"]) and len(filled["charts"]) == len(step.show), where
        elif step.do == "read":
            assert step.prompt, where
        else:
            assert filled["tables"], where
        if step.do == "samples":
            assert len(filled["images"]) == step.count and any("a batch of" in f for f in filled["facts"]), where
        if step.do == "backprop":
            assert all(r["autograd agrees"] == "yes" for t in filled["tables"][:2] for r in t["rows"]), where


def test_a_lab_run_again_comes_from_the_cache_and_keeps_the_answers(lab_home, capsys, no_leftover_jobs):
    from playground import jobs
    from playground.labs import progress

    first = run_lab(capsys, "conv-arithmetic")
    store = jobs.manager().store
    p = progress.load(store, "conv-arithmetic")
    p.answer(2, "the last pixels are never covered")
    p.quick = False  # the student's own mode on the page
    progress.save(store, p)
    again = run_lab(capsys, "conv-arithmetic")
    assert again["steps"][1]["answer"] == "the last pixels are never covered"
    assert progress.load(store, "conv-arithmetic").quick is False  # a headless quick run leaves the page's mode alone
    assert [s["tables"] for s in again["steps"]] == [s["tables"] for s in first["steps"]]


def test_lab_cli_bad_input_is_one_line_and_exit_2(lab_home, capsys):
    assert main(["lab", "run", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no lab named 'nope': choose one of") and err.count("\n") == 1
    assert main(["lab", "list"]) == 0
    assert "fashion-mnist" in capsys.readouterr().out
