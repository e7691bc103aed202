"""The Class page's sections: the roster with each person's activity, join links for new students,
and the whole class's results for a setting or a lab step (a chart with outliers marked, a table,
a CSV file). Engine: playground.classroom.overview."""

from __future__ import annotations

import datetime as dt
import time

import altair as alt
import pandas as pd
import streamlit as st

from playground import jobs, settings
from playground.classroom import overview, roster
from playground.errors import PlaygroundError
from playground.labs import format as lab_format
from playground.wording import plural, sentence

ACTIVE_SECONDS = 120  # seen within this: "active now"
LOG_SETTINGS = ("lr", "weight_decay", "reg_rate")  # drawn on a log axis: they are tried in powers of ten
RESULT_SETTINGS = ("lr", "batch_size", "epochs", "model", "optimizer", "augment", "loss", "normalize", "weight_decay", "seed")


def _store():
    return jobs.manager().store  # the teacher's page: the whole store, checked by the page itself


def roster_section() -> None:
    rows = overview.roster_rows(_store())
    st.subheader("Roster")
    if not rows:
        st.info("Nobody on the roster yet: add students below, or `python -m playground class add-students NAMES`.")
        return
    now = time.time()
    df = pd.DataFrame(
        [
            {
                "name": r["name"],
                "role": r["role"],
                "runs": r["runs"],
                "training now": r["training"],
                "last seen": "active now"
                if r["last_seen"] and now - r["last_seen"] < ACTIVE_SECONDS
                else dt.datetime.fromtimestamp(r["last_seen"]).strftime("%m-%d %H:%M")
                if r["last_seen"]
                else "never",
                "lab step": r["lab"] or "",
                "signs in with": r["signs_in_with"],
            }
            for r in rows
        ]
    )
    students = df[df.role == "student"]
    st.caption(
        f"{plural(len(students), 'student')}: {int((students['last seen'] == 'active now').sum())} active now, "
        f"{plural(int(students['training now'].sum()), 'run')} queued or training."
    )
    st.dataframe(df, hide_index=True, width="stretch")


def add_students_section() -> None:
    with st.expander("Add students (join links)", icon=":material/person_add:"):
        names = st.text_area("Names, separated by commas or one per line", key="class_new_names", placeholder="Ada Lovelace, Alan Turing")
        base = st.text_input("The app's address as students reach it", value=_base_url(), key="class_url")
        if st.button("Make their links", icon=":material/link:", key="class_make_links"):
            try:
                made = roster.add(_store(), roster.names_from(names.replace("\n", ",")))
            except PlaygroundError as e:
                st.error(sentence(str(e)), icon=":material/error:")
                return
            links = pd.DataFrame([{"name": p.name, "link": roster.link(base, t)} for p, t in made])
            st.session_state.class_links = links.to_csv(index=False)
            st.success(f"{plural(len(made), 'link')} made. Each is shown once: download them now. A name already there got a new link.")
            st.dataframe(links, hide_index=True, width="stretch")
        if st.session_state.get("class_links"):
            st.download_button(
                "Download the links (CSV)", st.session_state.class_links, "join-links.csv", "text/csv", key="class_links_csv"
            )


def _base_url() -> str:
    url = str(st.context.url or "http://localhost:8501")
    return url.split("/class")[0].split("?")[0].rstrip("/")


