"""The ETL spec tests compare rows inside the harness: let pytest explain its asserts."""

import pytest

pytest.register_assert_rewrite("snds_spec")
