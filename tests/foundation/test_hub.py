"""The hub: creation, discovery, configuration precedence and the key file's custody."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastide.config import ConfigError, load_settings
from bastide.hub import Hub, HubNotFound
from bastide.keys import KeyError_
from bastide.keys.keyfile import KeyFileProvider


def test_init_lays_out_a_hub_with_a_private_key_file(tmp_path: Path) -> None:
    hub = Hub.init(tmp_path / "hub")
    keyfile = hub.settings.path("keys", "keyfile")
    assert (hub.root / "bastide.toml").is_file()
    assert oct(keyfile.stat().st_mode & 0o777) == "0o600"
    # the pseudonymisation secret is stored wrapped, never in clear
    wrapped = (hub.paths.wrapped_keys / "pseudonym.key").read_bytes()
    secret = hub.data_key("pseudonym")
    assert len(secret) == 32 and secret not in wrapped
    assert Hub(hub.root).data_key("pseudonym") == secret


def test_init_refuses_an_existing_hub(tmp_path: Path) -> None:
    Hub.init(tmp_path)
    with pytest.raises(FileExistsError, match="already holds a hub"):
        Hub.init(tmp_path)


def test_locate_prefers_explicit_then_environment_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = (Hub.init(tmp_path / n).root for n in "abc")
    monkeypatch.chdir(c)
    monkeypatch.setenv("BASTIDE_HUB", str(b))
    assert Hub.locate(a).root == a
    assert Hub.locate().root == b
    monkeypatch.delenv("BASTIDE_HUB")
    assert Hub.locate().root == c
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HubNotFound, match="bastide init"):
        Hub.locate()


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    Hub.init(tmp_path)
    (tmp_path / "bastide.toml").write_text('[engine]\nthreads = 1\nmemory_limit = "1GB"\n')
    s = load_settings(tmp_path, {"BASTIDE_ENGINE__THREADS": "3"})
    assert s.get("engine", "threads") == 3
    assert s.get("engine", "memory_limit") == "1GB"
    assert s.get("storage", "backend") == "local"  # embedded default
    with pytest.raises(ConfigError, match="BASTIDE_ENGINE__THREADS"):
        load_settings(tmp_path, {"BASTIDE_ENGINE__THREADS": "many"})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bastide.toml").write_text("[engine\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path, {})


def test_key_file_with_loose_permissions_is_refused(tmp_path: Path) -> None:
    hub = Hub.init(tmp_path)
    keyfile = hub.settings.path("keys", "keyfile")
    os.chmod(keyfile, 0o644)
    with pytest.raises(KeyError_, match="chmod 600"):
        KeyFileProvider(keyfile)


def test_a_wrong_master_key_is_detected_not_silently_used(tmp_path: Path) -> None:
    hub = Hub.init(tmp_path)
    keyfile = hub.settings.path("keys", "keyfile")
    keyfile.write_bytes(os.urandom(32))
    with pytest.raises(KeyError_, match="does not open with this master key"):
        Hub(tmp_path).data_key("pseudonym")
