import pytest
import torch
from torch import nn

from playground import families
from playground.errors import PlaygroundError
from playground.families import build_model


def test_flatten_inserted_where_an_fc_meets_an_image():
    m = build_model("fc16 relu", (1, 28, 28), 10)
    assert isinstance(m[0], nn.Flatten) and m[1].in_features == 784
    m = build_model("conv4k3 pool2 fc8", (1, 28, 28), 10)
    assert [type(x) for x in m] == [nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear, nn.Linear]
    assert m[3].in_features == 4 * 13 * 13
    assert sum(isinstance(x, nn.Flatten) for x in build_model("fc8 fc8", (1, 28, 28), 10)) == 1


def test_batch_norm_follows_the_layer_kind():
    m = build_model("conv4 bn fc8 bn", (1, 28, 28), 10)
    assert isinstance(m[1], nn.BatchNorm2d) and m[1].num_features == 4
    assert isinstance(m[4], nn.BatchNorm1d) and m[4].num_features == 8


def test_empty_spec_is_one_linear_layer():
    m = build_model("", (1, 28, 28), 10)
    assert [type(x) for x in m] == [nn.Flatten, nn.Linear]


@pytest.mark.parametrize("name", [n for n in families.PRESETS if n != "resnet18"])  # resnet18 downloads weights: see below
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_every_preset_runs_forward(name, shape):
    m = build_model(families.PRESETS[name].spec, shape, 10).eval()
    assert m(torch.zeros(2, *shape)).shape == (2, 10)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("fc8 conv4", "put them before the fc layers"),
        ("conv4k30", "larger than its padded input"),
        ("pool4 pool4 pool4", "less than one pixel"),
    ],
)
def test_shapes_that_do_not_fit_are_refused(spec, message):
    with pytest.raises(PlaygroundError, match=message):
        build_model(spec, (1, 28, 28), 10)


def test_preview_counts_without_allocating():
    from playground.families import preview_model
    from playground.models import count_params

    m = preview_model("fc100000 fc100000", (1, 28, 28), 10)  # 10 billion parameters: 40 GB if real
    assert count_params(m) == 784 * 100_000 + 100_000 + 100_000 * 100_000 + 100_000 + 100_000 * 10 + 10
    assert next(m.parameters()).is_meta
    assert count_params(preview_model("fc512 relu fc512 relu", (1, 28, 28), 10)) == 669_706


def test_a_model_too_big_to_train_is_refused_with_its_size():
    from playground.families import preview_model
    from playground.models import check_size

    with pytest.raises(PlaygroundError, match=r"10,079,600,010 trainable parameters \(about 40.3 GB"):
        check_size(preview_model("fc100000 fc100000", (1, 28, 28), 10))


def test_resnet18_transfer_model_counts_and_trains(tiny_data):
    import torchinfo

    from playground.config import TrainConfig
    from playground.events import EndEvent
    from playground.families import anatomy
    from playground.train import train

    table = anatomy("resnet18 scratch r32", (1, 28, 28), 10)
    model = build_model("resnet18 scratch r32", (1, 28, 28), 10).eval()
    info = torchinfo.summary(model, input_size=(1, 1, 28, 28), verbose=0, device="cpu", mode="eval")
    assert table.trainable_params == info.trainable_params == 11_181_642
    assert table.mult_adds == info.total_mult_adds
    assert table.rows[-1].worked == "(512 + 1)*10 = 5,130" and table.rows[1].worked == "7*7*3*64 = 9,408"
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    config = TrainConfig(model="resnet18 scratch r32", epochs=1, batch_size=32, train_limit=64, test_limit=32, lr=0.01)
    end = list(train(config, tiny_data))[-1]
    assert isinstance(end, EndEvent) and end.status == "completed"


def test_pretrained_resnet18_offline_says_what_to_do(monkeypatch, tmp_path):
    import urllib.error

    import torchvision.models._api as api

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty weights cache

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no internet")

    monkeypatch.setattr(api, "load_state_dict_from_url", offline)
    with pytest.raises(PlaygroundError, match=r"could not be downloaded \(no internet\).*'resnet18 scratch r224'"):
        build_model("resnet18", (3, 32, 32), 10)
    assert families.resolve("resnet18") == "resnet18 r224"
    with pytest.raises(PlaygroundError, match="expected resnet18 \\[scratch\\]"):
        families.normalize("resnet50")
