"""The model builder: a preset, the layer-spec text and block widgets, kept in sync.

The spec text (session key "spec_text") is the one truth. Choosing a preset or changing a block
widget rewrites it; typing it rewrites the widgets. All of this happens in on_change callbacks,
which Streamlit runs before the script, so every widget is drawn with its new value.
"""

from __future__ import annotations

import streamlit as st

from playground import blocks, datasets, families, specs
from playground.blocks import Blocks, ConvBlock, FcBlock
from playground.errors import PlaygroundError
from playground.models import check_size
from playground.ui import state
from playground.wording import sentence

CUSTOM = "(custom)"
MAX_CONV_BLOCKS, MAX_FC_BLOCKS = 6, 8
POOL_LABELS = {
    "none": "no pooling",
    "pool2": "max 2x2",
    "avgpool2": "avg 2x2",
    "pool3": "max 3x3",
    "avgpool3": "avg 3x3",
    "pool4": "max 4x4",
    "avgpool4": "avg 4x4",
}


def default_spec() -> str:
    return families.resolve(families.DEFAULT_PRESET)


def _preset_of(spec: str) -> str:
    return next((name for name in families.PRESETS if families.resolve(name) == spec), CUSTOM)


def _preset_of_text(text: str) -> str:
    try:
        return _preset_of(families.normalize(text))
    except PlaygroundError:
        return CUSTOM


def _push(spec: str) -> None:
    """Write a valid canonical spec into the text, the preset and every block widget."""
    ss = st.session_state
    ss.spec_text = spec
    ss.preset = _preset_of(spec)
    b, ss.builder_reason = families.from_spec(spec)
    if b is not None:
        ss.b_act, ss.b_nconv, ss.b_nfc = b.activation, len(b.conv), len(b.fc)
        for i, c in enumerate(b.conv):
            ss[f"b_conv{i}_C"], ss[f"b_conv{i}_k"], ss[f"b_conv{i}_s"] = c.channels, c.kernel, c.stride
            ss[f"b_conv{i}_p"], ss[f"b_conv{i}_bn"], ss[f"b_conv{i}_pool"] = c.padding, c.batchnorm, c.pool
        for i, f in enumerate(b.fc):
            ss[f"b_fc{i}_n"], ss[f"b_fc{i}_bn"], ss[f"b_fc{i}_drop"] = f.units, f.batchnorm, f.dropout
    ss.builder_spec = spec


def _read() -> Blocks:
    """The block widgets' values; a newly added row starts as a copy of the row above it."""
    ss = st.session_state
    conv, fc = [], []
    for i in range(ss.b_nconv):
        prev = conv[-1] if conv else ConvBlock()
        conv.append(
            ConvBlock(
                ss.get(f"b_conv{i}_C", prev.channels * (2 if conv else 1)),
                ss.get(f"b_conv{i}_k", prev.kernel),
                ss.get(f"b_conv{i}_s", prev.stride),
                ss.get(f"b_conv{i}_p", prev.padding),
                ss.get(f"b_conv{i}_bn", prev.batchnorm),
                ss.get(f"b_conv{i}_pool", prev.pool),
            )
        )
    for i in range(ss.b_nfc):
        prev = fc[-1] if fc else FcBlock()
        fc.append(FcBlock(ss.get(f"b_fc{i}_n", prev.units), ss.get(f"b_fc{i}_bn", prev.batchnorm), ss.get(f"b_fc{i}_drop", prev.dropout)))
    return Blocks(conv, fc, ss.b_act)


def _on_builder() -> None:
    _push(families.normalize(blocks.to_spec(_read())))


def _on_text() -> None:
    try:
        _push(families.normalize(st.session_state.spec_text))
    except PlaygroundError:
        st.session_state.preset = CUSTOM  # the error is shown under the text when the page draws


def _on_preset() -> None:
    if st.session_state.preset != CUSTOM:
        _push(families.resolve(st.session_state.preset))


def _sync() -> None:
    """Bring the widgets in line with the text when it changed elsewhere (another page, a restored
    session) or when Streamlit dropped the widgets' state on a page without them."""
    ss = st.session_state
    if "spec_text" not in ss:
        ss.spec_text = ss.get("model_spec") or default_spec()
    if ss.get("builder_spec") != ss.spec_text or "preset" not in ss or "b_act" not in ss:
        try:
            _push(families.normalize(ss.spec_text))
        except PlaygroundError:
            ss.preset = CUSTOM


