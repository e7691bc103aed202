"""A lab exports as a notebook that nbformat validates and nbclient executes on a tiny slice, and as
one self-contained HTML file; the student's answers are in both."""

from __future__ import annotations

import json

import nbformat
import pytest

from playground.cli import main

LAB = """\
title = "Export me"
about = "A lab small enough to execute."
[settings]
dataset = "fashion-mnist"
model = "fc16 relu"
batch_size = 32
epochs = 2
train_limit = 200
test_limit = 100

[[step]]
title = "Look"
question = "Show the images."
do = "samples"

[[step]]
title = "Train"
question = "Train it."
do = "train"
prompt = "What happened?"

[[step]]
title = "Sweep"
question = "Two learning rates."
do = "sweep"
sweep = { setting = "lr", values = "0.1, 0.01" }
"""


@pytest.fixture
def lab_file(tiny_home):
    folder = tiny_home / "labs"
    folder.mkdir()
    (folder / "export-me.toml").write_text(LAB)
    return folder / "export-me.toml"


def answer(step: int, text: str) -> None:
    from playground import jobs
    from playground.labs import progress

    p = progress.load(jobs.manager().store, "export-me")
    p.answer(step, text)
    progress.save(jobs.manager().store, p)


def test_the_notebook_validates_executes_and_holds_the_answers(lab_file, tiny_home, tmp_path, capsys, no_leftover_jobs, monkeypatch):
    from nbclient import NotebookClient

    answer(2, "the loss fell, my own words")
    out = tmp_path / "lab.ipynb"
    assert main(["lab", "export", "export-me", "--format", "ipynb", "-o", str(out), "--quiet"]) == 0
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    text = json.dumps(nb)
    assert "the loss fell, my own words" in text and "Step 3: Sweep" in text
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 1 + 1 + 2  # the argv cell, the run, the sweep's two runs
    assert all("import playground" not in c.source for c in code)
    assert any(o.get("data", {}).get("image/png") for o in code[-1].outputs)  # the sweep's charts as the cell's output
    monkeypatch.setenv("PLAYGROUND_HOME", str(tiny_home))  # the kernel reads the data where the playground keeps it
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in code[1].outputs if o.get("output_type") == "stream")
    assert "epoch 2" in printed.lower(), printed


def test_the_html_report_is_one_self_contained_file(lab_file, tmp_path, no_leftover_jobs):
    answer(2, "<b>bold</b> & honest")
    out = tmp_path / "lab.html"
    assert main(["lab", "export", "export-me", "--format", "html", "-o", str(out), "--quiet"]) == 0
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html and "data:image/png;base64," in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; honest" in html  # the answer, escaped
    assert 'src="http' not in html and "<script src" not in html  # nothing fetched when it opens
    assert "def train(" in html  # each run's code


def test_export_to_a_folder_that_does_not_exist_is_one_line(lab_file, tmp_path, capsys, no_leftover_jobs):
    assert main(["lab", "export", "export-me", "-o", str(tmp_path / "no" / "such" / "x.ipynb"), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: cannot write")