def results_section() -> None:
    st.subheader("The class's results")
    store = _store()
    by = st.radio("Results of", ["a setting", "a lab step"], horizontal=True, key="class_by")
    run_ids, setting = None, None
    c = st.columns(3)
    if by == "a lab step":
        titles = lab_format.titles()
        if not titles:
            st.info("No labs here.")
            return
        lab = c[0].selectbox("Lab", list(titles), format_func=titles.get, key="class_lab")
        step = c[1].number_input("Step", 1, 100, 1, key="class_lab_step")
        run_ids = overview.lab_step_runs(store, lab, int(step))
    setting = (c[2] if by == "a lab step" else c[0]).selectbox(
        "Setting on the x axis", RESULT_SETTINGS, format_func=_label, key="class_setting"
    )
    rows = overview.results(store, setting, run_ids=run_ids)
    datasets_seen = sorted({r["dataset"] for r in rows})
    if len(datasets_seen) > 1:
        chosen = (c[1] if by == "a setting" else st).selectbox("Dataset", datasets_seen, key="class_dataset")
        rows = [r for r in rows if r["dataset"] == chosen]
    if not rows:
        st.info("No finished student runs here yet.", icon=":material/hourglass_empty:")
        return
    alike, others = _measured_alike(rows)
    df = pd.DataFrame(alike)
    st.altair_chart(_results_chart(df, setting), width="stretch")
    outliers = df[df.outlier != ""]
    st.caption(
        f"{plural(len(df), 'run')} of {plural(df.student.nunique(), 'student')}, each measured {alike[0]['measured_on']}. "
        + (
            f"Outliers (outside 1.5 IQR of their value's runs): {', '.join(f'{r.student} (run {r.run})' for r in outliers.itertuples())}."
            if len(outliers)
            else "No outliers."
        )
        + (f" {plural(others, 'other run')} measured otherwise: choose them above." if others else "")
    )
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        column_config={
            "test_accuracy": st.column_config.NumberColumn("test accuracy", format="percent"),
            "test_examples": st.column_config.NumberColumn("test examples", help="The test images (points) it was evaluated on"),
            "measured_on": "measured",
            "training_images": "training images",
        },
    )
    csv = df.to_csv(index=False, float_format="%.6g")  # 0.8123, not float32's 0.8122999668121338
    st.download_button("Download as CSV", csv, f"class-{setting}.csv", "text/csv", key="class_csv")


def _measured_alike(rows: list[dict]) -> tuple[list[dict], int]:
    """The rows of one group measured alike (after the same epochs, on the same test images: only
    their accuracies compare), the teacher choosing which when there are several; and how many
    rows the other groups hold."""
    groups = overview.comparable(rows)
    if len(groups) == 1:
        return rows, 0
    chosen = st.selectbox(
        "Compare the runs measured",
        list(groups),
        format_func=lambda g: f"{g} ({plural(len(groups[g]), 'run')})",
        key="class_measured",
        help="A test accuracy after 2 epochs and one after 5, or one on the first half of the test set and one on all of it, "
        "are not the same measurement: the chart, the outliers and the table take one group at a time.",
    )
    return groups[chosen], len(rows) - len(groups[chosen])


def _results_chart(df: pd.DataFrame, setting: str) -> alt.Chart:
    numeric = pd.api.types.is_numeric_dtype(df["value"]) and setting not in ("seed",)
    label = _label(setting)
    if numeric:
        x = alt.X(
            "value:Q",
            title=label,
            scale=alt.Scale(type="log") if setting in LOG_SETTINGS and (df.value > 0).all() else alt.Scale(zero=False),
        )
    else:
        x = alt.X("value:N", title=label)
    df = df.assign(mark=df.outlier.map({"": "run", "low": "outlier (low)", "high": "outlier (high)"}))
    color = alt.Color(
        "mark:N", title=None, scale=alt.Scale(domain=["run", "outlier (low)", "outlier (high)"], range=["#1f77b4", "#d62728", "#ff7f0e"])
    )
    return (
        alt.Chart(df)
        .mark_circle(size=70, opacity=0.8)
        .encode(
            x=x,
            y=alt.Y("test_accuracy:Q", title="test accuracy", axis=alt.Axis(format="%")),
            color=color,
            tooltip=[
                "student",
                "run",
                alt.Tooltip("value", title=label),
                alt.Tooltip("test_accuracy:Q", format=".1%"),
                "epochs",
                alt.Tooltip("test_examples", title="test examples"),
            ],
        )
        .properties(height=320)
    )


def _label(setting: str) -> str:
    return settings.SETTINGS[setting].label or setting.replace("_", " ")
