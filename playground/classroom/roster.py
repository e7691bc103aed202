"""The people of a class, kept in the run store: their names, roles and how they sign in.

A join link carries a random 128-bit token (secrets.token_urlsafe(16)); only its SHA-256 is stored,
and a token presented is compared with hmac.compare_digest. Someone who signs in with st.login
(the school's OIDC) is found by their e-mail and added on first sign-in. A person's owner key
("p" and their id) is what their runs, sweeps and lab progress are stored under."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from playground.errors import PlaygroundError

ROLES = ("student", "teacher")
MAX_NAME = 80
SEEN_EVERY = 30  # seconds: last_seen is written at most this often per person


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str  # student | teacher
    login: str | None  # st.login's e-mail, or None for a join link
    created: float
    last_seen: float | None

    @property
    def owner(self) -> str:
        """The key their runs, sweeps and lab progress are stored under."""
        return f"p{self.id}"

    @property
    def teacher(self) -> bool:
        return self.role == "teacher"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise PlaygroundError("a name is empty: give each person a name")
    if len(name) > MAX_NAME or any(not ch.isprintable() for ch in name):
        raise PlaygroundError(f"the name {name[:MAX_NAME]!r}... is not allowed: use at most {MAX_NAME} printable characters")
    return name


def names_from(text: str) -> list[str]:
    """Names from a CSV file (a 'name' column, else the first column) or from a comma-separated list."""
    path = Path(text)
    if text.lower().endswith(".csv") or path.is_file():
        try:
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        except (OSError, UnicodeDecodeError) as e:
            raise PlaygroundError(f"cannot read the names from {text} ({e}): give a CSV file with a 'name' column") from None
        header = [h.strip().lower() for h in rows[0]] if rows else []
        column = header.index("name") if "name" in header else 0
        rows = rows[1:] if "name" in header else rows
        names = [row[column] for row in rows if len(row) > column and row[column].strip()]
    else:
        names = [n for n in text.split(",") if n.strip()]
    if not names:
        raise PlaygroundError(f"no names in {text[:60]!r}: give names separated by commas, or a CSV file with a 'name' column")
    checked = [check_name(n) for n in names]
    if len(set(checked)) < len(checked):
        twice = next(n for n in checked if checked.count(n) > 1)
        raise PlaygroundError(f"the name {twice!r} is given twice: names must be unique in a class")
    return checked


def add(store, names: list[str], role: str = "student") -> list[tuple[Person, str]]:
    """Each name on the roster with a new join link's token (a name already there gets a new one: its
    old link stops working). Returns (person, token); the token is never stored."""
    if role not in ROLES:
        raise PlaygroundError(f"role = {role!r} is not allowed: use one of {', '.join(ROLES)}")
    out = []
    for name in names:
        token = secrets.token_urlsafe(16)  # 128 random bits
        store.write(
            "INSERT INTO people (name, role, token_hash, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET token_hash=excluded.token_hash, role=excluded.role",
            (check_name(name), role, token_hash(token), time.time()),
        )
        out.append((by_name(store, check_name(name)), token))
    return out


def _person(row) -> Person:
    return Person(row["id"], row["name"], row["role"], row["login"], row["created"], row["last_seen"])


def by_name(store, name: str) -> Person | None:
    rows = store.query("SELECT * FROM people WHERE name=?", (name,))
    return _person(rows[0]) if rows else None


def by_token(store, token: str) -> Person | None:
    """Whose join link has this token, or None."""
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        return None
    wanted = token_hash(token)
    rows = store.query("SELECT * FROM people WHERE token_hash=?", (wanted,))
    if not rows or not hmac.compare_digest(rows[0]["token_hash"], wanted):
        return None
    return _person(rows[0])


def by_login(store, email: str, name: str, teacher: bool) -> Person:
    """Someone signed in with st.login: found by e-mail, added on their first sign-in."""
    email = email.strip().lower()
    role = "teacher" if teacher else "student"
    rows = store.query("SELECT * FROM people WHERE login=?", (email,))
    if rows:
        if rows[0]["role"] != role:
            store.write("UPDATE people SET role=? WHERE id=?", (role, rows[0]["id"]))
        return _person(store.query("SELECT * FROM people WHERE login=?", (email,))[0])
    shown = check_name(name or email.split("@")[0])
    if by_name(store, shown) is not None:  # two people of the same name: tell them apart by e-mail
        shown = check_name(f"{shown} ({email})")
    store.write("INSERT INTO people (name, role, login, created) VALUES (?, ?, ?, ?)", (shown, role, email, time.time()))
    return _person(store.query("SELECT * FROM people WHERE login=?", (email,))[0])


def by_owner(store, owner: str) -> Person | None:
    if not owner.startswith("p") or not owner[1:].isdigit():
        return None
    rows = store.query("SELECT * FROM people WHERE id=?", (int(owner[1:]),))
    return _person(rows[0]) if rows else None


def everyone(store) -> list[Person]:
    return [_person(r) for r in store.query("SELECT * FROM people ORDER BY role DESC, name")]


def seen(store, person: Person) -> None:
    """Note that someone is active now (at most every SEEN_EVERY seconds)."""
    now = time.time()
    store.write("UPDATE people SET last_seen=? WHERE id=? AND (last_seen IS NULL OR last_seen < ?)", (now, person.id, now - SEEN_EVERY))


def link(base_url: str, token: str) -> str:
    """A person's join link: the app's address with their token."""
    return f"{base_url.rstrip('/')}/?join={token}"
