"""Crossover mixed model (fmsim.stats.crossover) against R's nlme and lme4 on identical data,
and the batched path against the single-trial path (values in outcome units)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fmsim.stats.crossover import crossover_effect, crossover_effects

#: Required agreement with R (relative): estimates and standard errors.
ESTIMATE_RTOL, SE_RTOL = 1e-6, 1e-4
CROSSOVERS = ["crossover_ab", "crossover_zero_between", "crossover_nct05643794"]


@pytest.mark.parametrize("name", CROSSOVERS)
def test_crossover_matches_r_lme_and_lmer(name, r_results, reference_table):
    ref = r_results[name]["crossover"]
    treatment = r_results[name]["treatment"]
    table = reference_table(name)
    single = crossover_effect(table, "placebo", treatment)
    batched = crossover_effects(table.assign(replicate=0), "placebo", treatment).iloc[0]
    for estimate in (single.estimate, batched.estimate):
        assert estimate == pytest.approx(ref["estimate"], rel=ESTIMATE_RTOL)
        assert estimate == pytest.approx(ref["lme4_estimate"], rel=ESTIMATE_RTOL)
    assert batched.se == pytest.approx(ref["se"], rel=SE_RTOL)
    assert batched.se == pytest.approx(ref["lme4_se"], rel=SE_RTOL)
    assert batched.within_variance == pytest.approx(ref["within_variance"], rel=1e-5)
    scale = ref["within_variance"] + ref["between_variance"]
    assert batched.between_variance == pytest.approx(ref["lme4_between_variance"], abs=1e-6 * scale)


def test_zero_between_variance_stays_on_the_boundary_like_lme4(r_results, reference_table):
    """Negatively correlated period values: the REML between-patient variance is 0 (lme4
    reports exactly 0, nlme a value next to it) and the SE is the OLS-like (X'V^-1 X)^-1."""
    ref = r_results["crossover_zero_between"]["crossover"]
    table = reference_table("crossover_zero_between")
    fit = crossover_effects(table.assign(replicate=0), "placebo", "drug").iloc[0]
    assert fit.between_variance == 0.0
    assert ref["lme4_between_variance"] == 0.0
    assert ref["between_variance"] < 1e-6 * ref["within_variance"]
    assert fit.se == pytest.approx(ref["lme4_se"], rel=SE_RTOL)


def random_crossovers(seed: int, replicates: int) -> pd.DataFrame:
    """Three-sequence crossovers (AB, BA, placebo-placebo) of 9-30 patients with baselines,
    a random between-patient SD (0 in some replicates) and 0-40 % missing second periods."""
    rng = np.random.default_rng(seed)
    orders = {"AB": ("placebo", "drug"), "BA": ("drug", "placebo"), "PP": ("placebo",) * 2}
    rows = []
    for r in range(replicates):
        between = rng.choice([0.0, 0.5, 1.5])
        missing = rng.uniform(0.0, 0.4)
        for i in range(rng.integers(9, 31)):
            sequence = ["AB", "BA", "PP"][i % 3]
            level, baseline = rng.normal(0, between), rng.normal(6.0, 1.0)
            for period, treatment in enumerate(orders[sequence], start=1):
                if period == 2 and rng.random() < missing:
                    continue
                value = 5 + level + 0.3 * baseline + 0.2 * period - 0.5 * (treatment == "drug")
                rows.append(
                    (f"r{r}", f"p{i}", sequence, period, treatment, value + rng.normal(0, 0.8))
                )
                rows[-1] += (baseline,)
    columns = ["replicate", "patient", "sequence", "period", "treatment", "value", "baseline"]
    return pd.DataFrame(rows, columns=columns)


def test_batched_equals_single_trial_fits_on_random_unbalanced_designs():
    table = random_crossovers(11, 16)
    batched = crossover_effects(table, "placebo", "drug").set_index("replicate")
    assert (batched["between_variance"] == 0).sum() >= 2  # boundary fits are among them
    for replicate, rows in table.groupby("replicate"):
        single = crossover_effect(rows.drop(columns="replicate"), "placebo", "drug")
        row = batched.loc[replicate]
        assert row.estimate == pytest.approx(single.estimate, rel=1e-9, abs=1e-12)
        assert row.ci_low == pytest.approx(single.ci_low, rel=1e-9)
        assert row.p_value == pytest.approx(single.p_value, rel=1e-8, abs=1e-14)


def test_batched_crossover_bad_inputs_name_the_problem():
    table = random_crossovers(1, 2)
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['replicate'\]"):
        crossover_effects(table.drop(columns="replicate"), "placebo", "drug")
    with pytest.raises(ValueError, match="duplicate rows, e.g."):
        crossover_effects(pd.concat([table, table.iloc[:1]]), "placebo", "drug")
    with pytest.raises(ValueError, match="column 'treatment' has no 'active'"):
        crossover_effects(table, "placebo", "active")
    one_period = table[(table["replicate"] == "r0") & (table["period"] == 1)]
    with pytest.raises(ValueError, match=r"replicates \['r0'\] are not estimable"):
        crossover_effects(
            pd.concat([one_period, table[table["replicate"] == "r1"]]), "placebo", "drug"
        )
