"""AppTest of the Train page (the default page): the form, the model builder, share links, live runs,
Stop, the cache, queued runs. The real (tiny) runs train on the tiny Fashion-MNIST."""

import pytest

from playground import jobs
from playground.config import TrainConfig
from playground.events import EpochEvent, StartEvent
from tests.apptest import app, wait_for_job, wait_for_run, wait_until

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")


def test_train_page_trains_live_and_then_serves_the_cache(tiny_home):
    at = app()
    assert at.title[0].value == "Train"  # the default page
    assert "669,706" in " ".join(c.value for c in at.caption)  # the base preset's parameter count
    at.number_input(key="epochs").set_value(2).run()
    at.select_slider(key="batch_size").set_value(16).run()
    at.button[0].click().run()
    assert not at.exception
    run_id = at.session_state.run_id
    at = wait_for_run(at)
    assert any("Completed" in s.value for s in at.success)
    run = jobs.manager().store.get(run_id)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trainable parameters"] == "669,706" and metrics["Test accuracy"] == f"{run.final['test_accuracy']:.2%}"
    assert len(at.get("vega_lite_chart")) >= 5  # loss/step, accuracy, loss/epoch, two gradient curves
    assert run.status == "completed" and run.config.epochs == 2 and run.config.batch_size == 16

    at.button[0].click().run()  # the same configuration again
    assert at.session_state.run_id == run_id and at.session_state.cached_run == run_id
    assert any("Served from the cache" in s.value for s in at.success)


def test_builder_and_spec_text_stay_in_sync(tiny_home):
    at = app()
    at.number_input(key="b_nfc").set_value(1).run()
    at.number_input(key="b_fc0_n").set_value(64).run()
    assert at.text_input(key="spec_text").value == "fc64 relu" and at.selectbox(key="preset").value == "(custom)"
    assert "50,890" in " ".join(c.value for c in at.caption)  # (784 + 1)*64 + (64 + 1)*10
    at.text_input(key="spec_text").input("conv8 relu pool2 fc32 relu drop0.5").run()
    assert at.text_input(key="spec_text").value == "conv8k3 relu pool2 fc32 relu drop0.5"  # canonical form
    assert (at.number_input(key="b_nconv").value, at.number_input(key="b_conv0_C").value) == (1, 8)
    assert at.number_input(key="b_fc0_drop").value == 0.5
    at.selectbox(key="preset").set_value("lenet").run()
    assert at.text_input(key="spec_text").value.startswith("conv6k5 relu pool2 conv16k5")
    assert at.number_input(key="b_nconv").value == 2 and at.number_input(key="b_conv1_C").value == 16
    at.text_input(key="spec_text").input("fc8 relu tanh").run()  # valid, but no block form
    assert not at.error and "cannot show this spec" in at.info[0].value
    at.text_input(key="spec_text").input("fc64 relu fcx").run()
    assert not at.exception
    assert "Bad layer 'fcx'" in at.error[0].value
    assert at.button[0].disabled  # no training on an invalid model


@pytest.mark.parametrize("bad", ["conv8k40", "fc8 conv4", "fc100000 fc100000"])
def test_spec_that_does_not_fit_is_explained(tiny_home, bad):
    at = app()
    at.text_input(key="spec_text").input(bad).run()
    assert not at.exception and at.error and at.button[0].disabled


def test_settings_survive_a_page_switch(tiny_home):
    # starts and ends on the Train page, by way of the Model and Data pages
    at = app()
    at.number_input(key="epochs").set_value(7).run()
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="preset").set_value("cnn").run()
    at.number_input(key="b_conv0_C").set_value(16).run()
    at.switch_page("app_pages/data.py").run()
    at.switch_page("app_pages/train.py").run()
    assert at.number_input(key="epochs").value == 7
    assert at.text_input(key="spec_text").value.startswith("conv16k3p1 bn relu pool2 conv64k3")
    assert at.number_input(key="b_conv0_C").value == 16


def test_share_link_round_trip(tiny_home):
    at = app(
        query={"model": "fc64 relu", "lr": "0.01", "epochs": "7", "batch": "16", "opt": "adam", "aug": "flip", "val": "0.2", "stop": "3"}
    )
    assert not at.exception and not at.warning
    assert at.text_input(key="spec_text").value == "fc64 relu" and at.number_input(key="b_fc0_n").value == 64
    assert (at.select_slider(key="lr").value, at.number_input(key="epochs").value, at.select_slider(key="batch_size").value) == (
        0.01,
        7,
        16,
    )
    assert at.selectbox(key="optimizer").value == "adam" and at.multiselect(key="augment_list").value == ["flip"]
    assert at.number_input(key="early_stopping").value == 3
    at.select_slider(key="lr").set_value(0.03).run()
    assert at.query_params["lr"] == "0.03" and at.query_params["model"] == "fc64 relu"


def test_tampered_share_link_is_explained(tiny_home):
    at = app(query={"lr": "-1", "epochs": "many", "dataset": "imagenet", "model": "fc64 relu fcx", "batch": "32"})
    assert not at.exception
    text = at.warning[0].value
    assert (
        "lr = -1.0 is not allowed" in text
        and "epochs = 'many' is not allowed" in text
        and "unknown dataset 'imagenet'" in text
        and "bad layer 'fcx'" in text
    )
    assert at.select_slider(key="batch_size").value == 32  # the good settings are kept
    assert at.select_slider(key="lr").value == 0.1


