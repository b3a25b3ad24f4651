"""SNDS staging tables -> OMOP CDM v5.4, as SQL in the canonical dialect.

Inputs are the border's staging tables, named after their SNDS table (PMSI year tables
are unioned under their ``aa`` name with a ``PMSI_YEAR`` column), typed from schema-snds,
with every identifier already replaced by its pseudonym. Also registered: ``code_map``
(vocabulary_id, concept_code, source_concept_id, concept_id: the
``code_map`` of bastide.cdm.vocabulary) and ``prs_nat_ref_map`` (PRS_NAT_REF -> visit concept).

Rules follow the SNDS -> OMOP mapping rules written in docs/etl.md; each ``-- §`` comment
names the section.
``stable_id(text)`` is an engine-provided function giving a 60-bit id from text, the
same on every engine, so that ids are reproducible and joins work across tables.
"""

from __future__ import annotations

from bastide.etl import constants as C

_DCIR_KEY = (
    "FLX_DIS_DTD",
    "FLX_TRT_DTD",
    "FLX_EMT_TYP",
    "FLX_EMT_NUM",
    "FLX_EMT_ORD",
    "ORG_CLE_NUM",
    "DCT_ORD_NUM",
    "PRS_ORD_NUM",
    "REM_TYP_AFF",
)
# The nine keys are required at the border (a row missing one is quarantined), so plain
# equality joins them.
DCIR_KEY_JOIN = " AND ".join(f"d.{k} = p.{k}" for k in _DCIR_KEY)
# The claim-line columns the rules use (ER_PRS_F has over a hundred).
_CLAIM_COLUMNS = (
    *_DCIR_KEY,
    "EXE_SOI_DTD",
    "EXE_SOI_DTF",
    "PRE_PRE_DTD",
    "PRS_NAT_REF",
    "PRS_ACT_QTE",
    "PFS_EXE_NUM",
    "ETB_PRE_FIN",
    "CPL_MAJ_TOP",
)
_DUP_ETA = ", ".join(f"'{e}'" for e in C.PMSI_DUPLICATE_ETA_NUM)
_PLACEHOLDERS = ", ".join(f"'{e}'" for e in C.PLACEHOLDER_IDENTIFIERS)


def _code(col: str) -> str:
    """Normalise a CIM-10 code as SNDS writes them: upper case, no dot, no padding."""
    return f"NULLIF(REPLACE(UPPER(TRIM({col})), '.', ''), '')"


# -- §2.3 identity: one person per BEN_NIR_ANO, else BEN_NIR_PSA + BEN_RNG_GEM --------
BENEFICIARY = f"""
CREATE TEMP TABLE ben AS
SELECT
    BEN_NIR_PSA,
    CAST(BEN_RNG_GEM AS INTEGER) AS BEN_RNG_GEM,
    COALESCE(BEN_NIR_ANO, BEN_NIR_PSA || '#' || CAST(BEN_RNG_GEM AS VARCHAR)) AS person_key,
    BEN_IDT_ANO,
    CAST(BEN_SEX_COD AS INTEGER) AS sex,
    CAST(BEN_NAI_ANN AS INTEGER) AS birth_year,
    CAST(BEN_NAI_MOI AS INTEGER) AS birth_month,
    CASE WHEN BEN_DCD_DTE > DATE '{C.ALIVE_SENTINEL_DATE}' THEN BEN_DCD_DTE END AS death_date,
    BEN_DTE_MAJ,
    SOURCE_FILE,
    SOURCE_LINE
FROM IR_BEN_R
WHERE CAST(BEN_SEX_COD AS INTEGER) IN (1, 2)
"""

# Every key a source uses for a person -> the person key. NIR_ANO_17 (PMSI) and hospital
# chaining ids equal BEN_NIR_PSA; twins sharing a BEN_NIR_PSA go to the lowest rank.
PERSON_LINK = """
CREATE TEMP TABLE person_link AS
SELECT source_key, person_key FROM (
    SELECT source_key, person_key, ROW_NUMBER() OVER (
        PARTITION BY source_key ORDER BY rnk, person_key) AS rn
    FROM (
        SELECT BEN_NIR_PSA AS source_key, person_key, BEN_RNG_GEM AS rnk FROM ben
        UNION ALL
        SELECT BEN_IDT_ANO, person_key, 0 FROM ben WHERE BEN_IDT_ANO IS NOT NULL
    ) AS k
) AS r
WHERE rn = 1
"""

