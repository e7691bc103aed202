"""Model families: each answer of the interface for each family, the dispatcher, and that no other
module tells the families apart by the text."""

import ast
from pathlib import Path

import pytest
import torch
from torch import nn

from playground import families, models, specs
from playground.errors import PlaygroundError
from playground.families import LAYERS, RESNET, family_of, layer_kinds
from playground.specs import Layer, SpecError
from playground.transfer import TransferSpec

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "text, family",
    [
        ("fc512 relu", LAYERS),
        ("", LAYERS),
        ("CONV8, relu pool2", LAYERS),
        ("mlp3", LAYERS),  # nobody else claims it: the layer parser names the bad token
        ("resnet18", RESNET),
        ("  ResNet18 scratch r64", RESNET),
        ("resnet50", RESNET),  # claimed, and refused by the ResNet family's parser
    ],
)
def test_family_of_picks_the_family_by_the_text(text, family):
    assert family_of(text) is family


def test_a_list_of_layers_is_a_layer_spec():
    assert family_of([Layer("fc", units=8)]) is LAYERS
    assert layer_kinds([Layer("fc", units=8), Layer("relu")]) == {"fc", "relu"}


def test_presets_come_from_the_families_in_order():
    assert list(families.PRESETS) == [p.name for f in families.FAMILIES for p in f.presets]
    assert list(families.PRESETS)[:6] == ["base", "wider", "deeper", "cnn", "lenet", "linear"]
    for family in families.FAMILIES:
        for preset in family.presets:
            assert family_of(preset.spec) is family
            assert families.resolve(preset.name) == family.canonical(preset.spec)
    assert families.PRESETS[families.DEFAULT_PRESET].spec == "fc512 relu fc512 relu"


# --- the layer family ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("CONV8, relu pool2 fc32 relu drop0.50", "conv8k3 relu pool2 fc32 relu drop0.5"),
        ("  fc512   RELU ", "fc512 relu"),
        ("", ""),
    ],
)
def test_layer_canonical_text_round_trips(text, canonical):
    assert LAYERS.canonical(text) == canonical == families.normalize(text)
    assert LAYERS.canonical(canonical) == canonical
    assert LAYERS.parse(text) == LAYERS.parse(canonical) == specs.parse(text)


def test_layer_parse_refuses_bad_text_with_the_token():
    with pytest.raises(SpecError, match=r"bad layer 'fc' \(token 2 of 2\): expected fc<N>"):
        LAYERS.parse("relu fc")
    with pytest.raises(SpecError, match="unknown layer"):
        families.normalize("mlp3")


def test_layer_build_preview_and_anatomy_agree():
    spec, shape = "conv4k3p1 bn relu pool2 fc16 relu drop0.5", (1, 28, 28)
    model = LAYERS.build(spec, shape, 10).eval()
    assert isinstance(model, nn.Sequential)
    assert model(torch.zeros(2, *shape)).shape == (2, 10)
    preview = LAYERS.preview(spec, shape, 10)
    assert next(preview.parameters()).is_meta
    table = LAYERS.anatomy(spec, shape, 10)
    assert table.trainable_params == models.count_params(model) == models.count_params(preview)
    assert [r.layer for r in table.rows][-1] == "Linear(16, 10)  (classifier)"
    assert families.anatomy(spec, shape, 10) == table


def test_layer_receptive_fields_blocks_and_kinds():
    spec = "conv8k3 relu pool2 conv8k3 relu pool2 fc32 relu"
    rows = LAYERS.receptive_fields(spec, (1, 28, 28), 10)
    assert [r.field for r in rows] == [3, 4, 8, 10]
    assert families.receptive_fields(spec, (1, 28, 28), 10) == rows
    b, reason = LAYERS.blocks(spec)
    assert reason == "" and len(b.conv) == 2 and len(b.fc) == 1 and b.activation == "relu"
    assert families.from_spec(spec) == (b, reason)
    assert LAYERS.blocks("relu relu") == (None, "'relu' does not follow a conv or fc layer in the block order")
    assert LAYERS.layers(spec) == specs.parse(spec)
    assert layer_kinds(spec) == {"conv", "relu", "pool", "fc"}
    assert layer_kinds("") == set()


