"""The HSM provider: a non-extractable master key, the PIN only from the environment,
clear errors for a wrong PIN, token or key label."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from key_backends import PIN, SOFTHSM_MODULE, TOKEN, Backend

from bastide.hub import Hub
from bastide.keys import KeyError_
from bastide.keys.pkcs11 import Pkcs11Provider

pytestmark = pytest.mark.pkcs11


def test_the_master_key_never_leaves_the_hsm(hsm: Backend, tmp_path: Path) -> None:
    import pkcs11
    from pkcs11 import Attribute

    hub = hsm.make_hub(tmp_path / "hub")
    provider = hub.keys
    assert isinstance(provider, Pkcs11Provider)
    key = provider._key()
    assert key[Attribute.EXTRACTABLE] is False and key[Attribute.SENSITIVE] is True
    with pytest.raises(pkcs11.AttributeSensitive):
        key[Attribute.VALUE]
    assert not (hub.root / "keys" / "master.key").exists()
    # Wrapping binds the scope: a blob does not open under another one.
    blob = provider.wrap(b"k" * 32, b"project:a")
    assert provider.unwrap(blob, b"project:a") == b"k" * 32
    with pytest.raises(KeyError_, match="does not open"):
        provider.unwrap(blob, b"project:b")


def test_the_pin_comes_from_the_environment_only(
    hsm: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = hsm.make_hub(tmp_path / "hub")
    toml = hub.root / "bastide.toml"
    monkeypatch.delenv("BASTIDE_HSM_PIN")
    with pytest.raises(KeyError_, match="export BASTIDE_HSM_PIN"):
        Hub(hub.root).keys  # noqa: B018
    toml.write_text(toml.read_text().replace("[keys]\n", f'[keys]\npin = "{PIN}"\n'))
    with pytest.raises(KeyError_, match=r"must not be written in bastide\.toml"):
        Hub(hub.root).keys  # noqa: B018
    with pytest.raises(ValueError, match=r"never goes into bastide\.toml"):
        Hub.init(tmp_path / "other", keys={**hsm.keys_config(), "pin": PIN})  # type: ignore[dict-item]


def test_wrong_pin_token_or_label_are_clear_errors(hsm: Backend, tmp_path: Path) -> None:
    hub = hsm.make_hub(tmp_path / "hub")
    # Login is per process in PKCS#11, so a wrong PIN is tried in a fresh process.
    env = {**os.environ, "BASTIDE_HSM_PIN": "000000"}
    done = subprocess.run(
        [sys.executable, "-m", "bastide", "keys", "status", "--hub", str(hub.root)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "refused the PIN" in done.stderr
    assert "Traceback" not in done.stderr

    def provider(token: str, label: str) -> Pkcs11Provider:
        return Pkcs11Provider(str(SOFTHSM_MODULE), token, label, PIN)

    with pytest.raises(KeyError_, match="no PKCS#11 token labelled 'nope'"):
        provider("nope", hsm.key_label).key_id  # noqa: B018
    with pytest.raises(KeyError_, match="no master key labelled 'absent'"):
        provider(TOKEN, "absent").key_id  # noqa: B018
    with pytest.raises(KeyError_, match="not found"):
        Pkcs11Provider("/nonexistent/libx.so", TOKEN, "x", PIN).key_id  # noqa: B018