# -- §3.1 person: latest beneficiary row per person; sex other than 1/2 is excluded ----
# Rows of one beneficiary updated the same day are told apart by the values the person
# takes from them, so the row kept never depends on the order rows arrive in.
_LATEST_BEN = (
    "BEN_DTE_MAJ DESC NULLS LAST, BEN_NIR_PSA, BEN_RNG_GEM, "
    "sex, birth_year NULLS LAST, birth_month NULLS LAST"
)

PERSON = f"""
SELECT
    stable_id(person_key) AS person_id,
    CASE sex WHEN 1 THEN {C.GENDER_MALE} WHEN 2 THEN {C.GENDER_FEMALE} END
        AS gender_concept_id,
    birth_year AS year_of_birth,
    birth_month AS month_of_birth,
    CAST(NULL AS INTEGER) AS day_of_birth,
    CAST(NULL AS TIMESTAMP) AS birth_datetime,
    0 AS race_concept_id,
    0 AS ethnicity_concept_id,
    CAST(NULL AS BIGINT) AS location_id,
    CAST(NULL AS BIGINT) AS provider_id,
    CAST(NULL AS BIGINT) AS care_site_id,
    person_key AS person_source_value,
    CAST(sex AS VARCHAR) AS gender_source_value,
    0 AS gender_source_concept_id,
    CAST(NULL AS VARCHAR) AS race_source_value,
    0 AS race_source_concept_id,
    CAST(NULL AS VARCHAR) AS ethnicity_source_value,
    0 AS ethnicity_source_concept_id
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY person_key ORDER BY {_LATEST_BEN}) AS rn
    FROM ben
) AS b
WHERE rn = 1
"""

# -- §2.1 DCIR claim lines: information-only lines out; beneficiary resolved ------------
# Every line is kept here with the rule that leaves it out (``rule``; NULL: it is used),
# so that the accounting below sees the lines the rules drop.
_DCIR_VISIT_KEY = (
    "'dcir|' || b.person_key || '|' || CAST(p.EXE_SOI_DTD AS VARCHAR) || '|' "
    "|| COALESCE(CAST(p.EXE_SOI_DTF AS VARCHAR), '') || '|' || CAST(p.PRS_NAT_REF AS VARCHAR) "
    "|| '|' || COALESCE(p.PFS_EXE_NUM, '') || '|' || COALESCE(p.ETB_PRE_FIN, '0')"
)
CLAIMS = f"""
CREATE TEMP TABLE claims AS
SELECT {", ".join(f"p.{c}" for c in _CLAIM_COLUMNS)}, b.person_key,
    CASE WHEN b.person_key IS NOT NULL THEN stable_id({_DCIR_VISIT_KEY}) END AS dcir_visit_id,
    CASE
        WHEN b.person_key IS NULL THEN 'unknown_beneficiary'
        WHEN COALESCE(CAST(p.DPN_QLF AS INTEGER), 0) = {C.DPN_INFORMATION_ONLY}
          OR COALESCE(CAST(p.PRS_DPN_QLP AS INTEGER), 0) = {C.DPN_INFORMATION_ONLY}
            THEN 'information_only_line'
    END AS rule,
    p.SOURCE_FILE,
    p.SOURCE_LINE
FROM ER_PRS_F AS p
LEFT JOIN (  -- one row per beneficiary: IR_BEN_R may hold several (updates)
    SELECT BEN_NIR_PSA, BEN_RNG_GEM, MIN(person_key) AS person_key
    FROM ben GROUP BY BEN_NIR_PSA, BEN_RNG_GEM
) AS b ON b.BEN_NIR_PSA = p.BEN_NIR_PSA
    AND b.BEN_RNG_GEM = CAST(p.BEN_RNG_GEM AS INTEGER)
"""

# -- §3.3 DCIR visits: one per person, dates, nature of care and executing provider -----
# ``net``: the lines' quantities summed (cancellations are negative); only visits whose
# net is positive are kept (VISITS, OBSERVATION_PERIOD).
DCIR_VISITS = """
CREATE TEMP TABLE dcir_visit AS
SELECT
    dcir_visit_id AS visit_occurrence_id,
    MIN(person_key) AS person_key,
    MIN(CAST(PRS_NAT_REF AS INTEGER)) AS prs_nat_ref,
    MIN(EXE_SOI_DTD) AS start_date,
    MAX(COALESCE(EXE_SOI_DTF, EXE_SOI_DTD)) AS end_date,
    SUM(COALESCE(PRS_ACT_QTE, 1)) AS net
FROM claims
WHERE rule IS NULL AND EXE_SOI_DTD IS NOT NULL
GROUP BY dcir_visit_id
"""

