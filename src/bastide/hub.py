"""A hub: one directory holding configuration, wrapped keys, the warehouse and reports.

Every command finds its hub from ``--hub``, then ``BASTIDE_HUB``, then the current
directory. ``Hub.init`` lays out an empty hub with embedded defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bastide.config import CONFIG_FILE, DEFAULT_TOML, Settings, load_settings
from bastide.filemodes import owner_only_umask, private_directory, private_file
from bastide.keys import KeyProvider, Keyring, KeyStore, open_provider
from bastide.keys.keyfile import create_key_file

HUB_ENV = "BASTIDE_HUB"
SUBDIRS = ("warehouse", "reports", "keys/wrapped", "tmp")


class HubNotFound(RuntimeError):
    """No hub where one was expected."""


@dataclass(frozen=True)
class HubPaths:
    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def wrapped_keys(self) -> Path:
        return self.root / "keys" / "wrapped"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"


class Hub:
    def __init__(self, root: Path) -> None:
        root = root.resolve()
        if not (root / CONFIG_FILE).is_file():
            raise HubNotFound(
                f"{root} is not a bastide hub (no {CONFIG_FILE}); "
                f"create one with 'bastide init {root}'"
            )
        # Everything written from here on is the owner's only (docs/security.md).
        owner_only_umask()
        self.root = root
        self.paths = HubPaths(root)

    # -- finding and creating -------------------------------------------------------
    @classmethod
    def locate(cls, explicit: Path | None = None) -> Hub:
        """``--hub``, else ``$BASTIDE_HUB``, else the current directory."""
        if explicit is not None:
            return cls(explicit)
        env = os.environ.get(HUB_ENV)
        return cls(Path(env) if env else Path.cwd())

    @classmethod
    def init(cls, root: Path, *, keys: Mapping[str, Any] | None = None) -> Hub:
        """Lay out a hub. ``keys`` replaces the ``[keys]`` section of the configuration,
        e.g. ``{"provider": "pkcs11", "module": ..., "token_label": ..., "key_label": ...}``;
        the master key is created (key file, or a non-extractable key on the HSM) unless it
        exists."""
        root = root.resolve()
        if (root / CONFIG_FILE).exists():
            raise FileExistsError(f"{root} already holds a hub ({CONFIG_FILE} exists)")
        if keys is not None and keys.get("provider") == "pkcs11":
            from bastide.optional import HSM, require

            require(HSM)  # before anything is written: no half-made hub without the extra
        owner_only_umask()
        private_directory(root)
        for sub in SUBDIRS:
            private_directory(root / sub)
        text = DEFAULT_TOML if keys is None else _with_keys_section(DEFAULT_TOML, keys)
        private_file(root / CONFIG_FILE)
        (root / CONFIG_FILE).write_text(text, encoding="utf-8")
        hub = cls(root)
        provider = hub.settings.get("keys", "provider")
        if provider == "keyfile":
            keyfile = hub.settings.path("keys", "keyfile")
            if not keyfile.exists():
                create_key_file(keyfile)
        elif provider == "pkcs11":
            from bastide.keys.pkcs11 import Pkcs11Provider

            hsm = Pkcs11Provider.from_settings(hub.settings)
            if not hsm.exists():
                hsm.create()
        hub.data_key("pseudonym", create=True)
        return hub

    # -- settings and keys ----------------------------------------------------------
    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.root)

    @cached_property
    def keys(self) -> KeyProvider:
        return open_provider(self.settings)

    @cached_property
    def keyring(self) -> Keyring:
        """The hub's data keys (wrapped under ``keys/wrapped/``) and its key provider."""
        return Keyring(self.keys, KeyStore(self.paths.wrapped_keys))

    def data_key(self, name: str, *, create: bool = False) -> bytes:
        """A named 256-bit hub secret, stored only wrapped by the master key.

        ``pseudonym`` is the hub secret of border pseudonymisation.
        """
        return self.keyring.data_key(f"hub:{name}", create=create)


def _with_keys_section(toml: str, keys: Mapping[str, Any]) -> str:
    """The default configuration with its ``[keys]`` section replaced by ``keys``."""
    if "pin" in keys:
        raise ValueError("the HSM PIN never goes into bastide.toml (use [keys] pin_env)")
    start = toml.index("[keys]\n")
    end = toml.index("\n[", start + 1)
    # JSON strings, numbers and booleans are valid TOML values.
    lines = [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    note = "# Key provider of this hub (docs/encryption.md); an HSM PIN comes from $pin_env.\n"
    return toml[:start] + "[keys]\n" + note + "\n".join(lines) + "\n" + toml[end:]
