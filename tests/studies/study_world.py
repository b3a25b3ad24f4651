"""A simulated OMOP population with a known truth, written with numpy (no generator, no
ETL in between): new users of two drugs followed for a year, an outcome with exponential
hazard, a true hazard ratio, and age confounding the comparison.

- age at index uniform in [40, 85); older people more often get the target drug
  (logistic, slope 0.08 per year around 62);
- hazard of the outcome: ``base`` per person-year × exp(0.05 × (age − 65)) × HR if on
  the target drug; followed 365 days from the first dispensing (one 365-day exposure);
- vocabulary: ATC M01A above celecoxib (11) and diclofenac (12); CIM-10 K92 above K922 (2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from bastide.cohorts import text_tables as tt

TARGET, COMPARATOR, OUTCOME = 11, 12, 2
START = date(2020, 1, 1)


@dataclass(frozen=True)
class World:
    tables: dict[str, pa.Table]
    hazard_ratio: float
    persons: int
    target: int  # persons on the target drug
    events: int  # outcomes within follow-up


def simulate(
    persons: int = 3000,
    *,
    hazard_ratio: float = 0.5,
    base: float = 0.3,
    age_slope: float = 0.05,
    seed: int = 7,
) -> World:
    rng = np.random.default_rng(seed)
    age = rng.integers(40, 85, persons)
    target = rng.random(persons) < 1 / (1 + np.exp(-0.08 * (age - 62)))
    index = rng.integers(0, 730, persons)  # days after 2020-01-01
    rate = base / 365.25 * np.exp(age_slope * (age - 65)) * np.where(target, hazard_ratio, 1.0)
    days_to_event = np.floor(rng.exponential(1 / rate)).astype(int)
    female = rng.random(persons) < 0.55
    person, periods, drugs, conditions = [], [], [], []
    events = 0
    for i in range(persons):
        pid = i + 1
        start = START + timedelta(days=int(index[i]))
        birth = start - timedelta(days=int(age[i] * 365.25 + 100))
        person.append(
            {
                "person_id": pid,
                "gender_concept_id": 8532 if female[i] else 8507,
                "year_of_birth": birth.year,
                "month_of_birth": birth.month,
                "day_of_birth": birth.day,
            }
        )
        periods.append(
            {
                "person_id": pid,
                "observation_period_start_date": date(2015, 1, 1),
                "observation_period_end_date": date(2023, 12, 31),
            }
        )
        drugs.append(
            {
                "person_id": pid,
                "drug_concept_id": TARGET if target[i] else COMPARATOR,
                "drug_source_concept_id": 0,
                "drug_exposure_start_date": start,
                "drug_exposure_end_date": start + timedelta(days=364),
            }
        )
        if days_to_event[i] <= 364:
            events += 1
            conditions.append(
                {
                    "person_id": pid,
                    "condition_concept_id": 0,
                    "condition_source_concept_id": OUTCOME,
                    "condition_start_date": start + timedelta(days=int(days_to_event[i])),
                }
            )
    vocabulary = tt.tables(
        concept="""
            concept_id | concept_name | vocabulary_id | concept_code
            1          | GI bleeding  | CIM10         | K92
            2          | Haematemesis | CIM10         | K922
            10         | NSAIDs       | ATC           | M01A
            11         | CELECOXIB    | ATC           | M01AH01
            12         | DICLOFENAC   | ATC           | M01AB05
        """,
        concept_ancestor="""
            ancestor_concept_id | descendant_concept_id
            1                   | 2
            10                  | 11
            10                  | 12
        """,
    )
    rows = {
        "person": person,
        "observation_period": periods,
        "drug_exposure": drugs,
        "condition_occurrence": conditions,
        "death": [],
        **vocabulary,
    }
    return World(
        tables={name: tt.arrow(name, r) for name, r in rows.items()},
        hazard_ratio=hazard_ratio,
        persons=persons,
        target=int(target.sum()),
        events=events,
    )


STUDY = """
study: simulated
version: 1
title: Simulated new users
concept_sets:
  celecoxib: [{vocabulary: ATC, code: M01AH01}]
  diclofenac: [{vocabulary: ATC, code: M01AB05}]
  nsaids: [{vocabulary: ATC, code: M01A}]
  bleeding: [{vocabulary: CIM10, code: K92}]
cohorts:
  celecoxib:
    version: 1
    entry: {events: [{domain: drug_exposure, concept_set: celecoxib}]}
    observation: {prior_days: 365}
    inclusion:
      - name: no NSAID in the year before
        events: {domain: drug_exposure, concept_set: nsaids}
        window: [-365, -1]
        count: {at_most: 0}
    exit: {end: exposure_end, concept_set: celecoxib, gap_days: 30}
  diclofenac:
    version: 1
    entry: {events: [{domain: drug_exposure, concept_set: diclofenac}]}
    observation: {prior_days: 365}
    exit: {end: exposure_end, concept_set: diclofenac, gap_days: 30}
  bleeding:
    version: 1
    entry: {events: [{domain: condition_occurrence, concept_set: bleeding}], occurrence: all}
    exit: {end: fixed, days: 0}
analyses:
  - {name: counts, type: counts, cohorts: [celecoxib, diclofenac, bleeding]}
  - {name: baseline, type: characterisation, cohorts: [celecoxib, diclofenac], top: 5}
  - {name: rates, type: incidence, cohort: celecoxib, outcome: bleeding}
  - {name: use, type: drug_utilisation, cohort: celecoxib}
  - name: risk
    type: comparative
    target: celecoxib
    comparator: diclofenac
    outcome: bleeding
    adjust: [age, sex]
"""
