"""AppTest of the Toy 2D page: training in the background, the run store as a cache, Stop, bad settings."""

import pytest

from playground import jobs
from tests.apptest import app, wait_for_job, wait_until

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")


def test_toy_page_trains_in_the_background_stores_and_caches_the_run(home):
    at = app("app_pages/toy.py")
    assert not at.exception and at.title[0].value == "Toy 2D"
    assert len(at.get("vega_lite_chart")) == 1  # the points, before training
    at.selectbox(key="toy_set").set_value("xor").run()
    at.number_input(key="toy_epochs").set_value(60).run()
    at.button(key="toy_train").click().run()
    assert not at.exception
    run_id = at.session_state.toy_run
    job = jobs.manager().job(run_id)
    assert job is not None, f"run {run_id} was not started by the executor"
    assert wait_for_job(job, 120, "60 epochs of xor").status == "completed"  # trained by the executor, not the page
    at.run()
    assert at.success and f"Run {run_id}: trained 60 epochs" in at.success[0].value
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # after the first epoch, the latest, the network, the loss per epoch
    assert "image" in str(charts[2].proto) and "Hidden layer 1" in str(charts[2].proto)  # every unit's map, drawn
    assert "After epoch 60" in str(charts[1].proto)
    store = jobs.manager().store
    assert store.get(run_id).config.dataset == "xor" and store.snapshots(run_id)[-1][0] == 60  # stored with its regions
    at.toggle(key="toy_baselines").set_value(True).run()
    captions = " ".join(c.value for c in at.caption)
    assert "linear SVM: train accuracy" in captions and "RBF-kernel SVM: train accuracy" in captions
    charts = at.get("vega_lite_chart")
    assert len(charts) == 7  # the baselines in the same grid as the network's latest map
    assert "The network: test accuracy" in str(charts[4].proto) and "RBF-kernel SVM: test accuracy" in str(charts[6].proto)
    fresh = app("app_pages/toy.py")  # another session, with Streamlit's caches emptied: only the run store knows the run
    fresh.selectbox(key="toy_set").set_value("xor").run()
    fresh.number_input(key="toy_epochs").set_value(60).run()
    assert "After epoch 60" in str(fresh.get("vega_lite_chart")[1].proto)  # another session: the stored run, no training
    assert "From the run store, nothing trained now" in fresh.success[0].value and f"as run {run_id}" in fresh.success[0].value
    fresh.button(key="toy_train").click().run()
    assert fresh.session_state.toy_run == run_id and len(store.list_runs()) == 1  # Train again: the cache
    assert "From the run store" in fresh.success[0].value


def test_toy_run_can_be_stopped(home):
    at = app("app_pages/toy.py")
    at.number_input(key="toy_epochs").set_value(500).run()
    at.select_slider(key="toy_batch").set_value(1).run()
    at.button(key="toy_train").click().run()
    run_id = at.session_state.toy_run
    store = jobs.manager().store
    wait_until(lambda: store.snapshots(run_id), 60, f"the first epoch's regions of toy run {run_id} in the run store")
    at.run()
    at.button(key=f"toy-stop-{run_id}").click().run()
    wait_for_job(jobs.manager().job(run_id), 30, "Stop was pressed")
    at.run()
    assert store.get(run_id).status == "stopped" and at.warning[0].value.startswith(f"Run {run_id}: Stopped by you at step ")
    assert len(at.get("vega_lite_chart")) >= 2  # the regions so far are kept


def test_toy_page_explains_bad_settings(home):
    at = app("app_pages/toy.py")
    at.slider(key="toy_points").set_value(40).run()
    at.select_slider(key="toy_batch").set_value(256).run()
    assert "larger than the 28 training points" in at.error[0].value