VISITS = f"""
SELECT
    v.visit_occurrence_id,
    stable_id(v.person_key) AS person_id,
    v.visit_concept_id,
    v.start_date AS visit_start_date,
    CAST(v.start_date AS TIMESTAMP) AS visit_start_datetime,
    v.end_date AS visit_end_date,
    CAST(v.end_date AS TIMESTAMP) AS visit_end_datetime,
    {C.TYPE_CLAIM} AS visit_type_concept_id,
    CAST(NULL AS BIGINT) AS provider_id,
    CAST(NULL AS BIGINT) AS care_site_id,
    v.source_value AS visit_source_value,
    0 AS visit_source_concept_id,
    0 AS admitted_from_concept_id,
    v.admitted_from AS admitted_from_source_value,
    0 AS discharged_to_concept_id,
    v.discharged_to AS discharged_to_source_value,
    CAST(NULL AS BIGINT) AS preceding_visit_occurrence_id
FROM (
    SELECT d.visit_occurrence_id, d.person_key, d.start_date, d.end_date,
        CASE
            WHEN d.prs_nat_ref IN ({", ".join(map(str, C.PRS_NAT_REF_5083))})
                THEN {C.VISIT_OFFICE_5083}
            ELSE COALESCE(m.visit_concept_id, {C.VISIT_OUTPATIENT})
        END AS visit_concept_id,
        'DCIR:' || CAST(d.prs_nat_ref AS VARCHAR) AS source_value,
        CAST(NULL AS VARCHAR) AS admitted_from,
        CAST(NULL AS VARCHAR) AS discharged_to
    FROM dcir_visit AS d LEFT JOIN prs_nat_ref_map AS m ON m.prs_nat_ref = d.prs_nat_ref
    WHERE d.net > 0
    UNION ALL
    SELECT visit_occurrence_id, person_key, start_date, end_date,
        CASE WHEN ENT_PRV = '5' THEN {C.VISIT_ER_INPATIENT} ELSE {C.VISIT_INPATIENT} END,
        'MCO:' || ETA_NUM,
        ENT_PRV,
        SOR_DES
    FROM stay
) AS v
"""

# -- §2.2 PMSI MCO stays: valid chaining, no placeholder, no error or duplicate stays ----
_RET_FLAGS: tuple[str, ...] = (
    "NIR_RET",
    "NAI_RET",
    "SEX_RET",
    "SEJ_RET",
    "FHO_RET",
    "PMS_RET",
    "DAT_RET",
)
_RET_FLAGS += ("COH_NAI_RET", "COH_SEX_RET")  # from 2013; NULL before
_RET_OK = " AND ".join(
    f"COALESCE(CAST(c.{f} AS VARCHAR), '0') IN ('0', 'false', 'False')" for f in _RET_FLAGS
)
STAYS = f"""
CREATE TEMP TABLE stay AS
SELECT
    stable_id('mco|' || CAST(c.PMSI_YEAR AS VARCHAR) || '|' || CAST(c.ETA_NUM AS VARCHAR)
        || '|' || CAST(c.RSA_NUM AS VARCHAR)) AS visit_occurrence_id,
    c.PMSI_YEAR AS pmsi_year,
    CAST(c.ETA_NUM AS VARCHAR) AS ETA_NUM,
    CAST(c.RSA_NUM AS VARCHAR) AS RSA_NUM,
    l.person_key,
    CAST(c.EXE_SOI_DTD AS DATE) AS start_date,
    CAST(COALESCE(c.EXE_SOI_DTF, c.EXE_SOI_DTD) AS DATE) AS end_date,
    {_code("b.DGN_PAL")} AS dgn_pal,
    {_code("b.DGN_REL")} AS dgn_rel,
    CAST(b.ENT_PRV AS VARCHAR) AS ENT_PRV,
    CAST(b.SOR_DES AS VARCHAR) AS SOR_DES,
    CAST(b.SOR_MOD AS VARCHAR) AS SOR_MOD
FROM T_MCOaaC AS c
JOIN T_MCOaaB AS b ON b.PMSI_YEAR = c.PMSI_YEAR
    AND CAST(b.ETA_NUM AS VARCHAR) = CAST(c.ETA_NUM AS VARCHAR)
    AND CAST(b.RSA_NUM AS VARCHAR) = CAST(c.RSA_NUM AS VARCHAR)
JOIN person_link AS l ON l.source_key = c.NIR_ANO_17
WHERE c.EXE_SOI_DTD IS NOT NULL
  AND {_RET_OK}
  AND c.NIR_ANO_17 NOT IN ({_PLACEHOLDERS})
  AND COALESCE(b.GRG_GHM, '') NOT LIKE '90%'
  AND COALESCE(b.SEJ_TYP, '') <> 'B'
  AND NOT (CAST(c.ETA_NUM AS VARCHAR) IN ({_DUP_ETA})
           AND c.PMSI_YEAR <= {C.PMSI_DUPLICATE_LAST_YEAR})
"""

