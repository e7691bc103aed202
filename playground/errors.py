"""The one exception type for mistakes a user can make or fix (bad spec, missing data, bad value).

The UI shows its message with st.error; the CLI prints it as one line on stderr and exits 2.
Anything else that escapes is a bug in the playground, not the user's fault.
"""


class PlaygroundError(Exception):
    """A problem the user can fix; the message says what to do."""
