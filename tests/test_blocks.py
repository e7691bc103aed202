import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground import blocks, families, specs
from playground.blocks import Blocks, ConvBlock, FcBlock, to_spec
from playground.families import from_spec


@pytest.mark.parametrize("name", [n for n in families.PRESETS if n != "resnet18"])  # torchvision's network: no blocks
def test_every_preset_has_a_block_form_that_gives_it_back(name):
    spec = families.resolve(name)
    b, reason = from_spec(spec)
    assert b is not None, reason
    assert to_spec(b) == spec


conv_blocks = st.builds(
    ConvBlock, st.integers(1, 64), st.integers(1, 7), st.integers(1, 3), st.integers(0, 3), st.booleans(), st.sampled_from(blocks.POOLS)
)
fc_blocks = st.builds(FcBlock, st.integers(1, 2048), st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.5]))


@settings(max_examples=200, deadline=None)
@given(conv=st.lists(conv_blocks, max_size=4), fc=st.lists(fc_blocks, max_size=4), act=st.sampled_from((*specs.ACTIVATIONS, "none")))
def test_blocks_round_trip_through_the_spec(conv, fc, act):
    original = Blocks(conv, fc, act if conv or fc else "relu")
    spec = to_spec(original)
    assert spec == families.normalize(spec)
    back, reason = from_spec(spec)
    assert back == original, reason


@pytest.mark.parametrize(
    "spec, reason",
    [
        ("fc8 relu tanh", "'tanh' does not follow"),
        ("fc8 relu fc8 tanh", "mixes activations"),
        ("fc8 relu fc8", "some layers have an activation"),
        ("fc8 conv4", "a conv layer after fc layers"),
        ("conv4 pool5", "pooling by 2, 3 or 4"),
        ("relu fc8", "'relu' does not follow"),
    ],
)
def test_specs_without_a_block_form_say_why(spec, reason):
    b, why = from_spec(spec)
    assert b is None and reason in why


def test_no_activation_is_a_choice():
    b, _ = from_spec("fc120 fc84")
    assert b.activation == "none" and [f.units for f in b.fc] == [120, 84]
