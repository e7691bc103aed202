"""Who is using this browser session, and the run store and jobs as they see them
(playground.classroom.access). On a laptop: the one user, who sees everything. In class mode the
sign-in (playground.ui.signin) sets the viewer before any page runs."""

from __future__ import annotations

import streamlit as st

from playground import jobs as job_manager
from playground.classroom.access import LAPTOP, OwnJobs, Viewer
from playground.events import BY_USER
from playground.wording import sentence

KEY = "viewer"  # session_state: the signed-in Viewer


def viewer() -> Viewer:
    return st.session_state.get(KEY) or LAPTOP


def jobs() -> OwnJobs:
    """The job manager (and its .store) as this session's viewer sees it."""
    return OwnJobs(job_manager.manager(), viewer())


def stopped_message(run) -> str:
    """A stopped run's message as this viewer reads it, as a sentence: 'Stopped by you at step 83
    (epoch 2)' for the run's own user, 'Stopped by its student ...' for a teacher looking at a
    student's run, 'Stopped by the teacher (Tess) ...' as the stop recorded it."""
    who = viewer()
    own = not who.owner or not who.teacher or run.owner == who.owner
    return sentence(run.message.replace(BY_USER, "by you" if own else "by its student", 1))


def at_the_server() -> bool:
    """Whether the viewer works where the app runs: the laptop's one user, or a class's teacher. The
    server's folders and its command line mean something to them; to a student in class mode they
    mean nothing (and would show how the server is laid out), so the pages leave them out."""
    who = viewer()
    return not who.owner or who.teacher
