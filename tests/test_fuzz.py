"""Fuzzing every reader, a sample of it: mutated real files load with every row accounted for
or are refused with a peelkit error, changing nothing (tests/fuzzing.py says how).

The normal run draws PEELKIT_FUZZ_EXAMPLES (default 30) inputs per fuzz target, the same ones
every run unless PEELKIT_FUZZ_RANDOM is set; scripts/fuzz runs 10,000 per target in a bounded
job. Every input a run found a problem with is kept in tests/fuzz_cases/ and replayed here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import (
    TARGET_NAMES,
    Case,
    Template,
    fuzz_case,
    known_reason,
    make_template,
    run_case,
    save_case,
    saved_cases,
    targets,
)

EXAMPLES = int(os.environ.get("PEELKIT_FUZZ_EXAMPLES", "30"))


@pytest.fixture(scope="session")
def fuzz_template(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Template:
    return make_template(tmp_path_factory.mktemp("fuzz-template"), real_data)


@pytest.mark.parametrize("target", TARGET_NAMES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the work tree; a problem input is printed (and kept
    # under $PEELKIT_FUZZ_SAVE when that is set)
    derandomize=not os.environ.get("PEELKIT_FUZZ_RANDOM"),  # the same sample every run: CI
    # is not red by chance; scripts/fuzz (or PEELKIT_FUZZ_RANDOM=1) explores
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_real_files_are_accounted_for_or_refused_changing_nothing(
    target: str, real_data: Path, fuzz_template: Template, data: st.DataObject
) -> None:
    case = data.draw(fuzz_case(targets(real_data)[target]), label="case")
    outcome = run_case(case, fuzz_template)
    if outcome.verdict == "finding" and os.environ.get("PEELKIT_FUZZ_SAVE"):
        save_case(case, outcome, Path(os.environ["PEELKIT_FUZZ_SAVE"]))
    if known_reason(outcome.signature):  # fixed elsewhere; its kept inputs are xfail below
        return
    assert outcome.verdict != "finding", f"{outcome.signature}\n{outcome.detail}"


CASES = saved_cases()


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=f"{case.target}/{path.name}",
            marks=[pytest.mark.xfail(reason=known_reason(meta["signature"]) or "", strict=False)]
            if known_reason(meta["signature"])
            else [],
        )
        for path, case, meta in CASES
    ],
)
def test_every_kept_fuzz_finding_is_now_accounted_for_or_refused(
    case: Case, fuzz_template: Template
) -> None:
    outcome = run_case(case, fuzz_template)
    assert outcome.verdict in ("loaded", "refused"), f"{outcome.signature}\n{outcome.detail}"


def test_every_format_has_a_fuzz_target_whose_seeds_load_as_they_are(
    real_data: Path, fuzz_template: Template
) -> None:
    from peelkit.readers import all_formats

    kinds = {f.kind for f in all_formats()}
    assert {name.removesuffix("_ods") for name in TARGET_NAMES} == kinds
    for target in targets(real_data).values():
        for seed in target.seeds:
            month = re.match(r"(\d{4}-\d{2})-", seed.name)
            path = f"{month.group(1)}/{seed.name}" if month else seed.name
            outcome = run_case(Case(target.name, path, seed.data, True), fuzz_template)
            assert outcome.verdict == "loaded", (target.name, seed.name, outcome)