# --- the ResNet family --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, canonical, parsed",
    [
        ("resnet18", "resnet18 r224", TransferSpec(pretrained=True, size=224)),
        ("ResNet18, scratch r64", "resnet18 scratch r64", TransferSpec(pretrained=False, size=64)),
    ],
)
def test_resnet_canonical_text_round_trips(text, canonical, parsed):
    assert RESNET.parse(text) == RESNET.parse(canonical) == parsed
    assert RESNET.canonical(text) == canonical == families.resolve(text)
    assert RESNET.canonical(canonical) == canonical


@pytest.mark.parametrize(
    "text, message",
    [
        ("resnet50", r"bad model 'resnet50': expected resnet18 \[scratch\] \[r<size>\]"),
        ("resnet18 r8", "resnet18 input size r8: use 32 to 512 pixels"),
    ],
)
def test_resnet_parse_refuses_bad_text(text, message):
    with pytest.raises(PlaygroundError, match=message):
        RESNET.parse(text)
    with pytest.raises(PlaygroundError, match=message):
        families.normalize(text)


def test_resnet_builds_without_downloading():
    model = RESNET.build("resnet18 r32", (1, 28, 28), 10, load_weights=False).eval()  # pretrained text, no weights loaded
    assert isinstance(model, nn.Sequential)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    preview = RESNET.preview("resnet18", (3, 32, 32), 7)
    assert next(preview.parameters()).is_meta and preview[1].fc.out_features == 7
    assert models.count_params(preview) == models.count_params(model) - 10 * 513 + 7 * 513
    with pytest.raises(PlaygroundError, match="1 or 3 channels, not toy points"):
        RESNET.preview("resnet18", (2,), 2)


def test_resnet_anatomy_is_counted_on_the_meta_device():
    table = RESNET.anatomy("resnet18 scratch r32", (1, 28, 28), 10)
    assert table.trainable_params == 11_181_642
    assert table.rows[0].layer == "input: ToResNetInput" and table.rows[0].output_shape == (3, 32, 32)
    assert table.rows[-1].layer == "fc: Linear  (new head)" and table.rows[-1].worked == "(512 + 1)*10 = 5,130"
    assert families.anatomy("resnet18", (1, 28, 28), 10).trainable_params == 11_181_642


def test_resnet_has_no_receptive_field_table_block_form_or_layers():
    with pytest.raises(PlaygroundError, match="ResNet-18's is 435x435 pixels"):
        RESNET.receptive_fields("resnet18", (3, 32, 32), 10)
    with pytest.raises(PlaygroundError, match="covers spec models"):
        families.receptive_fields("resnet18 r64", (3, 32, 32), 10)
    assert RESNET.blocks("resnet18") == (None, "ResNet-18 is torchvision's network, not a stack of blocks")
    assert families.from_spec("resnet18 scratch r64") == RESNET.blocks("resnet18")
    assert RESNET.layers("resnet18") is None and layer_kinds("resnet18 scratch") is None
    assert families.collapsed_linear("resnet18", (3, 32, 32), 10) is None


# --- no other module tells the families apart ---------------------------------------------------

FAMILY_HOMES = {"playground/transfer.py"}  # and everything under playground/families/


def _code_without_docstrings_or_comments(path: Path) -> str:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)  # comments are gone too


def _modules_outside_the_families() -> list[Path]:
    paths = sorted((ROOT / "playground").rglob("*.py")) + sorted((ROOT / "app_pages").glob("*.py"))
    return [p for p in paths if "families" not in p.relative_to(ROOT).parts and str(p.relative_to(ROOT)) not in FAMILY_HOMES]


def test_the_stripper_keeps_code_and_drops_docstrings_and_comments(tmp_path):
    f = tmp_path / "m.py"
    f.write_text('"""resnet doc"""\n\ndef g():\n    """resnet"""\n    return "ResNet-18"  # resnet\n')
    code = _code_without_docstrings_or_comments(f)
    assert code.lower().count("resnet") == 1 and "ResNet-18" in code


def test_no_module_outside_the_families_tests_for_a_resnet():
    modules = _modules_outside_the_families()
    assert len(modules) > 40 and ROOT / "playground" / "specs.py" in modules
    offenders = [
        f"{p.relative_to(ROOT)}: {word}"
        for p in modules
        for word in ("resnet", "parse_transfer")
        if word in _code_without_docstrings_or_comments(p).lower()
    ]
    assert not offenders, "ask families.family_of(text) instead: " + ", ".join(offenders)
