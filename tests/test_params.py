"""The parameter table against torch and torchinfo, over many generated specs and input shapes."""

import re

import pytest
import torch
import torchinfo
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from playground import datasets, families
from playground.errors import PlaygroundError
from playground.families import anatomy, build_model, collapsed_linear
from playground.params import parse_count
from playground.shapes import plan

SHAPES = sorted({d.input_shape for d in datasets.REGISTRY.values()} | {(1, 28, 28), (3, 32, 32), (1, 8, 8), (3, 64, 48)})


def _conv_layer():
    conv = st.builds(
        lambda C, k, s, p: f"conv{C}k{k}s{s}p{p}",
        st.integers(1, 12),
        st.integers(1, 5),
        st.integers(1, 3),
        st.integers(0, 2),
    )
    pool = st.builds(lambda kind, k: f"{kind}{k}", st.sampled_from(["pool", "avgpool"]), st.integers(2, 3))
    extra = st.sampled_from(["bn", "relu", "tanh", "gelu", "drop0.1"])
    return st.one_of(conv, conv, pool, extra)


def _fc_layer():
    return st.one_of(st.builds(lambda n: f"fc{n}", st.integers(1, 40)), st.sampled_from(["bn", "relu", "sigmoid", "leakyrelu", "drop0.5"]))


spec_strategy = st.builds(
    lambda conv, fc: " ".join(conv + fc),
    st.lists(_conv_layer(), max_size=5),
    st.lists(_fc_layer(), max_size=4),
)


def _torchinfo(model, shape):
    return torchinfo.summary(model, input_size=(1, *shape), verbose=0, mode="eval", device="cpu")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=spec_strategy, shape=st.sampled_from(SHAPES), classes=st.integers(2, 12))
def test_every_number_equals_torch_and_torchinfo(spec, shape, classes):
    try:
        table = anatomy(spec, shape, classes)
    except PlaygroundError:
        assume(False)  # a spec that does not fit its input is refused, as build_model refuses it
    model = build_model(spec, shape, classes).eval()
    assert len(table.rows) == len(model)
    x = torch.zeros(1, *shape)
    for row, module in zip(table.rows, model):
        x = module(x)
        assert row.output_shape == tuple(x.shape[1:]), row.layer
        assert row.params == sum(p.numel() for p in module.parameters() if p.requires_grad), row.layer
        stats = sum(b.numel() for name, b in module.named_buffers() if name.startswith("running_"))
        assert row.buffers == stats, row.layer
        if row.params:  # the worked arithmetic is true arithmetic
            lhs, rhs = row.worked.split(" = ")
            assert eval(lhs) == row.params == int(rhs.replace(",", ""))
    assert table.trainable_params == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert table.rows[-1].total == table.trainable_params
    info = _torchinfo(model, shape)
    assert (table.total_params, table.trainable_params) == (info.total_params, info.trainable_params)
    assert table.mult_adds == info.total_mult_adds
    assert table.param_bytes == info.total_param_bytes


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(families.PRESETS))
def test_presets_on_every_input_shape(name, shape):
    spec = families.PRESETS[name].spec
    try:
        table = anatomy(spec, shape, 10)
    except PlaygroundError:
        with pytest.raises(PlaygroundError):
            build_model(spec, shape, 10, load_weights=False)
        return
    model = build_model(spec, shape, 10, load_weights=False)
    assert table.trainable_params == _torchinfo(model.eval(), shape).trainable_params


def test_the_course_numbers():
    assert anatomy("fc512 relu fc512 relu", (1, 28, 28), 10).trainable_params == 669_706
    assert anatomy("fc1024 relu fc728 relu", (1, 28, 28), 10).trainable_params == 1_557_330
    assert anatomy("", (3, 32, 32), 10).trainable_params == 30_730
    assert anatomy("fc120 relu fc84 relu", (3, 32, 32), 10).trainable_params == 379_774
    assert anatomy(families.PRESETS["lenet"].spec, (3, 32, 32), 10).trainable_params == 62_006
    cnn = anatomy(families.PRESETS["cnn"].spec, (1, 28, 28), 10)
    assert cnn.trainable_params == 1_475_338
    first_conv, first_bn = cnn.rows[0], cnn.rows[1]
    assert first_conv.formula == "(k*k*C_in + 1)*C_out"
    assert first_conv.worked == "(3*3*1 + 1)*32 = 320"
    assert first_conv.output_shape == (32, 28, 28)
    assert (first_bn.params, first_bn.worked, first_bn.buffers) == (64, "2*32 = 64", 64)
    assert cnn.running_stats == 2 * 32 + 2 * 64
    linear = next(r for r in cnn.rows if r.layer.startswith("Linear(2304"))
    assert linear.worked == "(2304 + 1)*600 = 1,383,000"
    assert cnn.rows[-1].layer.endswith("(classifier)")


def test_metadata_only_needs_no_files(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))  # an empty home: no dataset files anywhere
    for info in datasets.REGISTRY.values():
        spec = "fc32 relu" if info.is_toy else "conv8k3 relu pool2 fc32"
        assert anatomy(spec, info.input_shape, info.num_classes).trainable_params > 0
    assert not any(tmp_path.iterdir())


def test_plan_matches_build_model_module_by_module():
    steps = plan("conv4k3 bn relu pool2 fc8 bn drop0.2", (3, 32, 32), 5)
    model = build_model("conv4k3 bn relu pool2 fc8 bn drop0.2", (3, 32, 32), 5)
    assert [s.module for s in steps] == [type(m).__name__ for m in model]
    assert [s.label.split("(")[0] for s in steps] == [type(m).__name__ for m in model]
    assert steps[0].label == "Conv2d(3, 4, kernel_size=3)"


@pytest.mark.parametrize("text, value", [("401920", 401920), ("401,920", 401920), (" 401 920 ", 401920), ("1_000", 1000), ("", None)])
def test_student_answers_are_read_leniently(text, value):
    assert parse_count(text) == value


def test_a_non_number_answer_is_an_error():
    with pytest.raises(ValueError, match="not a whole number"):
        parse_count("about 400k")


def test_json_shape():
    d = anatomy("conv2k3 bn fc4", (1, 8, 8), 3).to_dict()
    assert set(d["layers"][0]) >= {"layer", "output_shape", "params", "formula", "worked"}
    assert d["total_params"] == d["trainable_params"] == sum(r["params"] for r in d["layers"])
    assert re.fullmatch(r"\(3\*3\*1 \+ 1\)\*2 = 20", d["layers"][0]["worked"])


def test_a_stack_without_non_linearity_collapses_to_one_linear_map():
    layers, n, worked = collapsed_linear("fc120 fc84", (3, 32, 32), 10)
    assert (layers, n, worked) == (3, 30_730, "(3072 + 1)*10 = 30,730")
    assert anatomy("fc120 fc84", (3, 32, 32), 10).trainable_params == 379_774
    assert collapsed_linear("fc120 relu fc84", (3, 32, 32), 10) is None
    assert collapsed_linear("conv4 pool2 fc8", (1, 28, 28), 10) is None  # max-pooling is not linear
    assert collapsed_linear("", (1, 28, 28), 10) is None  # already one layer
    # the collapse is real: the product of the weight matrices is one matrix of that size
    import torch

    model = build_model("fc120 fc84", (3, 32, 32), 10).eval()
    x = torch.randn(5, 3, 32, 32)
    W = model[3].weight @ model[2].weight @ model[1].weight
    b = model[3].weight @ (model[2].weight @ model[1].bias + model[2].bias) + model[3].bias
    assert torch.allclose(model(x), x.flatten(1) @ W.T + b, atol=1e-4)
