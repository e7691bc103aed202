"""A filled lab as a Jupyter notebook (nbformat) or as one self-contained HTML report.

The notebook: the questions as Markdown; each training step's code as code cells (the standalone
script of every run it trained, playground.export_code), with the filled table and charts as the
last cell's outputs; the other steps' worked tables as Markdown; the student's answers in place.
The HTML report holds the same with the charts as inline SVG and the images as data URLs: one
file that opens offline.
"""

from __future__ import annotations

import base64
import datetime
import html
from pathlib import Path

import nbformat
import pandas as pd
from nbformat import v4

from playground import export_code
from playground.errors import PlaygroundError
from playground.labs import deliver, figures
from playground.labs.deliver import TRAINS, Filled
from playground.labs.format import Lab, Step
from playground.tables import to_markdown

ARGV_CELL = """# The cells below are standalone scripts (`python step.py --json` in a terminal). Here they read no
# command-line options: the kernel's own are set aside.
import sys

sys.argv = sys.argv[:1]"""


def _table_md(rows: list[dict]) -> str:
    return to_markdown(pd.DataFrame(rows).astype(str)) if rows else "(no rows)\n"


def _intro(lab: Lab, quick: bool) -> str:
    mode = f"Quick mode: {lab.quick_text()}." if quick else "Full mode: every image and epoch the lab asks for."
    day = datetime.date.today().isoformat()
    return f"# {lab.title}\n\n{lab.about}\n\n*{mode} Exported from the playground on {day}.*"


def _outputs(filled: Filled) -> list:
    """The filled tables and charts as a code cell's outputs (HTML with a Markdown fallback; PNG charts)."""
    import vl_convert

    out = []
    for t in filled.tables:
        df = pd.DataFrame(t.rows).astype(str)
        out.append(v4.new_output("display_data", {"text/html": f"<h4>{html.escape(t.title)}</h4>" + df.to_html(index=False),
                                                  "text/plain": f"{t.title}\n{_table_md(t.rows)}"}))  # fmt: skip
    for c in filled.charts:
        if c.points:
            data = base64.b64encode(vl_convert.vegalite_to_png(figures.chart(c).to_json(), scale=1)).decode()
            out.append(v4.new_output("display_data", {"image/png": data, "text/plain": c.title}))
    if filled.facts:
        out.append(v4.new_output("stream", name="stdout", text="\n".join(filled.facts) + "\n"))
    return out


def _answer(step: Step, answer: str) -> str:
    said = "\n".join(f"> {line}" for line in answer.splitlines()) if answer.strip() else "> *(not answered yet)*"
    return f"**{step.prompt}**\n\n{said}"


def notebook(lab: Lab, steps: list[tuple[Filled, str]], quick: bool) -> nbformat.NotebookNode:
    cells = [v4.new_markdown_cell(_intro(lab, quick))]
    if any(f.step.do in TRAINS for f, _ in steps):
        cells.append(v4.new_code_cell(ARGV_CELL))
    for filled, answer in steps:
        s = filled.step
        cells.append(v4.new_markdown_cell(f"## Step {s.index}: {s.title}\n\n{s.question}"))
        if s.do in TRAINS:
            code = [v4.new_code_cell(export_code.script(c)) for c in deliver.configs(lab, s, quick)]
            code[-1].outputs = _outputs(filled)
            cells += code
        else:
            parts = [f"**{t.title}**\n\n{_table_md(t.rows)}" for t in filled.tables] + [f"- {f}" for f in filled.facts]
            if parts:
                cells.append(v4.new_markdown_cell("\n".join(parts)))
        if s.prompt:
            cells.append(v4.new_markdown_cell(_answer(s, answer)))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f3f3f3}blockquote{border-left:4px solid #4c78a8;margin:.5rem 0;padding:.25rem 1rem;background:#f5f8fc}
pre{background:#f6f6f6;padding:.75rem;overflow-x:auto;font-size:.8rem}figure{display:inline-block;margin:.25rem;text-align:center}
section{border-top:1px solid #ddd;margin-top:2rem}"""


def _html_step(lab: Lab, filled: Filled, answer: str, quick: bool) -> str:
    import vl_convert

    s, e = filled.step, html.escape
    out = [f"<section><h2>Step {s.index}: {e(s.title)}</h2><p>{e(s.question)}</p>"]
    for caption, image in filled.images:
        data = base64.b64encode(figures.png(image)).decode()
        out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>')
    for t in filled.tables:
        out.append(f"<h4>{e(t.title)}</h4>" + pd.DataFrame(t.rows).astype(str).to_html(index=False, border=0))
    out += [vl_convert.vegalite_to_svg(figures.chart(c).to_json()) for c in filled.charts if c.points]
    if filled.facts:
        out.append("<ul>" + "".join(f"<li>{e(f)}</li>" for f in filled.facts) + "</ul>")
    for c in deliver.configs(lab, s, quick):
        out.append(f"<details><summary>The code of this run</summary><pre>{e(export_code.script(c))}</pre></details>")
    if s.prompt:
        said = e(answer).replace("\n", "<br>") if answer.strip() else "<em>(not answered yet)</em>"
        out.append(f"<p><strong>{e(s.prompt)}</strong></p><blockquote>{said}</blockquote>")
    return "\n".join(out) + "</section>"


def report(lab: Lab, steps: list[tuple[Filled, str]], quick: bool) -> str:
    mode = f"Quick mode: {lab.quick_text()}." if quick else "Full mode."
    head = f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(lab.title)}</title><style>{CSS}</style></head><body>"
    intro = f"<h1>{html.escape(lab.title)}</h1><p>{html.escape(lab.about)}</p><p><em>{mode} Exported on {datetime.date.today()}.</em></p>"
    return head + intro + "\n".join(_html_step(lab, f, a, quick) for f, a in steps) + "</body></html>"


def text(lab: Lab, steps: list[tuple[Filled, str]], quick: bool, fmt: str) -> str:
    return nbformat.writes(notebook(lab, steps, quick)) if fmt == "ipynb" else report(lab, steps, quick)


def write(lab: Lab, steps: list[tuple[Filled, str]], quick: bool, fmt: str, path: str | Path) -> None:
    text_ = text(lab, steps, quick, fmt)
    try:
        Path(path).write_text(text_, encoding="utf-8")
    except OSError as e:
        raise PlaygroundError(f"cannot write {path}: {e.strerror or e}") from None
