"""The encryption suite runs against both key providers (fixtures of tests/keys)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "keys"))

from key_backends import backend, hsm  # noqa: F401  (fixtures)
