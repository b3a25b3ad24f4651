"""The two key providers under test: the key file and a PKCS#11 HSM (SoftHSM2).

SoftHSM2 reads ``SOFTHSM2_CONF`` once per process, so one token directory serves the whole
test session (set up on first use, removed at exit); each test gets its own master key
label on the one token. A second token stands for an auditor's own HSM. Without SoftHSM2
the pkcs11 runs are skipped, or fail on CI.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bastide.hub import Hub

SOFTHSM_MODULE = Path(
    os.environ.get("BASTIDE_TEST_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
)
TOKEN = "bastide-tests"
PIN = "246810"
SO_PIN = "13579"
# A token of the auditor's own (audit checkpoint witnesses), with another PIN. Made with
# the first: SoftHSM2 does not see tokens initialised after the library was loaded.
AUDITOR_TOKEN = "bastide-auditor"
AUDITOR_PIN = "864200"
_softhsm: dict[str, Path] = {}


def _write_conf(conf: Path, tokens: Path) -> None:
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )


def softhsm() -> Path:
    """The session's SoftHSM2 directory (conf + tokens), with one initialised token."""
    if "dir" in _softhsm:
        return _softhsm["dir"]
    if not SOFTHSM_MODULE.exists() or shutil.which("softhsm2-util") is None:
        message = f"SoftHSM2 is not installed ({SOFTHSM_MODULE}; apt-get install softhsm2)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="bastide-softhsm-"))
    atexit.register(shutil.rmtree, base, True)
    (base / "tokens").mkdir()
    _write_conf(base / "softhsm2.conf", base / "tokens")
    os.environ["SOFTHSM2_CONF"] = str(base / "softhsm2.conf")
    for label, pin in ((TOKEN, PIN), (AUDITOR_TOKEN, AUDITOR_PIN)):
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label,
             "--pin", pin, "--so-pin", SO_PIN],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    _softhsm["dir"] = base
    return base


@dataclass
class Backend:
    """Creates hubs whose master key lives in one provider, and copies of that master key."""

    name: str
    tmp: Path
    key_label: str = ""

    def keys_config(self) -> dict[str, str] | None:
        if self.name == "keyfile":
            return None
        return {
            "provider": "pkcs11",
            "module": str(SOFTHSM_MODULE),
            "token_label": TOKEN,
            "key_label": self.key_label,
            "pin_env": "BASTIDE_HSM_PIN",
        }

    def make_hub(self, path: Path) -> Hub:
        return Hub.init(path, keys=self.keys_config())

    def backup_master(self, hub: Hub) -> Path:
        """A copy of the current master key as an operator's backup would hold it: the
        key file, or the HSM's token directory."""
        dest = self.tmp / f"backup-{uuid.uuid4().hex[:8]}"
        if self.name == "keyfile":
            dest.mkdir()
            shutil.copy2(hub.settings.path("keys", "keyfile"), dest / "master.key")
        else:
            shutil.copytree(softhsm() / "tokens", dest / "tokens")
            _write_conf(dest / "softhsm2.conf", dest / "tokens")
        return dest

    def env_with_master(self, backup: Path) -> dict[str, str]:
        """Environment of a process that uses the backed-up master key instead."""
        env = dict(os.environ)
        if self.name == "keyfile":
            env["BASTIDE_KEYS__KEYFILE"] = str(backup / "master.key")
        else:
            env["SOFTHSM2_CONF"] = str(backup / "softhsm2.conf")
        return env


def make_backend(name: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    if name == "keyfile":
        yield Backend("keyfile", tmp)
        return
    softhsm()
    monkeypatch.setenv("BASTIDE_HSM_PIN", PIN)
    yield Backend("pkcs11", tmp, key_label=f"master-{uuid.uuid4().hex[:10]}")


@pytest.fixture(params=["keyfile", pytest.param("pkcs11", marks=pytest.mark.pkcs11)])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """Each test once with a key file, once with a SoftHSM2 token."""
    yield from make_backend(request.param, tmp_path, monkeypatch)


@pytest.fixture
def hsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    yield from make_backend("pkcs11", tmp_path, monkeypatch)