# -- §3.5 conditions: principal, related, associated diagnoses (no repeats per stay) ---
CONDITIONS = f"""
SELECT
    stable_id('cond|' || CAST(d.visit_occurrence_id AS VARCHAR) || '|' || d.code)
        AS condition_occurrence_id,
    stable_id(s.person_key) AS person_id,
    COALESCE(cc.concept_id, 0) AS condition_concept_id,
    s.start_date AS condition_start_date,
    CAST(s.start_date AS TIMESTAMP) AS condition_start_datetime,
    s.end_date AS condition_end_date,
    CAST(s.end_date AS TIMESTAMP) AS condition_end_datetime,
    {C.TYPE_CLAIM} AS condition_type_concept_id,
    d.status AS condition_status_concept_id,
    CAST(NULL AS VARCHAR) AS stop_reason,
    CAST(NULL AS BIGINT) AS provider_id,
    d.visit_occurrence_id,
    CAST(NULL AS BIGINT) AS visit_detail_id,
    d.code AS condition_source_value,
    COALESCE(cc.source_concept_id, 0) AS condition_source_concept_id,
    d.status_source AS condition_status_source_value
FROM (
    -- a code listed twice keeps its first role: DGN_PAL, then DGN_REL, then ASS_DGN
    SELECT visit_occurrence_id, code, MIN(status) AS status,
        ARG_MIN(status_source, role) AS status_source
    FROM (
        SELECT visit_occurrence_id, dgn_pal AS code, {C.STATUS_PRIMARY} AS status,
            'DGN_PAL' AS status_source, 1 AS role FROM stay WHERE dgn_pal IS NOT NULL
        UNION ALL
        SELECT visit_occurrence_id, dgn_rel, {C.STATUS_SECONDARY}, 'DGN_REL', 2
            FROM stay WHERE dgn_rel IS NOT NULL
        UNION ALL
        SELECT s.visit_occurrence_id, {_code("a.ASS_DGN")}, {C.STATUS_SECONDARY}, 'ASS_DGN', 3
        FROM T_MCOaaD AS a JOIN stay AS s ON s.pmsi_year = a.PMSI_YEAR
            AND s.ETA_NUM = CAST(a.ETA_NUM AS VARCHAR) AND s.RSA_NUM = CAST(a.RSA_NUM AS VARCHAR)
        WHERE {_code("a.ASS_DGN")} IS NOT NULL
    ) AS u
    GROUP BY visit_occurrence_id, code
) AS d
JOIN stay AS s ON s.visit_occurrence_id = d.visit_occurrence_id
LEFT JOIN code_map AS cc ON cc.vocabulary_id = 'CIM10' AND cc.concept_code = d.code
"""

# -- §2.1 + §3.7 dispensings: detail joined to its claim line, netted for cancellations -
# Boxes per person, day and CIP13 (net of cancellations); DRUGS keeps positive nets.
_DRUG_DATE = "COALESCE(p.EXE_SOI_DTD, p.PRE_PRE_DTD)"
_CIP13 = "LPAD(CAST(d.PHA_PRS_C13 AS VARCHAR), 13, '0')"
DRUG_NET = f"""
CREATE TEMP TABLE drug_net AS
SELECT
    p.person_key,
    {_DRUG_DATE} AS start_date,
    {_CIP13} AS cip13,
    MIN(p.dcir_visit_id) AS visit_occurrence_id,
    SUM(d.PHA_ACT_QSN) AS boxes
FROM ER_PHA_F AS d JOIN claims AS p ON {DCIR_KEY_JOIN}
WHERE p.rule IS NULL AND COALESCE(d.PHA_PRS_C13, 0) <> 0 AND {_DRUG_DATE} IS NOT NULL
GROUP BY 1, 2, 3
"""

