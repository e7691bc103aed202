"""What one student may ask of a class server (class.toml): runs queued or training at once, and the
size of one run (training images x epochs, trainable parameters). Each refusal says what to change.
The teacher and laptop mode have no limits."""

from __future__ import annotations

from playground import datasets, families
from playground.classroom.config import ClassConfig
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.wording import plural


def check_size(config: TrainConfig, limits: ClassConfig) -> None:
    """PlaygroundError if one run is bigger than the class allows."""
    images = config.sizes.train
    work = images * config.epochs
    if work > limits.max_images_x_epochs:
        most = max(1, limits.max_images_x_epochs // images)
        raise PlaygroundError(
            f"this run trains on {plural(images, 'image')} x {plural(config.epochs, 'epoch')} = {work:,} image-epochs; your class allows "
            f"at most {limits.max_images_x_epochs:,} per run: use at most {plural(most, 'epoch')}, or fewer training images"
        )
    params = families.anatomy(config.model, config.input_shape, datasets.info(config.dataset).num_classes).trainable_params
    if params > limits.max_params:
        raise PlaygroundError(
            f"this model has {params:,} trainable parameters; your class allows at most {limits.max_params:,} per run: "
            "use fewer or narrower layers"
        )


def check_queue(queued_now: int, adding: int, limits: ClassConfig) -> None:
    """PlaygroundError if adding runs would pass the student's share of the queue."""
    if adding > limits.max_queued_runs:  # no wait would help: say so, and who can change it
        raise PlaygroundError(
            f"this asks for {adding} runs at once, more than the {limits.max_queued_runs} your class allows queued or training at once "
            "per student: ask for fewer runs (fewer values or seeds), or ask your teacher to raise max_queued_runs in class.toml"
        )
    if queued_now + adding > limits.max_queued_runs:
        free = max(0, limits.max_queued_runs - queued_now)
        raise PlaygroundError(
            f"your class allows {plural(limits.max_queued_runs, 'run')} queued or training at once per student and you have {queued_now}"
            + (f": this asks for {adding}, so {free} more can start now" if adding > 1 else "")
            + ": wait for one to finish, or stop one on the Runs page"
        )
