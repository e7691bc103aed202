"""Class mode's sign-in through Streamlit's own st.login, in a real browser, offline: a local OIDC
provider (oidc-provider-mock, on a free port in a thread of this process) is the "school account".

Ann and Tess each sign in from their own browser context: the sign-in page's button, the provider's
authorize page (the subject typed in; its claims, e-mail and name, were set beforehand with the
mock's PUT /users/SUB), and back in the app. Ann is a student on the roster by her e-mail, and a
reload keeps her st.login session; Tess, an e-mail of class.toml's `teachers`, gets the Class page.
The secrets file with [auth] lives in a temporary folder, handed to Streamlit with
--secrets.files (never in the repo's .streamlit). Screenshots: tests/artifacts/login-*.png."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import urllib.request

import pytest

NEEDED = {"authlib": "Authlib", "httpx": "httpx", "oidc_provider_mock": "oidc-provider-mock"}  # module: its PyPI package
MISSING = [package for module, package in NEEDED.items() if importlib.util.find_spec(module) is None]
if MISSING:
    if os.environ.get("PLAYGROUND_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"PLAYGROUND_REQUIRE_BROWSER=1 but {', '.join(MISSING)} is missing: pip install -r requirements-dev.txt")
    pytest.skip(f"install {', '.join(MISSING)} (requirements-dev.txt) to run the st.login test", allow_module_level=True)

from tests.browser import (  # noqa: E402, F401 (pytest fixtures, found by name)
    _free_port,
    browser,
    expect,
    shot,
    store_of,
    streamlit_app,
)

pytestmark = [  # the mock uses Authlib's older APIs
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),
    pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning"),
]

TEACHER = "tess@school.edu"
PEOPLE = {"ann@school.edu": "Ann Lee", TEACHER: "Tess Hall"}


@pytest.fixture(scope="module")
def provider():
    """The local OIDC provider's address, its users' claims set (what a school's provider knows)."""
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=0) as srv:
        url = f"http://localhost:{srv.server_port}"
        for email, name in PEOPLE.items():
            body = json.dumps({"email": email, "email_verified": True, "name": name}).encode()
            request = urllib.request.Request(f"{url}/users/{email}", data=body, method="PUT", headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10)
        yield url


@pytest.fixture(scope="module")
def login_server(provider, tmp_path_factory):
    """`streamlit run` in class mode with st.login's [auth] secrets pointing at the provider."""
    from tests.conftest import write_tiny_fashion

    home = tmp_path_factory.mktemp("login-home")
    write_tiny_fashion(home / "data" / "FashionMNIST" / "raw")  # the Train page, shown once signed in, reads it
    (home / "class.toml").write_text(f'name = "DL 101"\nteachers = ["{TEACHER}"]\nworkers = 1\n')
    port = _free_port()
    url = f"http://localhost:{port}"
    secrets_file = tmp_path_factory.mktemp("login-secrets") / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "playground"\n'
        'client_secret = "not-a-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    with streamlit_app(home, tmp_path_factory.mktemp("login-log") / "streamlit.log", port, ("--secrets.files", str(secrets_file))) as url:
        yield url


def _sign_in(page, server: str, email: str) -> None:
    """From the app's sign-in page through the provider's authorize page and back."""
    if not page.url.startswith(server):
        page.goto(server)
    page.get_by_role("button", name="Sign in with your school account").click(timeout=60_000)
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.get_by_placeholder("sub").fill(email)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(f"{server}/**", timeout=30_000)
    expect(page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {PEOPLE[email]}")).to_be_visible(timeout=60_000)


def test_st_login_signs_students_and_teachers_in(login_server, browser):
    from playground.classroom import roster

    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    ann, tess = (c.new_page() for c in contexts)
    try:
        ann.goto(login_server)
        expect(ann.get_by_role("button", name="Sign in with your school account")).to_be_visible(timeout=60_000)
        assert ann.get_by_role("button", name="Train", exact=True).count() == 0
        _sign_in(ann, login_server, "ann@school.edu")
        sidebar = ann.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Signed in as Ann Lee (student)")).to_be_visible()
        assert ann.get_by_test_id("stSidebarNav").get_by_role("link", name="Class").count() == 0
        people = {p.login: p for p in roster.everyone(store_of(login_server))}
        assert (people["ann@school.edu"].name, people["ann@school.edu"].role) == ("Ann Lee", "student")
        ann.reload()  # st.login's cookie keeps her signed in: the Train page, not the sign-in page (titled DL 101)
        expect(ann.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=60_000)
        expect(sidebar.get_by_text("Signed in as Ann Lee (student)")).to_be_visible(timeout=60_000)
        assert ann.get_by_role("button", name="Sign in with your school account").count() == 0
        shot(ann, "login-student")

        _sign_in(tess, login_server, TEACHER)
        expect(tess.get_by_test_id("stSidebar").get_by_text("Signed in as Tess Hall (teacher)")).to_be_visible()
        expect(tess.get_by_test_id("stSidebarNav").get_by_role("link", name="Class")).to_be_visible()
        shot(tess, "login-teacher")
        people = {p.login: p for p in roster.everyone(store_of(login_server))}
        assert sorted((p.login, p.role) for p in people.values()) == [("ann@school.edu", "student"), (TEACHER, "teacher")]
    finally:
        for c in contexts:
            c.close()
