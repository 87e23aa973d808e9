# Reference outputs of R for fmsim's trial analyses, read by tests/stats/test_reference.py.
# Run from the repository root (Debian: apt-get install r-base-core r-cran-nlme r-cran-lme4
# r-cran-lmertest r-cran-pbkrtest r-cran-emmeans r-cran-jsonlite):
#   .venv/bin/python tests/stats/reference/make_data.py
#   Rscript tests/stats/reference/make_reference.R
#
# For each data set in data/ it writes what R reports for the treatment effect:
#   ANCOVA     lm(change ~ treated + baseline) at the endpoint week
#   MMRM       nlme::gls, fixed effects week + week:treated + week:baseline, unstructured
#              within-patient covariance (corSymm + varIdent), REML (optim BFGS at tight
#              tolerance: nlminb's default stops about 1e-6 short); Satterthwaite df from
#              emmeans (numerical, "appx-satterthwaite"); the same fixed effects with a random patient intercept (compound
#              symmetry) in lme4 with Satterthwaite (lmerTest) and Kenward-Roger (pbkrtest) df
#   crossover  nlme::lme and lme4::lmer, value ~ treated + factor(period) + baseline with a
#              random patient intercept, REML
suppressPackageStartupMessages({
  library(nlme)
  library(lmerTest)
  library(pbkrtest)
  library(emmeans)
  library(jsonlite)
})

here <- "tests/stats/reference"
read_data <- function(name) {
  read.csv(file.path(here, "data", paste0(name, ".csv")), stringsAsFactors = FALSE)
}

change_table <- function(visits) {
  base <- visits[visits$week == 0, c("patient", "value")]
  names(base)[2] <- "baseline"
  post <- merge(visits[visits$week != 0, ], base, by = "patient")
  post$change <- post$value - post$baseline
  post$treated <- as.numeric(post$arm == "drug")
  post <- post[!is.na(post$change), ]
  post$fweek <- factor(post$week)
  post$visit <- as.integer(post$fweek)
  post[order(post$patient, post$week), ]
}

ancova <- function(post, week) {
  cases <- post[post$week == week, ]
  fit <- lm(change ~ treated + baseline, data = cases)
  coefs <- summary(fit)$coefficients
  list(estimate = coefs["treated", "Estimate"], se = coefs["treated", "Std. Error"],
       df = fit$df.residual)
}

mmrm_unstructured <- function(post, week) {
  fit <- gls(change ~ 0 + fweek + fweek:treated + fweek:baseline, data = post,
             correlation = corSymm(form = ~ visit | patient),
             weights = varIdent(form = ~ 1 | fweek), method = "REML",
             control = glsControl(opt = "optim", optimMethod = "BFGS", tolerance = 1e-14,
                                  msTol = 1e-15, msMaxIter = 5000, maxIter = 5000))
  term <- paste0("fweek", week, ":treated")
  grid <- emmeans(fit, ~ treated | fweek, at = list(treated = c(0, 1)), data = post,
                  mode = "satterthwaite")
  contrast_table <- as.data.frame(contrast(grid, "revpairwise"))
  row <- contrast_table[contrast_table$fweek == as.character(week), ]
  list(estimate = unname(coef(fit)[term]), se = sqrt(vcov(fit)[term, term]),
       reml_loglik = as.numeric(logLik(fit)),
       satterthwaite_estimate = row$estimate, satterthwaite_se = row$SE,
       satterthwaite_df = row$df)
}

mmrm_compound_symmetry <- function(post, week) {
  fit <- lmerTest::lmer(change ~ 0 + fweek + fweek:treated + fweek:baseline + (1 | patient),
                        data = post, REML = TRUE)
  term <- paste0("fweek", week, ":treated")
  contrast <- as.numeric(names(fixef(fit)) == term)
  satterthwaite <- contest1D(fit, contrast, ddf = "Satterthwaite")
  kenward_roger <- contest1D(fit, contrast, ddf = "Kenward-Roger")
  list(estimate = unname(fixef(fit)[term]), se = satterthwaite[["Std. Error"]],
       satterthwaite_df = satterthwaite[["df"]], kenward_roger_se = kenward_roger[["Std. Error"]],
       kenward_roger_df = kenward_roger[["df"]],
       between_variance = as.numeric(VarCorr(fit)$patient), within_variance = sigma(fit)^2)
}

crossover <- function(table) {
  table$treated <- as.numeric(table$treatment != "placebo")
  table$fperiod <- factor(table$period)
  fit <- lme(value ~ treated + fperiod + baseline, random = ~ 1 | patient, data = table,
             method = "REML",
             control = lmeControl(maxIter = 2000, msMaxIter = 2000, tolerance = 1e-12,
                                  msTol = 1e-12, niterEM = 100))
  fit4 <- lme4::lmer(value ~ treated + fperiod + baseline + (1 | patient), data = table,
                     REML = TRUE)
  list(estimate = unname(fixef(fit)["treated"]), se = sqrt(vcov(fit)["treated", "treated"]),
       between_variance = as.numeric(VarCorr(fit)[1, "Variance"]),
       within_variance = fit$sigma^2, reml_loglik = as.numeric(logLik(fit)),
       lme4_estimate = unname(lme4::fixef(fit4)["treated"]),
       lme4_se = sqrt(as.matrix(vcov(fit4))["treated", "treated"]),
       lme4_between_variance = as.numeric(lme4::VarCorr(fit4)$patient))
}

visits_sets <- list(visits_complete = 3, visits_dropout = 4, visits_intermittent = 5,
                    visits_small = 4)
results <- list()
for (name in names(visits_sets)) {
  week <- visits_sets[[name]]
  post <- change_table(read_data(name))
  results[[name]] <- list(endpoint_week = week, ancova = ancova(post, week),
                          mmrm_unstructured = mmrm_unstructured(post, week),
                          mmrm_compound_symmetry = mmrm_compound_symmetry(post, week))
}
crossover_sets <- c("crossover_ab", "crossover_zero_between", "crossover_nct05643794")
for (name in crossover_sets) {
  table <- read_data(name)
  results[[name]] <- list(treatment = setdiff(unique(table$treatment), "placebo"),
                          crossover = crossover(table))
}

versions <- list(R = R.version.string)
for (package in c("nlme", "lme4", "lmerTest", "pbkrtest", "emmeans", "jsonlite")) {
  versions[[package]] <- as.character(packageVersion(package))
}
write_json(list(generated_by = "tests/stats/reference/make_reference.R", versions = versions,
                results = results),
           file.path(here, "reference.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
