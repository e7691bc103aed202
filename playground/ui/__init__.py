"""The only Streamlit-aware part of the package: shared widgets, cached loaders, altair charts."""