def _block_widgets() -> None:
    ss = st.session_state
    if ss.get("builder_reason"):
        st.info(f"The builder cannot show this spec: {ss.builder_reason}. Edit it as text, or pick a preset.", icon=":material/info:")
        return
    top = st.columns(3)
    top[0].selectbox("Activation after every layer", (*specs.ACTIVATIONS, blocks.NO_ACTIVATION), key="b_act", on_change=_on_builder)
    top[1].number_input(
        "Conv blocks", 0, MAX_CONV_BLOCKS, key="b_nconv", on_change=_on_builder, help="each: conv, [batch norm], activation, [pool]"
    )
    top[2].number_input(
        "Hidden fc layers (depth)",
        0,
        MAX_FC_BLOCKS,
        key="b_nfc",
        on_change=_on_builder,
        help="each: fc, [batch norm], activation, [dropout]",
    )
    if ss.b_nconv:
        st.markdown("**Conv blocks**")
    for i in range(ss.b_nconv):
        hide = "visible" if i == 0 else "collapsed"
        c = st.columns([1, 1, 1, 1, 0.6, 1.3], vertical_alignment="bottom")
        c[0].number_input("Channels C_out", 1, 4096, key=f"b_conv{i}_C", on_change=_on_builder, label_visibility=hide)
        c[1].number_input("Kernel k", 1, 15, key=f"b_conv{i}_k", on_change=_on_builder, label_visibility=hide)
        c[2].number_input("Stride s", 1, 4, key=f"b_conv{i}_s", on_change=_on_builder, label_visibility=hide)
        c[3].number_input("Padding p", 0, 7, key=f"b_conv{i}_p", on_change=_on_builder, label_visibility=hide)
        c[4].checkbox("BN", key=f"b_conv{i}_bn", on_change=_on_builder, help="batch normalisation")
        c[5].selectbox(
            "Pooling", blocks.POOLS, key=f"b_conv{i}_pool", format_func=POOL_LABELS.get, on_change=_on_builder, label_visibility=hide
        )
    if ss.b_nfc:
        st.markdown("**Hidden fc layers**")
    for i in range(ss.b_nfc):
        hide = "visible" if i == 0 else "collapsed"
        c = st.columns([1, 0.6, 1, 2.3], vertical_alignment="bottom")
        c[0].number_input("Units (width)", 1, specs.MAX_UNITS, key=f"b_fc{i}_n", on_change=_on_builder, label_visibility=hide)
        c[1].checkbox("BN", key=f"b_fc{i}_bn", on_change=_on_builder, help="batch normalisation")
        c[2].number_input(
            "Dropout p", 0.0, 0.95, step=0.05, format="%.2f", key=f"b_fc{i}_drop", on_change=_on_builder, label_visibility=hide
        )
    st.caption("The classifier Linear(→ classes) is always added at the end.")


def model_builder(input_shape: tuple[int, ...], num_classes: int, blocks_expanded: bool = True) -> str | None:
    """Draw preset, spec text and block widgets; return the canonical spec, or None with the
    error shown when it is invalid or does not fit input_shape."""
    state.prepare("model")  # the spec chosen on any page, kept across page switches (ui/state.py)
    _sync()
    st.session_state.preset = _preset_of_text(st.session_state.spec_text)  # never "base" for a text that is not base
    left, right = st.columns([1, 3])
    left.selectbox("Preset", (CUSTOM, *families.PRESETS), key="preset", on_change=_on_preset)
    state.remember(
        "model",
        right.text_input(
            "Layer spec", key="spec_text", on_change=_on_text, help=f"Tokens: {specs.GRAMMAR}. The classifier layer is added for you."
        ),
    )
    if st.session_state.preset != CUSTOM:
        st.caption(families.PRESETS[st.session_state.preset].description)
    try:
        spec = families.normalize(st.session_state.spec_text)
        check_size(families.preview_model(spec, input_shape, num_classes))
    except PlaygroundError as e:
        st.error(sentence(str(e)), icon=":material/error:")
        spec = None
    with st.expander("Build it block by block", expanded=blocks_expanded):
        _block_widgets()
    st.session_state.model_spec = spec
    return spec


def current_spec() -> str:
    """The model chosen so far (on any page), canonical; the default preset before any choice."""
    try:
        return families.normalize(st.session_state.get("spec_text") or "") if "spec_text" in st.session_state else default_spec()
    except PlaygroundError:
        return st.session_state.get("builder_spec") or default_spec()


def dataset_model_builder(dataset: str, blocks_expanded: bool = True) -> str | None:
    meta = datasets.info(dataset)
    return model_builder(meta.input_shape, meta.num_classes, blocks_expanded)


def module_text(spec: str, input_shape: tuple[int, ...], num_classes: int) -> str:
    """The model as PyTorch prints it, built on the meta device (no memory)."""
    return "model = " + str(families.preview_model(spec, input_shape, num_classes))
