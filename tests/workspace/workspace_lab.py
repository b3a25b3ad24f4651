"""A hub with four projects, shared by the workspace tests of one module:

- ``asthma-care`` (rita): person, condition_occurrence, visit_occurrence,
  observation_period; active and extracted;
- ``diabetes-care`` (rob): person, drug_exposure, death; active and extracted;
- ``revoked-study`` (rita): extracted, then revoked;
- ``expired-study`` (rita): extracted, valid through 2025-03-10; the clock is then moved
  to 2025-03-31.

The hub-building helpers are those of tests/projects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
from hub_world import World, make_world, open_project, scope

from bastide.projects import extract_project
from bastide.projects.layout import extract_dir
from bastide.workspace import Limits, Workspace

ASTHMA = {
    "person": ["person_id", "gender_concept_id", "year_of_birth"],
    "condition_occurrence": ["person_id", "condition_start_date", "condition_source_value"],
    "visit_occurrence": ["visit_occurrence_id", "person_id", "visit_start_date"],
    "observation_period": [
        "person_id",
        "observation_period_start_date",
        "observation_period_end_date",
    ],
}
DIABETES = {
    "person": ["person_id", "year_of_birth"],
    "drug_exposure": ["person_id", "drug_exposure_start_date", "drug_source_value"],
    "death": ["person_id", "death_date"],
}
# Small enough that the exhaustion attempts are stopped within seconds.
LIMITS = Limits(
    memory_limit="128MB", max_spill="64MB", threads=1, timeout_seconds=3, max_rows=10_000
)


@dataclass
class Lab:
    world: World
    paths: dict[str, str]

    def workspace(self, who: str = "rita", project: str = "asthma-care") -> Workspace:
        return Workspace(self.world.hub, project, who, governance=self.world.gov, limits=LIMITS)


def build_lab(root: Path, tables: dict[str, pa.Table]) -> Lab:
    world = make_world(root, tables)
    p = world.people
    open_project(world, "asthma-care", p.rita, scope(ASTHMA))
    open_project(world, "diabetes-care", p.rob, scope(DIABETES))
    open_project(world, "revoked-study", p.rita, scope({"person": ["person_id"]}))
    open_project(
        world, "expired-study", p.rita, scope({"person": ["person_id"]}), expires=date(2025, 3, 10)
    )
    for name in ("asthma-care", "diabetes-care", "revoked-study", "expired-study"):
        extract_project(world.gov, p.olga, name)
    world.gov.revoke_project(p.stella, "revoked-study")
    world.clock.advance(days=30)
    hub = world.hub
    own = extract_dir(hub, "asthma-care")
    other = extract_dir(hub, "diabetes-care")
    # Links planted in the project's own extract directory, pointing outside it.
    (own / "passwd.csv").symlink_to("/etc/passwd")
    (own / "drug_exposure.parquet").symlink_to(other / "drug_exposure.parquet")
    warehouse_file = next((hub.root / "warehouse" / "data" / "person").rglob("*.parquet"))
    paths = {
        "hub": str(hub.root),
        "warehouse_file": str(warehouse_file),
        "warehouse_glob": str(hub.root / "warehouse" / "data" / "*" / "*" / "*.parquet"),
        "other_extract": str(other / "drug_exposure.parquet"),
        "own_extract": str(own),
        "traversal": str(own / ".." / ".." / "diabetes-care" / "extract" / "death.parquet"),
        "symlink_out": str(own / "passwd.csv"),
        "symlink_other": str(own / "drug_exposure.parquet"),
        "metadata": str(hub.root / "metadata.db"),
        "key_file": str(hub.root / "keys" / "master.key"),
    }
    return Lab(world, paths)
