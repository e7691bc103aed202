"""The playground engine: datasets, the layer-spec language, models, the trainer and the run store.

Nothing in this package outside `playground.ui` imports Streamlit.
"""

from playground.errors import PlaygroundError

__all__ = ["PlaygroundError"]
