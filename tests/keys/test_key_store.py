"""The key store and keyring: scopes, wrapping bound to the scope, concurrent creation,
the key file provider's custody."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from key_backends import Backend

from bastide.hub import Hub
from bastide.keys import KeyError_, KeyMissing, Keyring, KeyStore
from bastide.keys.keyfile import KeyFileProvider, create_key_file
from bastide.keys.store import scope_path


@pytest.mark.parametrize(
    ("scope", "where"),
    [
        ("hub:pseudonym", "pseudonym.key"),
        ("warehouse:person:3", "warehouse/person/v00000003.key"),
        ("staging:run-20250101-1", "staging/run-20250101-1.key"),
        ("project:diabete_2025", "project/diabete_2025.key"),
    ],
)
def test_each_scope_has_one_place(scope: str, where: str) -> None:
    assert scope_path(Path("/k"), scope) == Path("/k") / where


@pytest.mark.parametrize(
    "scope", ["project:../x", "project:", "warehouse:Person:1", "warehouse:p:x", "other:x", "x"]
)
def test_malformed_scopes_are_refused(scope: str) -> None:
    with pytest.raises(KeyError_, match="invalid key scope"):
        scope_path(Path("/k"), scope)


def test_data_keys_are_created_once_and_stored_wrapped(backend: Backend, tmp_path: Path) -> None:
    hub = backend.make_hub(tmp_path / "hub")
    with pytest.raises(KeyMissing, match="no data key for project 'p'"):
        hub.keyring.data_key("project:p")
    key = hub.keyring.data_key("project:p", create=True)
    # A second process racing to create it gets the first one's key.
    other = Keyring(Hub(hub.root).keys, KeyStore(hub.paths.wrapped_keys))
    assert other.data_key("project:p", create=True) == key
    stored = hub.keyring.store.path("project:p").read_bytes()
    assert key not in stored and key.hex().encode() not in stored
    assert oct(hub.keyring.store.path("project:p").stat().st_mode & 0o777) == "0o600"


def test_key_file_custody(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    create_key_file(path)
    with pytest.raises(KeyError_, match="refusing to overwrite"):
        create_key_file(path)
    provider = KeyFileProvider(path)
    blob = provider.wrap(b"d" * 32, b"project:a")
    with pytest.raises(KeyError_, match="does not open"):
        provider.unwrap(blob, b"project:b")
    nxt = provider.next_key(create=True)
    assert nxt is not None and nxt.key_id != provider.key_id
    assert oct(nxt.path.stat().st_mode & 0o777) == "0o600"
    new_id = nxt.key_id
    provider.retire()
    assert provider.key_id == new_id and provider.next_key() is None
    os.chmod(path, 0o640)
    with pytest.raises(KeyError_, match="chmod 600"):
        KeyFileProvider(path)
