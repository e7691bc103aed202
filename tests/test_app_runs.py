"""AppTest of the Runs page: the runs table and re-opening a toy run on the Toy 2D page."""

import time

from streamlit.testing.v1 import AppTest

from playground import jobs
from playground.config import TrainConfig
from playground.ui.history import runs_frame, styled
from playground.ui.toy_link import toy_page_settings

TOY = dict(dataset="circles", model="fc8 tanh", epochs=5, batch_size=16, optimizer="adam", lr=0.03)


def runs_page() -> AppTest:
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60).run()
    return at.switch_page("app_pages/runs.py").run()


def test_toy_run_opens_on_the_toy_page(home):
    job = jobs.manager().submit(TrainConfig(**TOY, toy_seed=7, toy_points=200))
    assert job.wait(120)
    at = runs_page()
    at.multiselect(key="history_pick").set_value([job.run_id]).run()
    assert not [b for b in at.button if b.label == "Open in the Train page"]  # no toy settings there
    at.button(key="history_open_toy").click().run()
    assert not at.exception
    assert (at.session_state.toy_seed, at.session_state.toy_points, at.session_state.toy_depth, at.session_state.toy_width) == (7, 200, 1, 8)
    assert at.session_state.toy_run == job.run_id
    assert at.success and f"run {job.run_id}" in at.success[0].value.lower()  # the Toy page shows this run


def test_toy_link_refuses_a_spec_the_toy_page_cannot_build():
    run = type("R", (), {"id": 5, "config": TrainConfig(**{**TOY, "model": "fc8 relu fc4 relu"})})()
    values, why = toy_page_settings(run)
    assert not values and "differ in width" in why
    run.config = TrainConfig(**{**TOY, "lr": 0.05})
    assert "learning rate 0.05" in toy_page_settings(run)[1]
    run.config = TrainConfig(**{**TOY, "model": ""})  # no hidden layer: logistic regression
    assert toy_page_settings(run)[0]["toy_depth"] == 0


def test_tables_show_blanks_not_none_and_toy_data_settings(home):
    manager = jobs.manager()
    done = manager.submit(TrainConfig(**TOY, toy_seed=3))
    assert done.wait(120)
    queued = manager.submit(TrainConfig(**{**TOY, "epochs": 500, "batch_size": 1}))
    queued.stop()  # a run that never started: no accuracy, no params
    assert queued.wait(30)
    runs = {r.id: r for r in manager.store.list_runs()}
    df = styled(runs_frame([runs[done.run_id], runs[queued.run_id]]))
    assert "None" not in df.to_string() and "nan" not in df.to_string().lower()
    assert df.loc[0, "params"].strip() == f"{runs[done.run_id].params:,}" and df.loc[1, "params"] == "" and df.loc[1, "test accuracy"] == ""
    assert df.loc[0, "test accuracy"].strip().endswith("%")
    assert "data seed 3" in df.loc[0, "dataset"] and "data seed 0" in df.loc[1, "dataset"]
    assert sorted(["  8.50%", " 97.50%", "100.00%"]) == ["  8.50%", " 97.50%", "100.00%"]  # padded text sorts as numbers
