"""Challenge page (class mode): the teacher's challenge, the viewer's entries, the leaderboard."""

from playground.ui import challenge_view

challenge_view.page()
