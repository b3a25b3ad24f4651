"""Build hook: compile bastide's native pseudonymisation routine on every install.

``uv sync`` (an editable install) and wheel builds both run it. A failed compilation only
warns: bastide then uses its pure-Python route (see docs/pseudonymisation.md).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILDER = Path("src/bastide/pseudonym/native_build.py")


class NativeBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # bastide is not importable inside the build environment: load the builder by path.
        spec = importlib.util.spec_from_file_location(
            "_bastide_native_build", Path(self.root) / BUILDER
        )
        assert spec is not None and spec.loader is not None
        builder = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(builder)
        library = builder.build(warn=self.app.display_warning)
        if library is not None and version != "editable":
            build_data["artifacts"].append(str(Path(library).relative_to(Path(self.root))))
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
