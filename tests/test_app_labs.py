"""The Labs page (AppTest): the lab and step pickers, the settings applied to the Train page with one
click, a step run and its deliverable filled, the answer kept, and a bad lab link named."""

from __future__ import annotations

from playground import jobs
from playground.labs import progress
from tests.apptest import app, wait_until

PAGE = "app_pages/labs.py"


def test_a_link_opens_a_lab_and_next_back_move_through_its_steps(tiny_home):
    at = app(PAGE, {"lab": "conv-arithmetic"})
    assert not at.exception
    assert at.selectbox(key="lab").value == "conv-arithmetic"
    assert at.subheader[0].value == "Step 1 of 5: Convolve by hand"
    assert any(m.value == "**Convolution (kernel flipped), padding 1: every output cell**" for m in at.markdown)
    at.button(key="lab-next").click().run()
    assert at.subheader[0].value == "Step 2 of 5: Output sizes"
    at.button(key="lab-back").click().run()
    assert at.subheader[0].value == "Step 1 of 5: Convolve by hand"
    assert progress.load(jobs.manager().store, "conv-arithmetic").step == 1


def test_the_answer_and_the_step_are_kept_across_sessions(tiny_home):
    at = app(PAGE, {"lab": "conv-arithmetic"})
    at.button(key="lab-next").click().run()
    at.text_area(key="lab-answer-conv-arithmetic-2").input("the remainder is cut off").run()
    again = app(PAGE, {"lab": "conv-arithmetic"})  # a new browser session, the app restarted or not
    assert again.subheader[0].value == "Step 2 of 5: Output sizes"
    assert again.text_area(key="lab-answer-conv-arithmetic-2").value == "the remainder is cut off"
    assert "1 of 5 steps done" in again.get("progress")[0].proto.text


def test_apply_sets_the_train_pages_widgets_and_says_what_changed(tiny_home):
    at = app(PAGE, {"lab": "fashion-mnist"})
    p = progress.load(jobs.manager().store, "fashion-mnist")
    p.step = 3  # the learning-rate table: epochs 3 in quick mode
    progress.save(jobs.manager().store, p)
    at = app(PAGE, {"lab": "fashion-mnist"})
    at.button(key="apply-fashion-mnist-3").click().run()
    applied = [s.value for s in at.success]
    assert applied and "Epochs: 5 → 3" in applied[0] and "Training images: all → 2,000" in applied[0]
    train = at.switch_page("app_pages/train.py").run()
    assert train.number_input(key="epochs").value == 3
    assert train.selectbox(key="train_limit").value == 2000


def test_running_a_step_fills_its_table_and_charts(tiny_home, no_leftover_jobs):
    at = app(PAGE, {"lab": "fashion-mnist"})
    p = progress.load(jobs.manager().store, "fashion-mnist")
    p.step = 4  # one run: the gradients of the first steps
    progress.save(jobs.manager().store, p)
    at = app(PAGE, {"lab": "fashion-mnist"})
    at.button(key="run-fashion-mnist-4").click().run()
    started = progress.load(jobs.manager().store, "fashion-mnist").runs_of(4)
    assert started is not None and len(started.run_ids) == 1
    wait_until(lambda: not jobs.manager().store.get(started.run_ids[0]).active, 120, "the step's run to end")
    at.run()
    assert not at.exception
    assert any(m.value == "**Per epoch**" for m in at.markdown)
    assert at.dataframe and len(at.dataframe[1].value) == 3  # 3 epochs in quick mode (the first table: the settings)
    assert any("the loss at the first step" in m.value for m in at.markdown)
    assert [e.label for e in at.expander if e.label == "The code of this run"]  # the code behind the step's run


def test_a_link_to_a_lab_that_is_not_there_is_named(tiny_home):
    at = app(PAGE, {"lab": "nope"})
    assert any("lab = 'nope' is not a lab here" in w.value for w in at.warning)
    assert at.selectbox(key="lab").value == "fashion-mnist"


def test_a_teachers_broken_lab_is_named_with_its_line(tiny_home):
    (tiny_home / "labs").mkdir()
    (tiny_home / "labs" / "mine.toml").write_text('title = "Mine"\n[[step]]\ntitle = "A"\nquestion = "Q"\ndo = "dance"\n')
    at = app(PAGE, {"lab": "mine"})
    assert any("mine.toml, line 5: step 1 ('A'), field 'do'" in e.value for e in at.error)
