"""Hub configuration: one TOML file, environment overrides, embedded defaults.

Precedence (lowest first): embedded defaults < the hub's ``bastide.toml`` <
``BASTIDE_<SECTION>__<KEY>`` environment variables. The defaults need no server: local
directory storage, DuckDB, a SQLite metadata file and a key file.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "bastide.toml"
ENV_PREFIX = "BASTIDE_"

DEFAULTS: dict[str, dict[str, Any]] = {
    "hub": {"name": "bastide"},
    "storage": {"backend": "local"},
    "engine": {"name": "duckdb", "threads": 2, "memory_limit": "4GB", "spark_master": ""},
    "keys": {"provider": "keyfile", "keyfile": "keys/master.key"},
    "metadata": {"url": "sqlite:///{hub}/metadata.db"},
    "ingest": {
        "batch_rows": 500_000,
        "workers": 2,
        "max_shrink": 0.2,
        "earliest_date": "1900-01-01",
        "earliest_birth_year": 1890,
    },
    "audit": {
        "checkpoint_every": 1000,
        "checkpoint_actions": [
            "approve_project",
            "extract_project",
            "release_output",
            "review_release",
            "manage_keys",
            "manage_witnesses",
        ],
    },
}

DEFAULT_TOML = """\
# bastide hub configuration. Every value can be overridden by an environment variable
# named BASTIDE_<SECTION>__<KEY>, e.g. BASTIDE_ENGINE__MEMORY_LIMIT=8GB.

[hub]
name = "bastide"

[storage]
# "local": files under this hub directory (the storage host only ever sees ciphertext).
backend = "local"

[engine]
# "duckdb" (embedded, default) or "spark" (scale-out; see docs/engines.md for when).
# `bastide --engine spark …` chooses it for one command.
name = "duckdb"
threads = 2
# DuckDB's memory limit; for Spark in local mode, the JVM heap.
memory_limit = "4GB"
# Spark only: empty for local mode on this machine (`threads` cores), or a cluster URL
# (spark://host:7077, yarn, k8s://…) or a Spark Connect URL (sc://host:15002).
spark_master = ""

[keys]
# "keyfile" (embedded default) or "pkcs11" (an HSM). A key file must be readable by its
# owner only; relative paths are resolved against the hub directory.
provider = "keyfile"
keyfile = "keys/master.key"

[metadata]
# SQLAlchemy URL of the governance metadata store; {hub} is this directory.
url = "sqlite:///{hub}/metadata.db"

[ingest]
batch_rows = 500000
# processes sharing the border's work (one per core)
workers = 2
# A new snapshot of a source that has lost more than this share of its persons or of its
# rows, compared with the current one, is refused unless `bastide ingest --accept-shrink`.
max_shrink = 0.2
# Plausible dates: care before this day, or a birth year before this one, is quarantined
# as out_of_range (so is any care date after the day of the ingest).
earliest_date = "1900-01-01"
earliest_birth_year = 1890

[audit]
# Checkpoints: the audit head countersigned by witnesses the operator does not control
# (docs/audit.md). The hub checkpoints every `checkpoint_every` entries (0: not by count)
# and as soon as one of `checkpoint_actions` is recorded. Witnesses are added by an
# auditor with `bastide audit witness add`, as [audit.witness.<name>] tables below.
checkpoint_every = 1000
checkpoint_actions = ["approve_project", "extract_project", "release_output",
                      "review_release", "manage_keys", "manage_witnesses"]
"""


class ConfigError(ValueError):
    """A configuration file or override that cannot be used, with the reason."""


@dataclass(frozen=True)
class Settings:
    """Resolved, read-only settings of one hub."""

    root: Path
    values: Mapping[str, Mapping[str, Any]]

    def get(self, section: str, key: str) -> Any:
        try:
            return self.values[section][key]
        except KeyError as exc:
            raise ConfigError(f"no setting [{section}] {key}") from exc

    def path(self, section: str, key: str) -> Path:
        """A setting that names a file, resolved against the hub directory."""
        p = Path(str(self.get(section, key)))
        return p if p.is_absolute() else self.root / p


def _coerce(raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"expected a boolean, got {raw!r}")
    if isinstance(like, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"expected a number, got {raw!r}") from exc
    if isinstance(like, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"expected an integer, got {raw!r}") from exc
    return raw


def load_settings(root: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults, ``root/bastide.toml`` and environment overrides."""
    environ = os.environ if environ is None else environ
    values = copy.deepcopy(DEFAULTS)
    file = root / CONFIG_FILE
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        for section, items in data.items():
            if not isinstance(items, dict):
                raise ConfigError(f"{file}: [{section}] must be a table")
            values.setdefault(section, {}).update(items)
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        like = values.get(section, {}).get(key, "")
        try:
            values.setdefault(section, {})[key] = _coerce(raw, like)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from exc
    return Settings(root=root, values=values)
