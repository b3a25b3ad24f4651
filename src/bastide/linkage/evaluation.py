"""Linkage quality against a synthetic extract's ground truth.

The ground truth holds raw identifiers: it is read into memory, pseudonymised there with
the hub secret exactly as the border does, compared, and only counts leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bastide.engines import Engine
from bastide.pseudonym import Pseudonymiser

TRUTH_FILE = "persons.csv"

_EVALUATE = """
SELECT
    COUNT(*) FILTER (WHERE pm.method <> 'new') AS predicted,
    COUNT(*) FILTER (WHERE t.true_key IS NOT NULL) AS actual,
    COUNT(*) FILTER (
        WHERE pm.method <> 'new' AND pm.person_id = stable_id(t.true_key)) AS correct,
    COUNT(*) AS patients
FROM person_map AS pm LEFT JOIN linkage_truth AS t ON t.local_person_id = pm.local_person_id
"""


@dataclass(frozen=True)
class LinkageQuality:
    patients: int  # hospital patients
    actual: int  # of them, truly national beneficiaries
    predicted: int  # linked to a national beneficiary
    correct: int  # linked to the right one

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.actual if self.actual else 1.0


def truth_table(truth_dir: Path, hospital: str, key: bytes) -> pa.Table | None:
    """(local_person_id, true_key) pseudonymised, for one hospital; None if not covered."""
    path = truth_dir / TRUTH_FILE
    if not path.is_file():
        return None
    columns = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    local = f"hospital_{hospital}_person_id"
    if local not in columns.column_names:
        return None
    rows = columns.filter(pc.is_valid(columns[local]))
    local_ids = pc.cast(rows[local], pa.string())
    true_key = pc.cast(rows["ben_nir_ano"], pa.string())
    return pa.table(
        {
            "local_person_id": Pseudonymiser(key, "hospital_patient").pseudonymise(local_ids),
            "true_key": Pseudonymiser(key, "person").pseudonymise(true_key),
        }
    )


def evaluate_linkage(
    engine: Engine, truth_dir: Path, hospital: str, key: bytes
) -> LinkageQuality | None:
    """Precision and recall of ``person_map`` (registered) against the ground truth."""
    truth = truth_table(truth_dir, hospital, key)
    if truth is None:
        return None
    engine.register("linkage_truth", truth)
    row = engine.query(_EVALUATE).to_pylist()[0]
    return LinkageQuality(
        patients=int(row["patients"]),
        actual=int(row["actual"]),
        predicted=int(row["predicted"]),
        correct=int(row["correct"]),
    )
