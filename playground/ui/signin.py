"""Class mode's sign-in, before any page runs: st.login (OIDC) where .streamlit/secrets.toml has an
[auth] section, personal join links (?join=TOKEN) otherwise. Laptop mode signs nobody in.

A join link's token leaves the address bar at once (it must never reach a shared link of the
settings) and is kept in a cookie of this site (SameSite=Strict), so a reload or a second tab stays
signed in until Sign out."""

from __future__ import annotations

import json

import streamlit as st

from playground import jobs
from playground.classroom import config as class_config
from playground.classroom import roster
from playground.classroom.access import Viewer
from playground.errors import PlaygroundError
from playground.ui import me
from playground.wording import sentence

PARAM = "join"  # the join link's query parameter
COOKIE = "playground_join"
COOKIE_DAYS = 120  # a term
SIGNED_OUT = "signed_out"  # session key: Sign out was pressed in this session


def gate() -> None:
    """Make sure the session has a viewer; otherwise show the sign-in page and stop."""
    try:
        config = class_config.current()
    except PlaygroundError as e:  # the teacher's class file is broken: say so to everyone, run nothing
        st.error(sentence(str(e)), icon=":material/error:")
        st.stop()
    if config is None:
        st.session_state.pop(me.KEY, None)
        return
    store = jobs.manager().store
    person, token = None, st.query_params.get(PARAM)
    if token is not None:
        del st.query_params[PARAM]  # out of the address bar before anything can copy it
        person = roster.by_token(store, token)
        if person is not None:
            _remember(token)
            st.session_state.pop(SIGNED_OUT, None)
        st.session_state.join_failed = person is None
    if person is None and st.session_state.get(SIGNED_OUT):
        _signed_out_page(config)
    if person is None and me.KEY in st.session_state:  # a bad link does not sign out whoever is signed in here
        person = roster.by_owner(store, me.viewer().owner)  # still on the roster (a wiped class signs everyone out)
    elif person is None:
        person = _from_login(store, config) or roster.by_token(store, st.context.cookies.get(COOKIE) or "")
    if person is None:
        st.session_state.pop(me.KEY, None)
        _page(config)
        st.stop()
    if st.session_state.pop("join_failed", False):
        st.warning(f"That join link is not (or no longer) valid; you are still signed in as {person.name}.", icon=":material/link_off:")
    st.session_state[me.KEY] = Viewer(person.owner, person.name, person.teacher)
    roster.seen(store, person)


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all (Streamlit raises its own error type)
        return False


def _from_login(store, config: class_config.ClassConfig) -> roster.Person | None:
    if not _auth_configured() or not st.user.is_logged_in:
        return None
    email = str(st.user.get("email") or "")
    # an address the provider says is not verified could be anyone's (a teacher's): refused; a provider
    # that does not send the claim (Microsoft) is trusted with its addresses
    if "@" not in email or st.user.get("email_verified") is False:
        st.session_state.login_refused = email or "(no e-mail)"
        return None
    return roster.by_login(store, email, str(st.user.get("name") or ""), email.lower() in config.teachers)


def _remember(token: str) -> None:
    secure = "; Secure" if str(st.context.url or "").startswith("https:") else ""
    value = json.dumps(f"{COOKIE}={token}; path=/; max-age={COOKIE_DAYS * 86400}; SameSite=Strict{secure}")
    st.html(f"<script>document.cookie = {value};</script>", unsafe_allow_javascript=True)


def sign_out() -> None:
    """The Sign out button's callback: this session is signed out from now on. The page run that
    follows (gate) clears the cookie in the browser and shows the sign-in page; the cookie this session
    read when it connected is not trusted again, only a new join link or a school sign-in."""
    st.session_state.pop(me.KEY, None)
    st.session_state[SIGNED_OUT] = True


def _signed_out_page(config: class_config.ClassConfig) -> None:
    value = json.dumps(f"{COOKIE}=; path=/; max-age=0; SameSite=Strict")
    st.html(f"<script>document.cookie = {value};</script>", unsafe_allow_javascript=True)
    if _auth_configured() and st.user.is_logged_in:
        st.logout()
    st.success("You are signed out. This browser no longer opens your work until you sign in again.", icon=":material/logout:")
    _page(config)
    st.stop()


def _page(config: class_config.ClassConfig) -> None:
    st.title(config.name)
    st.write("This playground is a class server: each student trains in their own space.")
    if st.session_state.get("join_failed"):
        st.error(
            "That join link is not (or no longer) valid. Ask your teacher for your personal link: "
            "`python -m playground class add-students YOUR NAME` prints a new one.",
            icon=":material/link_off:",
        )
    if refused := st.session_state.get("login_refused"):
        st.error(f"Your school account {refused} has no verified e-mail address: ask your teacher.", icon=":material/error:")
    if _auth_configured():
        st.button("Sign in with your school account", icon=":material/login:", on_click=st.login, type="primary")
        st.caption("Or open the personal join link your teacher gave you.")
    else:
        st.info("Open the personal join link your teacher gave you to sign in.", icon=":material/key:")
