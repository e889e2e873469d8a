"""The password policy: long enough, not the account's email, not a password everybody tries first.

One function, ``password_problem``, used wherever a password is set (core.services.create_user and
change_password); it answers what is wrong in words, or None.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")

# How people dress up a common password: l33t spelling, and digits or symbols at the end ("Password2026!").
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "3": "e", "1": "i", "!": "i", "$": "s", "5": "s", "7": "t"})
_TAIL = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _cores(text: str) -> set[str]:
    """The password as typed (lowercase), without its tail of digits and symbols, and both spelled plainly."""
    lowered = text.lower()
    bare = _TAIL.sub("", lowered)
    return {variant for form in (lowered, bare) for variant in (form, form.translate(_LEET)) if variant}


def _is_run(text: str) -> bool:
    """One character repeated, or a straight run ("1234567890", "abcdefghij", "9876543210")."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def password_problem(password: str, email: str = ""):
    """What makes ``password`` unacceptable for the account of ``email`` (a translatable message), or None."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(count)d characters.", count=MIN_LENGTH)
    email = email.strip().lower()
    local = email.split("@", 1)[0]
    cores = _cores(password)
    if email and (email in cores or local in cores or re.sub(r"\W", "", local) in cores):
        return _l("The password must not be your email address.")
    if len(set(password.lower())) < 4 or _is_run(password.lower()) or cores & common_passwords():
        return _l("This password is too common: choose one that others would not guess.")
    return None
