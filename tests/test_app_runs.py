"""AppTest of the Runs page: the runs table, comparing, deleting, re-opening a run on the Train page
and a toy run on the Toy 2D page."""

import numpy as np
import pandas as pd
import pytest

from playground import jobs
from playground.config import TrainConfig
from playground.ui.history import runs_frame, styled
from playground.ui.toy_link import toy_page_settings
from tests.apptest import app, small, wait_all, wait_for_job

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")

TOY = dict(dataset="circles", model="fc8 tanh", epochs=5, batch_size=16, optimizer="adam", lr=0.03)


def test_runs_page_without_runs_says_where_runs_come_from(home):
    at = app("app_pages/runs.py")
    assert not at.exception and at.title[0].value == "Run history"
    assert at.info[0].value == "No runs yet: train one on the Train page or run a sweep on the Experiments page."


def test_runs_page_compares_reopens_and_deletes(tiny_home):
    # starts on the Experiments page (a sweep makes the runs), ends on the Train page (a run re-opened there)
    at = small(app("app_pages/experiments.py"))
    at.selectbox(key="sweep_param").set_value("batch_size").run()
    at.text_input(key="sweep_values").input("16, 50").run()
    at.button[0].click().run()
    at = wait_all(at)
    at.switch_page("app_pages/runs.py").run()
    assert "2 of 2 runs" in at.caption[0].value
    ids = at.multiselect(key="history_pick").options
    at.multiselect(key="history_pick").set_value([int(i.split()[0][1:]) for i in ids]).run()
    assert not at.exception
    assert "Comparing 2 runs" in at.subheader[0].value and len(at.get("vega_lite_chart")) == 6
    at.text_input(key="history_model").input("conv").run()
    assert "0 of 2 runs" in at.caption[0].value
    at.text_input(key="history_model").input("").run()
    first = jobs.manager().store.list_runs()[-1].id
    at.multiselect(key="history_pick").set_value([first]).run()
    at.checkbox(key="history_confirm").check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert jobs.manager().store.get(first) is None and "1 of 1 run." in at.caption[0].value
    remaining = jobs.manager().store.list_runs()[0].id
    at.multiselect(key="history_pick").set_value([remaining]).run()
    next(b for b in at.button if b.label == "Open in the Train page").click().run()
    assert at.title[0].value == "Train" and at.session_state.run_id == remaining


def test_toy_run_opens_on_the_toy_page(home):
    # starts on the Runs page, ends on the Toy 2D page (the Runs page's button switches there)
    job = wait_for_job(jobs.manager().submit(TrainConfig(**TOY, toy_seed=7, toy_points=200)), 120, "a 5-epoch toy run")
    at = app("app_pages/runs.py")
    at.multiselect(key="history_pick").set_value([job.run_id]).run()
    assert not [b for b in at.button if b.label == "Open in the Train page"]  # no toy settings there
    at.button(key="history_open_toy").click().run()
    assert not at.exception and at.title[0].value == "Toy 2D"
    assert (at.session_state.toy_seed, at.session_state.toy_points, at.session_state.toy_depth, at.session_state.toy_width) == (
        7,
        200,
        1,
        8,
    )
    assert at.session_state.toy_run == job.run_id
    assert at.success and f"run {job.run_id}" in at.success[0].value.lower()  # the Toy page shows this run


def test_toy_link_refuses_a_spec_the_toy_page_cannot_build():
    run = type("R", (), {"id": 5, "config": TrainConfig(**{**TOY, "model": "fc8 relu fc4 relu"})})()
    values, why = toy_page_settings(run)
    assert not values and "differ in width" in why
    run.config = TrainConfig(**{**TOY, "lr": 0.05, "reg": "l1", "reg_rate": 0.02, "toy_features": "x1sq,x2sq"})
    assert (
        toy_page_settings(run)[0] | {"toy_lr": 0.05, "toy_reg": "l1", "toy_reg_rate": 0.02, "toy_features": "x1sq,x2sq"}
        == (toy_page_settings(run)[0])
    )  # a value between the slider's notches, a regularisation and the features open as they are
    run.config = TrainConfig(**{**TOY, "epochs": 600})
    assert "epochs 600 (the page takes a whole number from 1 to 500)" in toy_page_settings(run)[1]
    run.config = TrainConfig(**{**TOY, "model": ""})  # no hidden layer: logistic regression
    assert toy_page_settings(run)[0]["toy_depth"] == 0


def test_tables_show_blanks_not_none_and_toy_data_settings(home):
    manager = jobs.manager()
    done = wait_for_job(manager.submit(TrainConfig(**TOY, toy_seed=3)), 120, "a 5-epoch toy run")
    queued = manager.submit(TrainConfig(**{**TOY, "epochs": 500, "batch_size": 1}))
    queued.stop()  # a run that never started: no accuracy, no params
    wait_for_job(queued, 30, "stopped while queued")
    runs = {r.id: r for r in manager.store.list_runs()}
    df = styled(runs_frame([runs[done.run_id], runs[queued.run_id]]))
    assert "None" not in df.to_string() and "nan" not in df.to_string().lower()
    assert df.loc[0, "params"].strip() == f"{runs[done.run_id].params:,}" and df.loc[1, "params"] == "" and df.loc[1, "test accuracy"] == ""
    assert df.loc[0, "test accuracy"] == f"{runs[done.run_id].final['test_accuracy']:>7.2%}"
    assert "data seed 3" in df.loc[0, "dataset"] and "data seed 0" in df.loc[1, "dataset"]


def test_padded_columns_sort_as_numbers():
    """The Runs table shows accuracy, params and seconds as right-aligned text: sorting the text
    (what a click on the column header does) must give the numeric order, blanks first."""
    frame = pd.DataFrame(
        {
            "test accuracy": [1.0, np.nan, 0.085, 0.975],
            "params": pd.array([1_195_018, None, 7_850, 669_706], dtype="Int64"),
            "seconds": [12.5, np.nan, 3.25, 100.0],
        }
    )  # the dtypes runs_frame gives them
    table = styled(frame)
    assert list(table["test accuracy"]) == ["100.00%", "", "  8.50%", " 97.50%"]
    assert list(table["params"]) == ["    1,195,018", "", "        7,850", "      669,706"]
    for name in ("test accuracy", "params", "seconds"):
        by_text = sorted(range(4), key=lambda i: table[name][i])
        by_number = sorted(range(4), key=lambda i: -1 if pd.isna(frame[name][i]) else frame[name][i])
        assert by_text == by_number, (name, list(table[name]))
