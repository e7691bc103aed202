import pytest

from playground import families, specs
from playground.errors import PlaygroundError
from playground.families import build_model
from playground.models import count_params
from playground.specs import Layer, SpecError, parse


def params(spec: str, shape=(1, 28, 28), classes=10) -> int:
    return count_params(build_model(spec, shape, classes))


def test_tokens_parse_with_defaults():
    assert parse("fc512 relu") == [Layer("fc", units=512), Layer("relu")]
    assert parse("conv32k3p1") == [Layer("conv", units=32, kernel=3, stride=1, padding=1)]
    assert parse("conv6k5")[0] == Layer("conv", units=6, kernel=5)
    assert parse("conv8")[0] == Layer("conv", units=8, kernel=3)  # kernel 3 by default
    assert parse("conv8k3s2p1")[0] == Layer("conv", units=8, kernel=3, stride=2, padding=1)
    assert parse("pool2 avgpool3 bn drop0.25") == [
        Layer("pool", kernel=2),
        Layer("avgpool", kernel=3),
        Layer("bn"),
        Layer("drop", prob=0.25),
    ]
    assert [layer.kind for layer in parse("relu leakyrelu tanh sigmoid gelu")] == list(specs.ACTIVATIONS)


def test_separators_case_and_canonical_form():
    assert families.normalize("  FC512,ReLU ,, fc512   RELU ") == "fc512 relu fc512 relu"
    assert families.normalize("conv8K3S1P0 Drop.5") == "conv8k3 drop0.5"
    for preset in families.PRESETS.values():
        assert families.normalize(families.normalize(preset.spec)) == families.normalize(preset.spec)
    assert parse("") == [] and families.normalize(" , ") == ""


@pytest.mark.parametrize(
    "spec, bad, expected",
    [
        ("fc512 relu fcx", "fcx", "fc<N>"),
        ("conv32k", "conv32k", "conv<C>[k<K>][s<S>][p<P>]"),
        ("fc10 drop1.5", "drop1.5", "drop<P>"),
        ("fc10 softmax", "softmax", "unknown layer"),
        ("pool", "pool", "pool<K>"),
        ("fc0", "fc0", "1 to"),
        ("conv4k0", "conv4k0", "kernel size"),
        ("conv4s0", "conv4s0", "stride"),
        ("fc1e9", "fc1e9", "fc<N>"),
        ("__import__('os')", "__import__('os')", "unknown layer"),
    ],
)
def test_malformed_spec_names_the_token_and_what_was_expected(spec, bad, expected):
    with pytest.raises(SpecError) as e:
        parse(spec)
    assert f"'{bad}'" in str(e.value) and expected in str(e.value)
    assert isinstance(e.value, PlaygroundError)


def test_position_in_the_error():
    with pytest.raises(SpecError, match=r"token 3 of 4"):
        parse("fc8 relu fc8x relu")


def test_course_parameter_counts():
    assert params(families.PRESETS["base"].spec) == 669_706  # quickstart MLP
    assert params(families.PRESETS["wider"].spec) == 1_557_330  # 784-1024-728-10
    assert params(families.PRESETS["cnn"].spec) == 1_475_338  # the course's small CNN
    assert params(families.PRESETS["lenet"].spec, (3, 32, 32)) == 62_006  # CIFAR-10 LeNet
    assert params("", (3, 32, 32)) == 30_730  # one linear layer on CIFAR-10
    assert params("fc120 relu fc84 relu", (3, 32, 32)) == 379_774
    assert params("fc120 fc84", (3, 32, 32)) == 379_774  # same count without the non-linearity


def test_presets_resolve_by_name():
    assert families.resolve("base") == "fc512 relu fc512 relu"
    assert families.resolve("BASE") == families.resolve("fc512 relu fc512 relu")
    assert families.resolve("linear") == ""


def test_mlp_spec_builder():
    assert specs.mlp_spec(2, 512) == "fc512 relu fc512 relu"
    assert specs.mlp_spec(1, 64, "tanh", 0.2, True) == "fc64 bn tanh drop0.2"
    assert specs.mlp_spec(0, 64) == ""