def test_a_linear_model_on_xor_is_diagnosed_not_learning(home):
    """No hidden layer cannot separate xor: the finished run's panel says so, in the diagnosis."""
    at = app("app_pages/toy.py")
    at.selectbox(key="toy_set").set_value("xor").run()
    at.number_input(key="toy_depth").set_value(0).run()
    at.number_input(key="toy_epochs").set_value(10).run()
    at.button(key="toy_train").click().run()
    wait_for_job(jobs.manager().job(at.session_state.toy_run), 120, "10 epochs of a linear model on xor")
    at.run()
    assert not at.exception
    findings = [e.value for e in at.error]
    assert any(f.startswith("Not learning: test accuracy") and "near chance (50%)" in f and "no hidden layer" in f for f in findings), (
        findings
    )


def test_twin_runs_train_side_by_side(home):
    at = app("app_pages/toy.py")
    at.number_input(key="toy_epochs").set_value(10).run()
    at.selectbox(key="toy_twin").set_value("lr").run()
    at.text_input(key="toy_twin_value").input("abc").run()
    assert "learning rate value 'abc' is not a number" in at.error[0].value
    at.text_input(key="toy_twin_value").input("0.3").run()
    at.button(key="toy_train_twins").click().run()
    first, twin = (jobs.manager().store.get(i) for i in at.session_state.toy_twin_runs)
    assert (first.config.lr, twin.config.lr) == (0.03, 0.3) and first.config.model == twin.config.model
    for run in (first, twin):
        wait_for_job(jobs.manager().job(run.id), 120, f"twin run {run.id}")
    at.run()
    titles = [str(c.proto) for c in at.get("vega_lite_chart")]
    assert any("learning rate 0.03: after epoch 10" in t for t in titles) and any("learning rate 0.3: after epoch 10" in t for t in titles)
    assert sum(c.value.startswith(f"Run {first.id} completed") or c.value.startswith(f"Run {twin.id} completed") for c in at.caption) == 2
    assert (at.query_params["twin"], at.query_params["twinvalue"]) == ("lr", "0.3")  # the twin is in the link


def test_play_pause_and_step(home):
    """Step: one mini-batch with every unit's numbers, checked against autograd; Play trains in bursts
    redrawn by a fragment; Pause stops it; Reset goes back to the first weights."""
    at = app("app_pages/toy.py")
    at.number_input(key="toy_epochs").set_value(5).run()
    at.button(key="toy_step").click().run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**Step 1** (epoch 1): a batch of 16 training points" in text and "equals autograd's: the largest difference is" in text
    frames = at.dataframe
    assert len(frames) == 2 and list(frames[0].value["unit"]) == [f"h1.{j}" for j in range(1, 9)]  # 8 tanh units, then the output
    assert (frames[0].value["dL/db by hand"] - frames[0].value["dL/db by autograd"]).abs().max() < 1e-6
    at.button(key="toy_step").click().run()
    assert "**Step 2**" in " ".join(m.value for m in at.markdown)
    at.button(key="toy_play").click().run()
    assert at.session_state.playing and at.button(key="toy_play").label == "Pause" and not at.dataframe  # Play: no single step shown
    assert at.session_state.stepper.steps > 2  # the Play press's own run trained a burst
    at.button(key="toy_play").click().run()  # Pause
    assert not at.session_state.playing and at.button(key="toy_play").label == "Play"
    paused = at.session_state.stepper.steps
    at.run()
    assert at.session_state.stepper.steps == paused  # paused: a rerun trains nothing
    at.button(key="toy_reset").click().run()
    assert at.session_state.stepper is None and not at.dataframe


def test_a_link_that_hides_a_whole_section_drops_its_heading_and_says_what_it_fixed(home):
    at = app("app_pages/toy.py", {"hide": "toy,points,noise,toyshare,toyseed,showtest", "points": "200", "toy": "xor"})
    assert not at.exception
    headings = [h.value for h in at.subheader]
    assert "Data" not in headings and {"Network", "Training"} <= set(headings), headings
    fixed = [c.value for c in at.caption if c.value.startswith("Fixed by this link: ")]
    assert fixed == ["Fixed by this link: Toy set xor · Points 200 · Noise 0.1 · Training share 0.7 · Data seed 0 · Show test points on."]
