"""Whether twine will find credentials for an upload, asked before anything is built: the
same places twine looks (TWINE_PASSWORD, the ~/.pypirc section, keyring), without ever
printing or writing what is found."""
from __future__ import annotations

import configparser
import os
from pathlib import Path

from releasekit.errors import Failure


def _pypirc(section: str) -> tuple[str | None, str | None]:
    path = Path(os.environ.get("HOME", "~")).expanduser() / ".pypirc"
    cfg = configparser.RawConfigParser()
    try:
        cfg.read(path, encoding="utf-8")
    except configparser.Error:
        return None, None
    if not cfg.has_section(section):
        return None, None
    return cfg.get(section, "username", fallback=None), cfg.get(section, "password",
                                                                fallback=None)


def _keyring(url: str, username: str) -> bool:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    try:
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or "null" in type(backend).__module__:
            return False
        return bool(keyring.get_password(url, username))
    except Exception:  # a broken keyring backend: twine would find nothing there either
        return False


def require(repository_url: str, section: str | None) -> None:
    """Raise Failure unless twine can authenticate to repository_url (section: the ~/.pypirc
    section twine is told to use, when no URL override was given)."""
    username = os.environ.get("TWINE_USERNAME")
    if os.environ.get("TWINE_PASSWORD"):
        return
    if section:
        file_user, file_password = _pypirc(section)
        if file_password:
            return
        username = username or file_user
    if _keyring(repository_url, username or "__token__"):
        return
    pypirc = f", put a password in the [{section}] section of ~/.pypirc" if section else ""
    raise Failure(f"no credentials for {repository_url}: set TWINE_USERNAME=__token__ and "
                  f"TWINE_PASSWORD to an API token{pypirc}, or store it in keyring; nothing "
                  "was built or uploaded")