DRUGS = f"""
SELECT
    stable_id('drug|' || n.person_key || '|' || CAST(n.start_date AS VARCHAR) || '|' || n.cip13)
        AS drug_exposure_id,
    stable_id(n.person_key) AS person_id,
    COALESCE(cc.concept_id, 0) AS drug_concept_id,
    n.start_date AS drug_exposure_start_date,
    CAST(n.start_date AS TIMESTAMP) AS drug_exposure_start_datetime,
    n.start_date + INTERVAL 29 DAY AS drug_exposure_end_date,
    CAST(n.start_date + INTERVAL 29 DAY AS TIMESTAMP) AS drug_exposure_end_datetime,
    CAST(NULL AS DATE) AS verbatim_end_date,
    {C.TYPE_CLAIM} AS drug_type_concept_id,
    CAST(NULL AS VARCHAR) AS stop_reason,
    CAST(NULL AS INTEGER) AS refills,
    n.boxes * CASE WHEN r.PHA_UNT_NBR_DSES LIKE '%+%' THEN 1.0
        ELSE COALESCE(TRY_CAST(REGEXP_EXTRACT(r.PHA_UNT_NBR_DSES, '^ *([0-9]+)', 1) AS DOUBLE), 1.0)
    END AS quantity,
    CAST(NULL AS INTEGER) AS days_supply,
    CAST(NULL AS VARCHAR) AS sig,
    0 AS route_concept_id,
    CAST(NULL AS VARCHAR) AS lot_number,
    CAST(NULL AS BIGINT) AS provider_id,
    n.visit_occurrence_id,
    CAST(NULL AS BIGINT) AS visit_detail_id,
    n.cip13 AS drug_source_value,
    COALESCE(cc.source_concept_id, 0) AS drug_source_concept_id,
    CAST(NULL AS VARCHAR) AS route_source_value,
    r.PHA_DOS_UNT_DSES AS dose_unit_source_value
FROM (SELECT * FROM drug_net WHERE boxes > 0) AS n
LEFT JOIN (
    SELECT LPAD(CAST(PHA_CIP_C13 AS VARCHAR), 13, '0') AS cip13,
        MIN(PHA_UNT_NBR_DSES) AS PHA_UNT_NBR_DSES, MIN(PHA_DOS_UNT_DSES) AS PHA_DOS_UNT_DSES
    FROM IR_PHA_R GROUP BY 1
) AS r ON r.cip13 = n.cip13
LEFT JOIN code_map AS cc ON cc.vocabulary_id = 'CIP13' AND cc.concept_code = n.cip13
"""

# -- §3.6 CCAM acts from DCIR: surcharge lines out, netted quantities ------------------
# Quantity per person, day and act (net of cancellations); PROCEDURES keeps positive nets.
PROCEDURE_NET = f"""
CREATE TEMP TABLE procedure_net AS
SELECT
    p.person_key,
    p.EXE_SOI_DTD AS proc_date,
    UPPER(TRIM(d.CAM_PRS_IDE)) AS code,
    MIN(p.dcir_visit_id) AS visit_occurrence_id,
    SUM(COALESCE(p.PRS_ACT_QTE, 1)) AS quantity
FROM ER_CAM_F AS d JOIN claims AS p ON {DCIR_KEY_JOIN}
WHERE p.rule IS NULL AND COALESCE(CAST(p.CPL_MAJ_TOP AS INTEGER), 0) < 2
  AND NULLIF(TRIM(d.CAM_PRS_IDE), '') IS NOT NULL AND p.EXE_SOI_DTD IS NOT NULL
GROUP BY 1, 2, 3
"""

PROCEDURES = f"""
SELECT
    stable_id('proc|' || n.person_key || '|' || CAST(n.proc_date AS VARCHAR) || '|' || n.code)
        AS procedure_occurrence_id,
    stable_id(n.person_key) AS person_id,
    COALESCE(cc.concept_id, 0) AS procedure_concept_id,
    n.proc_date AS procedure_date,
    CAST(n.proc_date AS TIMESTAMP) AS procedure_datetime,
    n.proc_date AS procedure_end_date,
    CAST(n.proc_date AS TIMESTAMP) AS procedure_end_datetime,
    {C.TYPE_CLAIM} AS procedure_type_concept_id,
    0 AS modifier_concept_id,
    CAST(n.quantity AS INTEGER) AS quantity,
    CAST(NULL AS BIGINT) AS provider_id,
    n.visit_occurrence_id,
    CAST(NULL AS BIGINT) AS visit_detail_id,
    n.code AS procedure_source_value,
    COALESCE(cc.source_concept_id, 0) AS procedure_source_concept_id,
    CAST(NULL AS VARCHAR) AS modifier_source_value
FROM (SELECT * FROM procedure_net WHERE quantity > 0) AS n
LEFT JOIN code_map AS cc ON cc.vocabulary_id = 'CCAM' AND cc.concept_code = n.code
"""

