"""The lab file format: every shipped lab loads, a broken one names its file, line and field, quick
mode only ever trains less, and a student's progress survives a new store."""

from __future__ import annotations

import textwrap

import pytest

from playground.labs import format, progress
from playground.labs.deliver import Started
from playground.runs import RunStore

GOOD = """\
title = "A small lab"
[settings]
dataset = "fashion-mnist"
model = "fc32 relu"
epochs = 4
[quick]
epochs = 2
train_limit = 200

[[step]]
title = "Count"
question = "How many?"
do = "params"

[[step]]
title = "Train it"
question = "Train."
do = "train"
settings = { epochs = 1 }

[[step]]
title = "Sweep"
question = "Sweep the lr."
do = "sweep"
sweep = { setting = "lr", values = "0.1, 0.01" }
prompt = "Which?"
"""


def write(tmp_path, text: str, name: str = "mine.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("name", sorted(format.paths()))
def test_every_shipped_lab_loads(name):
    lab = format.find(name)
    assert lab.title and lab.steps and all(s.title and s.question for s in lab.steps)


def test_the_shipped_labs_cover_every_assignment_family():
    families = {format.find(n).assignment for n in format.paths()}
    assert families == {
        "Fashion-MNIST classifier",
        "CIFAR-10",
        "Convolution arithmetic",
        "Neural networks from scratch, then with torch",
        "Training a CNN well (CIFAR-10)",
    }


def test_a_good_lab_loads_and_quick_mode_only_trains_less(tmp_path):
    lab = format.load(write(tmp_path, GOOD))
    assert [s.do for s in lab.steps] == ["params", "train", "sweep"]
    train, sweep = lab.steps[1], lab.steps[2]
    assert lab.config(train, quick=False).epochs == 1
    assert lab.config(train, quick=True).epochs == 1  # the step's 1 epoch stays 1 under quick's 2
    assert lab.config(sweep, quick=True).epochs == 2 and lab.config(sweep, quick=True).train_limit == 200
    assert lab.config(sweep, quick=False).train_limit == 0
    assert sweep.sweep["parsed"] == [0.1, 0.01] and sweep.prompt == "Which?"
    assert "at most 2 epochs" in lab.quick_text()


BROKEN = [
    # (what is changed in GOOD, the line it is on, words the message must hold)
    (('do = "params"', 'do = "count"'), 13, ["step 1 ('Count')", "field 'do'", "'count' is not something a step can do", "params"]),
    (("epochs = 1 }", "epochs = 0 }"), 19, ["step 2 ('Train it')", "field 'settings.epochs'", "epochs must be a whole number from 1"]),
    (
        ('values = "0.1, 0.01"', 'values = "0.1, fast"'),
        25,
        ["step 3", "field 'sweep.values'", "learning rate value 'fast' is not a number"],
    ),
    (('model = "fc32 relu"', 'model = "fc32 relu"\ncolour = 3'), 5, ["field 'settings.colour'", "'colour' is not a setting"]),
    (('prompt = "Which?"', 'promt = "Which?"'), 26, ["step 3", "field 'promt'", "is not a step field"]),
    (('title = "Count"', 'titel = "Count"'), 11, ["step 1", "field 'titel'"]),
    (('question = "Train."', "question = 3"), 17, ["step 2", "field 'question'", "must be text"]),
    (('title = "A small lab"', 'title = "A small lab'), 1, ["mine.toml, line 1", "not valid TOML"]),
    (('do = "train"', 'do = "train"\nshow = ["loss", "pie"]'), 19, ["field 'show'", "'pie' is not a chart"]),
    (('setting = "lr"', 'setting = "colour"'), 25, ["field 'sweep.setting'", "cannot sweep 'colour'"]),
]


@pytest.mark.parametrize("change, line, words", BROKEN, ids=[b[0][1][:24] for b in BROKEN])
def test_a_broken_lab_names_its_file_line_and_field(tmp_path, change, line, words):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(format.LabError) as e:
        format.load(path)
    message = str(e.value)
    assert message.startswith(f"mine.toml, line {line}:"), message
    for w in words:
        assert w in message, message


def test_a_conv_calc_error_points_at_its_own_table(tmp_path):
    text = """\
    title = "Conv"
    [[step]]
    title = "Sums"
    question = "Work them."
    do = "conv"
    [[step.calc]]
    kind = "output"
    W = 28
    K = 3
    [[step.calc]]
    kind = "output"
    W = 0
    K = 3
    """
    with pytest.raises(format.LabError, match=r"line 11: step 1 \('Sums'\), field 'calc.2.kind': the input size W must be a whole number"):
        format.load(write(tmp_path, text))


def test_a_model_too_large_for_the_batch_is_refused_in_quick_mode_too(tmp_path):
    text = (
        GOOD.replace("train_limit = 200", "train_limit = 20")
        .replace('do = "train"', 'do = "train"')
        .replace("settings = { epochs = 1 }", "settings = { epochs = 1, batch_size = 64 }")
    )
    with pytest.raises(format.LabError, match=r"batch_size = 64 is larger than the 20 training images.*\(in quick mode\)"):
        format.load(write(tmp_path, text))


def test_a_teachers_lab_is_found_and_a_broken_one_does_not_hide_the_others(home):
    folder = home / "labs"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(GOOD)
    (folder / "broken.toml").write_text(GOOD.replace('do = "params"', 'do = "count"'))
    labs, problems = format.all_labs()
    assert "mine" in {lab.name for lab in labs} and "fashion-mnist" in {lab.name for lab in labs}
    assert len(problems) == 1 and problems[0].startswith("broken.toml, line 13")
    assert format.titles()["mine"] == "A small lab"
    with pytest.raises(format.LabError, match="no lab named 'nope': choose one of"):
        format.find("nope")


def test_progress_survives_a_new_store(home):
    store = RunStore(home / "runs.sqlite")
    p = progress.load(store, "fashion-mnist")
    assert (p.step, p.quick, p.answers) == (1, True, {})
    p.step = 3
    p.answer(3, "lr 0.1: fast and stable")
    p.set_runs(3, Started([4, 5], 2, ["0.1", "0.01"]))
    p.quick = False
    p.set_runs(3, Started([9], None, ["this run"]))
    progress.save(store, p)
    again = progress.load(RunStore(home / "runs.sqlite"), "fashion-mnist")
    assert again.step == 3 and again.answers == {3: "lr 0.1: fast and stable"} and not again.quick
    assert again.runs_of(3).run_ids == [9]
    again.quick = True
    assert again.runs_of(3).run_ids == [4, 5] and again.runs_of(3).sweep_id == 2  # quick and full runs kept apart
    assert progress.load(store, "cifar10").step == 1  # each lab its own place


def test_the_readmes_example_lab_loads(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    example = next(block.split("```", 1)[0] for block in readme.split("```toml\n")[1:] if "[[step]]" in block)  # the lab, not class.toml
    lab = format.load(write(tmp_path, example, "example.toml"))
    assert [s.do for s in lab.steps] == ["params", "sweep", "conv"]
    assert lab.steps[0].models == ("base", "wider") and lab.steps[1].settings == {"momentum": 0.9}
