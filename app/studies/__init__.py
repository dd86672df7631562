"""What-if studies: many seeded games of a scenario, paired arms, sweeps and sensitivity, as DataFrames.

    from app.studies import load_study, run
    study = load_study("studies/undercut.yaml")         # or parse_study(text) / Study(...) and prepare(...)
    result = run(study, workers=2)                      # out="results/" also writes the files
    result.summary                                      # one row per arm x sweep point x company x measure
    result.differences                                  # paired differences from the baseline, with 95% CIs
    result.runs                                         # every round of every run (a DataFrame)
    print(result.text())                                # the terminal summary
"""

from app.studies.files import Prepared, StudyError, load_study, parse_study, prepare
from app.studies.runner import RunError, StudyResult, run
from app.studies.schema import Arm, Seat, Sensitivity, Study, Tweak
from app.studies.screen import screen

__all__ = ["Arm", "Prepared", "RunError", "Seat", "Sensitivity", "Study", "StudyError", "StudyResult", "Tweak", "load_study",
           "parse_study", "prepare", "run", "screen"]