# -- §3.9 death: the death certificate first, else the beneficiary record ---------------
DEATH = f"""
SELECT
    stable_id(d.person_key) AS person_id,
    d.death_date,
    CAST(d.death_date AS TIMESTAMP) AS death_datetime,
    d.type_concept AS death_type_concept_id,
    COALESCE(cc.concept_id, 0) AS cause_concept_id,
    d.cause AS cause_source_value,
    COALESCE(cc.source_concept_id, 0) AS cause_source_concept_id
FROM (
    -- two certificates of one day: the cause decides (first code), not the row order
    SELECT person_key, death_date, cause, type_concept, ROW_NUMBER() OVER (
        PARTITION BY person_key ORDER BY priority, death_date, cause NULLS LAST) AS rn
    FROM (
        SELECT l.person_key, k.BEN_DCD_DTE AS death_date, {_code("k.DCD_CIM_COD")} AS cause,
            {C.TYPE_DEATH_CERTIFICATE} AS type_concept, 0 AS priority
        FROM KI_CCI_R AS k JOIN person_link AS l ON l.source_key = k.BEN_IDT_ANO
        WHERE k.BEN_DCD_DTE IS NOT NULL
        UNION ALL
        SELECT person_key, death_date, CAST(NULL AS VARCHAR), {C.TYPE_CLAIM}, 1
        FROM ben WHERE death_date IS NOT NULL
    ) AS u
) AS d
LEFT JOIN code_map AS cc ON cc.vocabulary_id = 'CIM10' AND cc.concept_code = d.cause
WHERE d.rn = 1
"""

# -- §3.2 observation period ------------------------------------------------------------
# HDH takes first to last event. A beneficiary is covered by national insurance from the
# start of the extract (or birth) to its end (or death), events or not: that person-time
# is what incidence rates need, so the period spans it, widened to any event outside it.
OBSERVATION_PERIOD = f"""
WITH event AS (
    SELECT d.person_key, d.start_date,
        CASE WHEN m.visit_concept_id = {C.VISIT_PHARMACY}
            THEN d.start_date + INTERVAL 29 DAY ELSE d.end_date END AS end_date
    FROM dcir_visit AS d LEFT JOIN prs_nat_ref_map AS m ON m.prs_nat_ref = d.prs_nat_ref
    WHERE d.net > 0
    UNION ALL
    SELECT person_key, start_date, end_date FROM stay
),
extract AS (SELECT MIN(start_date) AS first_day, MAX(end_date) AS last_day FROM event),
own AS (
    SELECT person_key, MIN(start_date) AS first_event, MAX(end_date) AS last_event
    FROM event GROUP BY person_key
),
certified AS (
    SELECT l.person_key, MIN(k.BEN_DCD_DTE) AS death_date
    FROM KI_CCI_R AS k JOIN person_link AS l ON l.source_key = k.BEN_IDT_ANO
    GROUP BY l.person_key
),
covered AS (
    -- birth as the person table gives it (latest row), death as the death table does
    SELECT p.person_key,
        GREATEST(x.first_day, MAKE_DATE(p.birth_year, COALESCE(p.birth_month, 1), 1)) AS s,
        LEAST(x.last_day, COALESCE(k.death_date, p.death_date, x.last_day)) AS e
    FROM (
        SELECT person_key, birth_year, birth_month,
            MIN(death_date) OVER (PARTITION BY person_key) AS death_date,
            ROW_NUMBER() OVER (PARTITION BY person_key ORDER BY {_LATEST_BEN}) AS rn
        FROM ben
    ) AS p
    LEFT JOIN certified AS k ON k.person_key = p.person_key
    CROSS JOIN extract AS x
    WHERE p.rn = 1
),
period AS (
    SELECT c.person_key,
        LEAST(c.s, COALESCE(o.first_event, c.s)) AS start_date,
        GREATEST(c.e, COALESCE(o.last_event, c.e)) AS end_date
    FROM covered AS c LEFT JOIN own AS o ON o.person_key = c.person_key
)
SELECT
    stable_id('op|' || person_key) AS observation_period_id,
    stable_id(person_key) AS person_id,
    start_date AS observation_period_start_date,
    end_date AS observation_period_end_date,
    {C.PERIOD_TYPE_ENCOUNTERS} AS period_type_concept_id
FROM period
WHERE start_date <= end_date
"""

