"""A hub: one directory holding configuration, wrapped keys, the warehouse and reports.

Every command finds its hub from ``--hub``, then ``BASTIDE_HUB``, then the current
directory. ``Hub.init`` lays out an empty hub with embedded defaults.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bastide.config import CONFIG_FILE, DEFAULT_TOML, Settings, load_settings
from bastide.keys import KeyError_, KeyProvider, open_provider
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
    def init(cls, root: Path) -> Hub:
        root = root.resolve()
        if (root / CONFIG_FILE).exists():
            raise FileExistsError(f"{root} already holds a hub ({CONFIG_FILE} exists)")
        root.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / CONFIG_FILE).write_text(DEFAULT_TOML, encoding="utf-8")
        hub = cls(root)
        if hub.settings.get("keys", "provider") == "keyfile":
            keyfile = hub.settings.path("keys", "keyfile")
            if not keyfile.exists():
                create_key_file(keyfile)
        hub.data_key("pseudonym", create=True)
        return hub

    # -- settings and keys ----------------------------------------------------------
    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.root)

    @cached_property
    def keys(self) -> KeyProvider:
        return open_provider(self.settings)

    def data_key(self, name: str, *, create: bool = False) -> bytes:
        """A named 256-bit data key, stored only wrapped by the master key.

        ``pseudonym`` is the hub secret of border pseudonymisation.
        """
        path = self.paths.wrapped_keys / f"{name}.key"
        if not path.exists():
            if not create:
                raise KeyError_(f"data key {name!r} does not exist in this hub ({path})")
            key = secrets.token_bytes(32)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(self.keys.wrap(key))
            os.replace(tmp, path)
            return key
        return self.keys.unwrap(path.read_bytes())
