"""Deterministic linkage with a stay-based fallback.

1. *Identifier*: the hospital's chaining identifier (pseudonymised at the border with the
   same keyed function as BEN_NIR_PSA / NIR_ANO_17) equals a national one.
2. *Stays*: for patients whose identifier is missing or does not match, a national
   person of the same sex and year and month of birth who has a hospital stay (PMSI) at
   this establishment with the same admission and discharge dates as one of the
   patient's visits; accepted only when one candidate shares strictly more stays than
   every other, and that person is not already linked to another patient here.
3. Otherwise the patient is new to the hub and gets an id of its own.

Registered inputs: ``src_person``, ``src_visit_occurrence`` (the hospital's staged
tables), ``national_link(source_key, person_id)``, ``national_person`` and
``national_visit`` (the warehouse's person and visit_occurrence) and ``link_params``
(one row: ``source``, ``finess``). Output: ``person_map(local_person_id, person_id,
method)``.
"""

from __future__ import annotations

import pyarrow as pa

from bastide.engines import Engine

PERSON_MAP = """
WITH direct AS (
    SELECT p.person_id AS local_person_id, MIN(l.person_id) AS person_id
    FROM src_person AS p JOIN national_link AS l ON l.source_key = p.person_source_value
    GROUP BY p.person_id
),
rest AS (
    SELECT * FROM src_person
    WHERE person_id NOT IN (SELECT local_person_id FROM direct)
),
candidate AS (
    SELECT r.person_id AS local_person_id, np.person_id,
        COUNT(DISTINCT hv.visit_start_date) AS shared_stays
    FROM rest AS r
    JOIN src_visit_occurrence AS hv ON hv.person_id = r.person_id
    JOIN national_visit AS nv ON nv.visit_start_date = hv.visit_start_date
        AND nv.visit_end_date = hv.visit_end_date
        AND nv.visit_source_value = (SELECT 'MCO:' || finess FROM link_params)
    JOIN national_person AS np ON np.person_id = nv.person_id
        AND np.gender_concept_id = r.gender_concept_id
        AND np.year_of_birth = r.year_of_birth
        AND np.month_of_birth IS NOT DISTINCT FROM r.month_of_birth
    WHERE np.person_id NOT IN (SELECT person_id FROM direct)
    GROUP BY r.person_id, np.person_id
),
ranked AS (
    SELECT local_person_id, person_id, shared_stays,
        ROW_NUMBER() OVER (PARTITION BY local_person_id ORDER BY shared_stays DESC) AS rn,
        COUNT(*) OVER (PARTITION BY local_person_id, shared_stays) AS tied
    FROM candidate
),
best AS (
    SELECT local_person_id, person_id FROM ranked WHERE rn = 1 AND tied = 1
),
by_stays AS (
    -- a national person is one patient's at most: one that two patients fit is neither's
    SELECT local_person_id, person_id FROM best
    WHERE person_id IN (SELECT person_id FROM best GROUP BY person_id HAVING COUNT(*) = 1)
)
SELECT local_person_id, person_id, 'identifier' AS method FROM direct
UNION ALL
SELECT local_person_id, person_id, 'stays' FROM by_stays
UNION ALL
SELECT p.person_id,
    stable_id((SELECT source FROM link_params) || '|person|' || CAST(p.person_id AS VARCHAR)),
    'new'
FROM src_person AS p
WHERE p.person_id NOT IN (SELECT local_person_id FROM direct)
  AND p.person_id NOT IN (SELECT local_person_id FROM by_stays)
"""


def link_persons(engine: Engine, source: str, finess: str | None) -> pa.Table:
    """Compute and register ``person_map`` for one hospital source; return it."""
    engine.register(
        "link_params",
        pa.table({"source": [source], "finess": pa.array([finess], pa.string())}),
    )
    person_map = engine.query(PERSON_MAP)
    engine.register("person_map", person_map)
    return person_map
