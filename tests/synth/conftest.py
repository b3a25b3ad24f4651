"""One generated extract shared by the synthetic-data tests, plus small ones on demand."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bastide.synth import SynthOptions, generate

PERSONS = 4000
SEED = 7


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "extract"
    generate(SynthOptions(persons=PERSONS, seed=SEED, out=out))
    return out


@pytest.fixture(scope="session")
def effects(synth_dir: Path) -> dict[str, Any]:
    return json.loads((synth_dir / "ground_truth" / "effects.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def small_extract(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Generate (once per distinct options) a small extract."""
    made: dict[tuple[Any, ...], Path] = {}

    def make(seed: int = 3, persons: int = 600, **options: Any) -> Path:
        key = (seed, persons, *sorted(options.items()))
        if key not in made:
            out = tmp_path_factory.mktemp("small") / "extract"
            generate(SynthOptions(persons=persons, seed=seed, out=out, **options))
            made[key] = out
        return made[key]

    return make
