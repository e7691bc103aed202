"""The class challenge in the app: the teacher sets it on the Class page, a student enters the Train
page's settings with one button there, and the Challenge page shows their entries and, when the
teacher shows it (the teacher always), the leaderboard on the hidden part of the test set.
Engine: playground.classroom.challenge."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from playground import datasets, jobs
from playground.classroom import challenge, roster
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.ui import me
from playground.wording import plural, sentence

ACCURACIES = {  # the entries' columns as students read them
    "public_accuracy": st.column_config.NumberColumn("public test accuracy", format="percent"),
    "hidden_accuracy": st.column_config.NumberColumn("hidden test accuracy", format="percent"),
}


def _store():
    return jobs.manager().store  # entries and scores are the class's; each view below filters by viewer


def current() -> challenge.Challenge | None:
    """The class's challenge (class mode only)."""
    return challenge.current(_store()) if me.viewer().owner else None


def enter_button(config: TrainConfig | None) -> None:
    """On the Train page: enter these settings in the open challenge (a student's entry is theirs)."""
    ch = current()
    if ch is None or not ch.open:
        return
    label = f"Enter the challenge “{ch.title}”"
    help_text = f"Trains these settings as an entry: scored on the public half of the test set; the leaderboard uses the hidden half. Budget: {plural(ch.max_epochs, 'epoch')}, {plural(ch.max_params, 'parameter')}."
    if st.button(label, icon=":material/emoji_events:", disabled=config is None, help=help_text, key="challenge_enter"):
        try:
            job = challenge.enter(me.jobs(), ch, config)
        except PlaygroundError as e:
            st.error(sentence(str(e)), icon=":material/block:")
            return
        st.session_state.run_id, st.session_state.cached_run = job.run_id, job.run_id if job.cached else None
        st.toast(f"Entered as run {job.run_id}: its test accuracy is on the public half of the test set.", icon=":material/emoji_events:")


def as_run_shown(run_id: int, config: TrainConfig | None) -> TrainConfig | None:
    """The form's settings as the run shown under it was asked for: a challenge entry trains them on
    the public half of the test set (a test limit the form does not show), so an entry of the form's
    settings is not one whose settings differ from the form's."""
    if config is None or not me.viewer().owner:  # a laptop has no challenge
        return config
    ch = challenge.entered_in(_store(), run_id)
    return config if ch is None else challenge.as_entry(ch, config)


def teacher_section() -> None:
    """On the Class page: set a challenge, show or hide its leaderboard, close it."""
    st.subheader("Challenge")
    store, ch = _store(), challenge.current(_store())
    if ch is not None:
        c = st.columns(2)
        shown = c[0].toggle("Students see the leaderboard", value=ch.board_shown, key=f"challenge_shown_{ch.id}")
        is_open = c[1].toggle("Open for entries", value=ch.open, key=f"challenge_open_{ch.id}")
        if (shown, is_open) != (ch.board_shown, ch.open):
            challenge.update(store, ch, shown, is_open)
            ch = challenge.current(store)
        board(ch)
    with st.expander("Set a new challenge" if ch else "Set a challenge", icon=":material/emoji_events:", expanded=ch is None):
        images = [n for n in datasets.REGISTRY if not datasets.info(n).is_toy]
        title = st.text_input("Title", "Best Fashion-MNIST classifier", key="challenge_title")
        c = st.columns(3)
        dataset = c[0].selectbox("Dataset", images, format_func=lambda n: datasets.info(n).title, key="challenge_dataset")
        epochs = c[1].number_input("Epochs at most", 1, 1000, 5, key="challenge_epochs")
        params = c[2].number_input("Parameters at most", 1, 100_000_000, 200_000, step=10_000, key="challenge_params")
        if st.button(
            "Start this challenge", icon=":material/flag:", key="challenge_start", help="Starting a new challenge closes the one before it."
        ):
            try:
                challenge.create(store, title, dataset, int(epochs), int(params))
            except PlaygroundError as e:
                st.error(sentence(str(e)), icon=":material/error:")
                return
            st.rerun()


def board(ch: challenge.Challenge) -> None:
    """The leaderboard (each student's best entry by its hidden accuracy), scoring new entries first."""
    store = _store()
    with st.spinner("Scoring new entries on the hidden part of the test set..."):
        challenge.score_pending(store, ch)
    names = {p.owner: p.name for p in roster.everyone(store) if not p.teacher}
    rows = challenge.leaderboard(store, ch, names)
    st.caption(
        f"**{ch.title}** on {datasets.info(ch.dataset).title}: at most {plural(ch.max_epochs, 'epoch')} and {plural(ch.max_params, 'parameter')}. "
        f"Ranked on the hidden {datasets.info(ch.dataset).test_size - ch.public_size:,} test images; "
        + ("open for entries." if ch.open else "closed.")
    )
    if not rows:
        st.info("No scored entries yet.", icon=":material/hourglass_empty:")
        return
    df = pd.DataFrame(rows)
    st.dataframe(df, hide_index=True, width="stretch", column_config=ACCURACIES)
    if me.viewer().teacher:
        st.download_button("Download the leaderboard (CSV)", df.to_csv(index=False), "leaderboard.csv", "text/csv", key="challenge_csv")


def page() -> None:
    """The Challenge page: the rules, the viewer's entries, the leaderboard when it is shown."""
    ch = current()
    st.title("Challenge")
    if ch is None:
        st.info("Your teacher has not set a challenge.", icon=":material/hourglass_empty:")
        return
    st.write(
        f"**{ch.title}** on {datasets.info(ch.dataset).title}. Budget: at most {plural(ch.max_epochs, 'epoch')} and "
        f"{plural(ch.max_params, 'trainable parameter')}. Tune on the Train page, then press **Enter the challenge** there. Your score is the test "
        f"accuracy on the public half of the test set ({ch.public_size:,} images); the leaderboard ranks everyone on the "
        "other half, which no run ever sees."
    )
    st.page_link("app_pages/train.py", label="Go to the Train page", icon=":material/model_training:")
    mine = challenge.entries(_store(), ch, owner=me.viewer().owner)
    st.subheader("Your entries")
    if mine:
        df = pd.DataFrame(mine)[["run", "status", "public_accuracy"]]
        st.dataframe(df, hide_index=True, width="stretch", column_config=ACCURACIES)
    else:
        st.caption("None yet.")
    st.subheader("Leaderboard")
    if ch.board_shown or me.viewer().teacher:
        board(ch)
    else:
        st.info("Your teacher shows the leaderboard later.", icon=":material/visibility_off:")
