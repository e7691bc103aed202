"""Where the playground keeps its files: $PLAYGROUND_HOME (default ~/.playground).

Read at call time, not import time, so tests can point it at a temporary folder.
"""

import os
from pathlib import Path


def playground_home() -> Path:
    return Path(os.environ.get("PLAYGROUND_HOME") or Path.home() / ".playground").expanduser()


def data_dir() -> Path:
    """Downloaded or unpacked datasets, one sub-folder per dataset."""
    return playground_home() / "data"


def runs_db_path() -> Path:
    """The SQLite run store."""
    return playground_home() / "runs.sqlite"


def weights_path(run_id: int) -> Path:
    """A finished run's trained weights (a state_dict saved with torch.save)."""
    return playground_home() / "weights" / f"run-{run_id}.pt"