def test_diverged_run_is_reported(tiny_home):
    at = app()
    at.text_input(key="spec_text").input("fc256 relu fc256 relu fc256 relu").run()
    at.select_slider(key="lr").set_value(10.0).run()
    at.button[0].click().run()
    at = wait_for_run(at)
    assert not at.exception
    assert "Diverged" in at.error[0].value and "too high" in at.error[0].value


def test_stop_button_ends_a_live_run(tiny_home):
    at = app()
    at.select_slider(key="batch_size").set_value(1).run()
    at.number_input(key="epochs").set_value(50).run()  # 20,000 steps: still running when Stop is pressed
    at.button[0].click().run()
    run_id = at.session_state.run_id
    job = jobs.manager().job(run_id)
    store = jobs.manager().store
    wait_until(lambda: store.first_loss(run_id) is not None, 60, f"the first step of run {run_id} in the run store")
    at.run()
    assert any("Epoch 1 of 50" in p.proto.text for p in at.get("progress"))
    assert any(c.value.startswith("Latest step ") and ": loss " in c.value for c in at.caption)  # the live readout
    at.button(key=f"stop-{run_id}").click().run()
    wait_for_job(job, 30, "Stop was pressed")
    at = wait_for_run(at)
    assert store.get(run_id).status == "stopped"
    assert any(w.value.startswith("Stopped by you at step ") for w in at.warning)  # her own Stop, in her words


def test_a_queued_run_is_a_status_line_and_a_starting_run_shows_its_loss_chart_frame(tiny_home):
    at = app()
    store = jobs.manager().store
    at.session_state.run_id = run_id = store.create(TrainConfig(epochs=1))  # queued, no step yet
    at.run()
    assert not at.exception and any(i.value.startswith(("Queued", "Starting")) for i in at.info)
    assert len(at.get("vega_lite_chart")) == 0 and not at.get("metric")  # as cheap to poll as a finished run's panel
    store.start(run_id, StartEvent(100, "cpu", 10, 10, 640, 100))  # started, no step yet
    at.run()
    assert len(at.get("vega_lite_chart")) == 1  # the loss chart, with only the ln(10) line so far
    assert any("Waiting for the first steps" in c.value and "ln(10)" in c.value for c in at.caption)


def test_a_live_runs_tiles_show_its_latest_epoch_and_a_queued_run_leads_to_the_run_ahead(tiny_home):
    store = jobs.manager().store
    at = app()
    at.session_state.run_id = live = store.create(TrainConfig(epochs=3, seed=40))
    store.start(live, StartEvent(100, "cpu", 10, 30, 640, 100))
    store.add_epoch(live, EpochEvent(1, 1.5, 0.41, 1.25, 0.4375, 1.0))  # running, one epoch done
    at.run()
    tiles = {m.label: m.value for m in at.get("metric")}
    assert tiles["Test accuracy"] == "43.75%" and tiles["Train accuracy"] == "41.00%"

    manager = jobs.manager()
    ahead = manager.submit(TrainConfig(model="fc32 relu", epochs=500, batch_size=1, seed=41))
    queued = manager.submit(TrainConfig(model="fc32 relu", epochs=500, batch_size=1, seed=42))
    try:
        # the run ahead really running (the training worker warmed up): a Stop sent while the worker
        # starts is lost (playground/executor.py), and the run would go on after the test
        wait_until(lambda: ahead.status == "running", 120, lambda: f"run {ahead.run_id} to start; it is {ahead.status}")
        at.session_state.run_id = queued.run_id
        at.run()
        at.button(key=f"show-{ahead.run_id}-from-{queued.run_id}").click().run()
        assert at.session_state.run_id == ahead.run_id and at.subheader[-2].value == f"Run {ahead.run_id}"
    finally:
        queued.stop()
        ahead.stop()
        wait_for_job(queued, 30, "stopped while queued")
        wait_for_job(ahead, 30, "stopped while running")


def test_the_lr_finder_shows_its_chart_and_use_sets_the_lr_slider(tiny_home):
    from playground.ui.lr_find_view import nearest_notch
    from tests.apptest import small

    at = small(app())
    at.select_slider(key="lr").set_value(1e-05).run()
    at.button(key="lr_find_start").click().run()
    assert not at.exception and not at.error
    job = jobs.manager().finder(at.session_state.lr_find_shown)
    assert job is not None and job.config.model == "fc32 relu" and job.config.train_limit == 200
    wait_for_job(job, 120, "the learning-rate finder")
    at.run()
    assert job.status == "completed" and job.result.suggested_lr is not None, job.message
    titles = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("Loss against the learning rate" in spec for spec in titles)
    text = " ".join(m.value for m in at.markdown)
    assert f"The loss falls fastest near **{job.result.suggested_lr:.2g}**" in text
    notch = nearest_notch(job.result.suggested_lr)
    use = at.button(key="lr_use_steepest")
    assert use.label == f"Use {notch:g}" and notch != 1e-05
    use.click().run()
    assert not at.exception
    assert at.select_slider(key="lr").value == notch
    assert at.button(key="lr_use_steepest").label == f"Use {notch:g}"  # the finding stays: the lr is no setting of the finder's


