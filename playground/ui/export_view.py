"""A run's "Export as code" expander: the standalone PyTorch script that trains it again (to copy or
download), or why this run cannot be written as one."""

from __future__ import annotations

import streamlit as st

from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.export_code import script
from playground.runs import Run
from playground.ui import me


@st.cache_data(show_spinner=False, max_entries=32)
def _script(config: TrainConfig, run_id: int) -> str:
    """The script's text, made once per run and session's cache (a ResNet's takes about 0.2 s: its layer sizes)."""
    return script(config, run_id)


def export_expander(run: Run, title: str = "Export as code") -> None:
    """The expander, closed: the script in a code block (with its copy button) and a download button."""
    with st.expander(title, icon=":material/code:"):
        try:
            text = _script(run.config, run.id)
        except PlaygroundError as e:
            st.info(f"This run cannot be exported as code: {e}", icon=":material/info:")
            return
        name = f"run_{run.id}.py"
        st.caption(
            f"A standalone script: PyTorch and torchvision only, no playground. `python {name}` trains this run again and "
            f"prints one line per epoch (`--json`: the per-epoch metrics as JSON). It follows the playground's seeding, so on the "
            f"same device its losses equal this run's, epoch for epoch."
            + (f" From a terminal: `python -m playground export-code {run.id}`." if me.at_the_server() else "")  # the server's terminal
        )
        st.download_button(
            f"Download {name}", text, name, "text/x-python", icon=":material/download:", on_click="ignore", key=f"export-code-{run.id}"
        )
        st.code(text, language="python")
