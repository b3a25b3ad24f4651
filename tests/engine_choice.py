"""The engines every engine-parametrised test runs on. Spark tests carry the ``spark``
marker (``-m "not spark"`` skips them); the tests of one process share its Spark JVM."""

from __future__ import annotations

import pytest

ENGINES = [
    "duckdb",
    pytest.param("spark", marks=pytest.mark.spark),
]
