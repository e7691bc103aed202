"""AppTest of the Experiments page: small real sweeps on the tiny Fashion-MNIST, and the sweep settings."""

import pytest

from playground import jobs
from tests.apptest import app, small, wait_all

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")


def test_a_small_lr_sweep(tiny_home):
    at = small(app("app_pages/experiments.py"))
    assert at.title[0].value == "Experiments"
    at.text_input(key="sweep_values").input("1, 0.1").run()
    assert "2 runs: 2 values x 1 seed; 0 already trained" in " ".join(c.value for c in at.caption)
    at.button[0].click().run()  # Run the sweep
    assert not at.exception
    at = wait_all(at)
    table = at.dataframe[0].value
    assert list(table["learning rate"]) == ["1", "0.1"] and set(table["status"]) == {"completed"}
    store = jobs.manager().store
    runs = {r.config.lr: r for r in store.list_runs()}
    assert sorted(runs) == [0.1, 1.0]
    for lr, row in zip((1.0, 0.1), table.itertuples(index=False)):  # each row: its run's final accuracy, the first epoch at 90%
        run = runs[lr]
        accuracies = [e["test_accuracy"] for e in store.epochs(run.id)]
        assert len(accuracies) == 2 and row[table.columns.get_loc("test accuracy")] == f"{run.final['test_accuracy']:.2%}"
        first = next((str(e) for e, a in enumerate(accuracies, 1) if a >= 0.9), "not reached")
        assert row[table.columns.get_loc("epoch reaching 90%")] == first, (lr, accuracies)
    assert len(at.get("vega_lite_chart")) == 6  # test/train accuracy, test/train loss, step loss, gradient
    assert len(at.get("download_button")) == 2
    assert "2 already trained come from the cache" in " ".join(c.value for c in at.caption)


def test_sweep_settings_follow_the_setting_and_explain_errors(tiny_home):
    at = app("app_pages/experiments.py")
    at.selectbox(key="sweep_param").set_value("model").run()
    assert at.text_input(key="sweep_values").value == "base; deeper; wider"
    at.text_input(key="sweep_values").input("base; fc8 conv4").run()
    assert "put them before the fc layers" in at.error[0].value
    assert next(b for b in at.button if b.label == "Run the sweep").disabled  # kept in place, off until the values are fixed
    at.selectbox(key="sweep_param").set_value("lr").run()
    at.text_input(key="sweep_values").input("1, abc").run()  # the playground's words, not Python's
    assert at.error[0].value == "learning rate value 'abc' is not a number: type numbers separated by ',', e.g. 1, 0.1, 0.01, 0.001"


def test_a_model_sweep_shows_each_models_layers(tiny_home):
    at = small(app("app_pages/experiments.py"))
    at.selectbox(key="sweep_param").set_value("model").run()
    at.text_input(key="sweep_values").input("linear; base").run()
    next(b for b in at.button if b.label == "Run the sweep").click().run()
    at = wait_all(at)
    assert not at.exception
    assert list(at.dataframe[0].value["model"]) == ["linear (no hidden layers)", "base (fc512 relu fc512 relu)"]
    assert "base (fc512 relu fc512 relu)" in at.selectbox(key="sweep_id").format_func(at.selectbox(key="sweep_id").value)