# The link table the hospital linkage reads: source pseudonym -> person id.
LINK_TABLE = """
SELECT source_key, stable_id(person_key) AS person_id FROM person_link
"""

# -- accounting: what became of every staged row ---------------------------------------
# One fate per staged row: 'loaded' when it is part of an OMOP row, else the first rule
# that leaves it out; NULL would be a row neither loaded nor excluded (the ingest refuses
# to publish then). The checks mirror the rules above, in their order; loaded rows are
# counted per file, excluded rows come one by one with their file and line.
_STAY_RULES = f"""
        WHEN c.EXE_SOI_DTD IS NULL THEN 'no_stay_date'
        WHEN NOT ({_RET_OK}) THEN 'chaining_flag_not_0'
        WHEN c.NIR_ANO_17 IN ({_PLACEHOLDERS}) THEN 'placeholder_identifier'
        WHEN l.person_key IS NULL THEN 'unknown_beneficiary'
        WHEN COALESCE(b.GRG_GHM, '') LIKE '90%' THEN 'error_grouping_90'
        WHEN COALESCE(b.SEJ_TYP, '') = 'B' THEN 'inter_establishment_stay'
        WHEN CAST(c.ETA_NUM AS VARCHAR) IN ({_DUP_ETA})
             AND c.PMSI_YEAR <= {C.PMSI_DUPLICATE_LAST_YEAR} THEN 'legal_finess_duplicate'
        WHEN s.visit_occurrence_id IS NOT NULL THEN 'loaded'"""


def _same_stay(a: str, b: str) -> str:
    return (
        f"{b}.PMSI_YEAR = {a}.PMSI_YEAR"
        f" AND CAST({b}.ETA_NUM AS VARCHAR) = CAST({a}.ETA_NUM AS VARCHAR)"
        f" AND CAST({b}.RSA_NUM AS VARCHAR) = CAST({a}.RSA_NUM AS VARCHAR)"
    )


_IN_STAY = "s.pmsi_year = {t}.PMSI_YEAR AND s.ETA_NUM = CAST({t}.ETA_NUM AS VARCHAR) " \
    "AND s.RSA_NUM = CAST({t}.RSA_NUM AS VARCHAR)"  # fmt: skip

