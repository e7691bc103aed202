"""Class page (the teacher's, in class mode): the roster and its activity, join links for new
students, and the whole class's results for one setting or one lab step."""

import streamlit as st

from playground.ui import challenge_view, class_view, me

viewer = me.viewer()
if not (viewer.owner and viewer.teacher):  # checked here, on the server: the page is not merely hidden
    st.error("This page is for the class's teacher.", icon=":material/lock:")
    st.stop()

st.title("Class")
class_view.roster_section()
class_view.add_students_section()
class_view.results_section()
challenge_view.teacher_section()
