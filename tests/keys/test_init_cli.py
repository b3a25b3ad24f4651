"""``bastide init`` with the master key on an HSM (SoftHSM2)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from key_backends import PIN, SOFTHSM_MODULE, TOKEN, softhsm
from typer.testing import CliRunner

from bastide.cli import app
from bastide.hub import Hub


def test_init_with_an_hsm_keeps_no_key_and_no_pin_in_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    softhsm()
    monkeypatch.setenv("BASTIDE_HSM_PIN", PIN)
    label = f"init-{uuid.uuid4().hex[:8]}"
    result = CliRunner().invoke(
        app,
        ["init", str(tmp_path / "hub"), "--pkcs11-module", str(SOFTHSM_MODULE),
         "--token-label", TOKEN, "--key-label", label],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = (tmp_path / "hub" / "bastide.toml").read_text()
    assert 'provider = "pkcs11"' in config and PIN not in config
    assert not (tmp_path / "hub" / "keys" / "master.key").exists()
    hub = Hub(tmp_path / "hub")
    assert len(hub.data_key("pseudonym")) == 32


def test_token_label_without_module_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "h"), "--token-label", "x"])
    assert result.exit_code != 0
    assert "--pkcs11-module" in result.output or "--pkcs11-module" in str(result.exception)