def test_a_finder_queued_behind_a_run_says_so(tiny_home):
    from tests.apptest import small

    manager = jobs.manager()
    ahead = manager.submit(TrainConfig(model="fc32 relu", epochs=500, batch_size=1, seed=43))
    try:
        wait_until(lambda: ahead.status == "running", 120, lambda: f"run {ahead.run_id} to start; it is {ahead.status}")
        at = small(app())
        at.button(key="lr_find_start").click().run()
        assert any(i.value.startswith("Queued: the finder starts when the run or finder before it finishes") for i in at.info)
        job = jobs.manager().finder(at.session_state.lr_find_shown)
        at.button(key="lr_find_stop").click().run()
        assert job.done and job.status == "stopped"
        at.run()
        assert any("The learning-rate finder was stopped" in w.value for w in at.warning)
    finally:
        ahead.stop()
        wait_for_job(ahead, 30, "stopped while running")


def test_a_diverged_run_is_diagnosed_and_its_fix_trains_the_twin(tiny_home):
    """lr 10 on a deep ReLU stack blows up: the Train page says why, with a button that trains the twin
    at lr 1; pressing it moves the form's lr slider to 1 and shows the twin run. The per-layer charts
    are drawn under "Inside the network"."""
    at = app()
    at.text_input(key="spec_text").input("fc256 relu fc256 relu fc256 relu").run()
    at.select_slider(key="lr").set_value(10.0).run()
    next(b for b in at.button if b.label == "Train").click().run()
    first = at.session_state.run_id
    at = wait_for_run(at)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("Diverged: the training loss averaged") for e in errors), errors  # the status
    assert any(e.startswith("Diverged: the training loss reached") for e in errors), errors  # the diagnosis
    fix = at.button(key=f"fix-{first}-diverged")
    assert fix.label == "Try lr 1"
    inside = next(x for x in at.expander if x.label.startswith("Inside the network"))
    assert len(inside.get("vega_lite_chart")) >= 4  # gradient norm, update ratio, dead units, the heatmap
    fix.click().run()
    assert at.session_state.run_id != first and at.select_slider(key="lr").value == 1.0
    twin = jobs.manager().store.get(at.session_state.run_id)
    assert twin.config.lr == 1.0 and twin.config.model == "fc256 relu fc256 relu fc256 relu"
    at = wait_for_run(at)
    assert not at.exception


def test_a_run_queued_behind_a_running_finder_says_so(tiny_home, monkeypatch):
    """The finder holds the trainer (held here after its first step): a run submitted now is queued
    behind it, and its panel says so instead of "Starting"."""
    import threading

    from playground import lr_find

    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "thread")  # the hold below lives in this process
    gate, original = threading.Event(), lr_find._range_test

    def held(run, start_lr, end_lr, steps, should_stop, on_step):
        def step(*a):
            on_step(*a)
            gate.wait(60)

        return original(run, start_lr, end_lr, steps, should_stop, step)

    monkeypatch.setattr(lr_find, "_range_test", held)
    manager = jobs.manager()
    finder = manager.find_lr(TrainConfig(model="fc32 relu", batch_size=16))
    try:
        wait_until(lambda: finder.status == "running", 60, lambda: f"the finder to start; it is {finder.status}")
        at = app()
        next(b for b in at.button if b.label == "Train").click().run()
        assert any(i.value.startswith("Queued: it starts when the learning-rate finder ahead of it finishes") for i in at.info)
    finally:
        gate.set()
    wait_for_job(finder, 60, "the finder, released")
    at = wait_for_run(at)
    assert not at.exception


def test_bf16_is_offered_only_where_the_device_has_it_and_a_link_asking_for_it_is_told(tiny_home, monkeypatch):
    from playground import precision

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)  # this CPU: no bfloat16 units
    at = app(query={"bf16": "1", "device": "cpu"})
    box = at.checkbox(key="bf16_unavailable")
    assert box.disabled and not box.value and "Not here: this CPU has no bfloat16 units" in box.help  # off, as the run will be
    assert any("The link asks for bfloat16 products" in c.value and "float32" in c.value for c in at.caption)
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    at = app(query={"device": "cpu"})
    assert not at.checkbox(key="bf16").disabled and not at.checkbox(key="bf16").value  # offered, off by default


def test_a_reload_shows_the_run_its_settings_are_training(tiny_home):
    config = TrainConfig(model="fc32 relu", epochs=50, batch_size=1, train_limit=200)
    job = jobs.manager().submit(config)
    at = app(query={"model": "fc32 relu", "epochs": "50", "batch": "1", "train": "200"})  # a new session on the same link
    assert not at.exception and any(h.value == f"Run {job.run_id}" for h in at.subheader)
    assert [b for b in at.button if b.key == f"stop-{job.run_id}"]
    job.stop()
    wait_for_job(job)