_FATES = {
    "IR_BEN_R": """
SELECT r.SOURCE_FILE, r.SOURCE_LINE, CASE
        WHEN COALESCE(CAST(r.BEN_SEX_COD AS INTEGER), 0) NOT IN (1, 2) THEN 'sex_not_1_or_2'
        ELSE 'loaded' END AS fate
FROM IR_BEN_R AS r""",
    "ER_PRS_F": """
SELECT p.SOURCE_FILE, p.SOURCE_LINE, CASE
        WHEN p.rule IS NOT NULL THEN p.rule
        WHEN p.EXE_SOI_DTD IS NULL THEN 'no_care_date'
        WHEN v.net > 0 THEN 'loaded'
        WHEN v.net = 0 THEN 'netted_to_zero'
        WHEN v.net < 0 THEN 'orphan_cancellation' END AS fate
FROM claims AS p LEFT JOIN dcir_visit AS v ON v.visit_occurrence_id = p.dcir_visit_id""",
    "ER_PHA_F": f"""
SELECT d.SOURCE_FILE, d.SOURCE_LINE, CASE
        WHEN p.DCT_ORD_NUM IS NULL THEN 'no_claim_line'
        WHEN p.rule IS NOT NULL THEN p.rule
        WHEN COALESCE(d.PHA_PRS_C13, 0) = 0 THEN 'no_drug_code'
        WHEN {_DRUG_DATE} IS NULL THEN 'no_care_date'
        WHEN n.boxes > 0 THEN 'loaded'
        WHEN n.boxes = 0 THEN 'netted_to_zero'
        WHEN n.boxes < 0 THEN 'orphan_cancellation'
        WHEN d.PHA_ACT_QSN IS NULL THEN 'no_quantity' END AS fate
FROM ER_PHA_F AS d
LEFT JOIN claims AS p ON {DCIR_KEY_JOIN}
LEFT JOIN drug_net AS n ON n.person_key = p.person_key AND n.start_date = {_DRUG_DATE}
    AND n.cip13 = {_CIP13}""",
    "ER_CAM_F": f"""
SELECT d.SOURCE_FILE, d.SOURCE_LINE, CASE
        WHEN p.DCT_ORD_NUM IS NULL THEN 'no_claim_line'
        WHEN p.rule IS NOT NULL THEN p.rule
        WHEN COALESCE(CAST(p.CPL_MAJ_TOP AS INTEGER), 0) >= 2 THEN 'surcharge_line'
        WHEN NULLIF(TRIM(d.CAM_PRS_IDE), '') IS NULL THEN 'no_act_code'
        WHEN p.EXE_SOI_DTD IS NULL THEN 'no_care_date'
        WHEN n.quantity > 0 THEN 'loaded'
        WHEN n.quantity = 0 THEN 'netted_to_zero'
        WHEN n.quantity < 0 THEN 'orphan_cancellation' END AS fate
FROM ER_CAM_F AS d
LEFT JOIN claims AS p ON {DCIR_KEY_JOIN}
LEFT JOIN procedure_net AS n ON n.person_key = p.person_key AND n.proc_date = p.EXE_SOI_DTD
    AND n.code = UPPER(TRIM(d.CAM_PRS_IDE))""",
    "T_MCOaaC": f"""
SELECT c.SOURCE_FILE, c.SOURCE_LINE, CASE
        WHEN b.RSA_NUM IS NULL THEN 'stay_without_T_MCOaaB'{_STAY_RULES} END AS fate
FROM T_MCOaaC AS c
LEFT JOIN T_MCOaaB AS b ON {_same_stay("c", "b")}
LEFT JOIN person_link AS l ON l.source_key = c.NIR_ANO_17
LEFT JOIN stay AS s ON {_IN_STAY.format(t="c")}""",
    # a stay without its chaining row (T_MCOaaC) has no patient and no dates
    "T_MCOaaB": f"""
SELECT b.SOURCE_FILE, b.SOURCE_LINE, CASE
        WHEN c.RSA_NUM IS NULL THEN 'no_chaining_row'{_STAY_RULES} END AS fate
FROM T_MCOaaB AS b
LEFT JOIN T_MCOaaC AS c ON {_same_stay("b", "c")}
LEFT JOIN person_link AS l ON l.source_key = c.NIR_ANO_17
LEFT JOIN stay AS s ON {_IN_STAY.format(t="b")}""",
    "T_MCOaaD": f"""
SELECT a.SOURCE_FILE, a.SOURCE_LINE, CASE
        WHEN s.visit_occurrence_id IS NOT NULL AND {_code("a.ASS_DGN")} IS NULL
            THEN 'no_diagnosis_code'
        WHEN s.visit_occurrence_id IS NOT NULL THEN 'loaded'
        WHEN b.RSA_NUM IS NULL THEN 'stay_without_T_MCOaaB'
        ELSE 'stay_left_out' END AS fate
FROM T_MCOaaD AS a
LEFT JOIN T_MCOaaB AS b ON {_same_stay("a", "b")}
LEFT JOIN stay AS s ON {_IN_STAY.format(t="a")}""",
    "KI_CCI_R": """
SELECT k.SOURCE_FILE, k.SOURCE_LINE, CASE
        WHEN l.person_key IS NULL THEN 'unknown_beneficiary'
        WHEN k.BEN_DCD_DTE IS NULL THEN 'no_death_date'
        ELSE 'loaded' END AS fate
FROM KI_CCI_R AS k LEFT JOIN person_link AS l ON l.source_key = k.BEN_IDT_ANO""",
    # the extract's pharmacy nomenclature: its codes and classes are the CIP13 vocabulary
    "IR_PHA_R": "SELECT SOURCE_FILE, SOURCE_LINE, 'loaded' AS fate FROM IR_PHA_R",
}


def row_fates(unmapped: tuple[str, ...] = ()) -> str:
    """Fates of the staged rows: one row per excluded source row (its line), one per file
    of loaded rows and one per file of rows without a fate (NULL), with their count.
    ``unmapped``: other staged tables, whose rows no rule maps."""
    parts = [f"SELECT '{t}' AS source_table, f.* FROM ({sql}\n) AS f" for t, sql in _FATES.items()]
    parts += [
        f"SELECT '{t}', SOURCE_FILE, SOURCE_LINE, 'table_not_mapped' FROM {t}" for t in unmapped
    ]
    union = "\nUNION ALL\n".join(parts)
    return f"""
SELECT source_table, SOURCE_FILE AS source_file, fate AS rule,
    CASE WHEN fate IS NULL OR fate = 'loaded' THEN NULL ELSE SOURCE_LINE END AS line_number,
    COUNT(*) AS rows
FROM ({union}
) AS u
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2 NULLS LAST, 3 NULLS LAST, 4 NULLS LAST
"""
