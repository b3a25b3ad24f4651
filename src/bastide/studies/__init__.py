"""Studies: analyses on cohorts (counts and attrition, characterisation, incidence, drug
utilisation, comparative new-user studies), their plots and HTML report, and study files
that name cohorts and analyses.

    from bastide.studies import load_study, run_study
    run = run_study(load_study(Path("studies/nsaid_gi_bleeding.yaml")), engine, out_dir)

Every analysis also has a Python function (`characterise`, `incidence`, `compare`, …)
returning a typed result; ``result.to_output(name)`` gives its aggregate tables and
figures (`AnalysisOutput`), which is what the disclosure checks see.
"""

from bastide.studies.characterisation import Characterisation, characterise
from bastide.studies.comparative import Comparison, compare
from bastide.studies.counts import CohortCounts, cohort_counts
from bastide.studies.errors import StudyError
from bastide.studies.incidence import IncidenceResult, incidence
from bastide.studies.results import AnalysisOutput, Figure, OutputTable
from bastide.studies.runner import StudyRun, run_analysis, run_study
from bastide.studies.stats import Estimate, incidence_rate, poisson_interval, rate_ratio
from bastide.studies.study import Study, load_study, study_from_dict
from bastide.studies.utilisation import Utilisation, drug_utilisation

__all__ = [
    "AnalysisOutput",
    "Characterisation",
    "CohortCounts",
    "Comparison",
    "Estimate",
    "Figure",
    "IncidenceResult",
    "OutputTable",
    "Study",
    "StudyError",
    "StudyRun",
    "Utilisation",
    "characterise",
    "cohort_counts",
    "compare",
    "drug_utilisation",
    "incidence",
    "incidence_rate",
    "load_study",
    "poisson_interval",
    "rate_ratio",
    "run_analysis",
    "run_study",
    "study_from_dict",
]
