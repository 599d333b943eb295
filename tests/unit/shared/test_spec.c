/* test_spec.c — reading study specs from YAML (shared/spec.c,
 * shared/spec_params.c): the good paths, defaults, and one test per
 * rejected input, each checking the one-line "file:line: field" message. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"

static hpt_spec_t *parse_ok(const char *yaml) {
  hpt_spec_t *spec = NULL;
  hpt_error_t error = {0};
  int rc =
      hpt_spec_parse_string(yaml, strlen(yaml), "study.yaml", &spec, &error);
  cr_assert_eq(rc, HPT_OK, "unexpected error: %s", error.message);
  cr_assert_not_null(spec);
  return spec;
}

static void expect_error(const char *yaml, int code, const char *expected) {
  hpt_spec_t *spec = (hpt_spec_t *)1;
  hpt_error_t error = {0};
  int rc =
      hpt_spec_parse_string(yaml, strlen(yaml), "study.yaml", &spec, &error);
  cr_expect_eq(rc, code, "rc %d for: %s", rc, error.message);
  cr_expect_null(spec);
  cr_expect(strstr(error.message, expected) != NULL,
            "message \"%s\" lacks \"%s\"", error.message, expected);
  cr_expect_null(strchr(error.message, '\n'));
}

static const char full_block[] =
    "# a study\n"
    "name: extremism-ngram\n"
    "direction: minimize\n"
    "n_trials: 60\n"
    "max_parallel: 4\n"
    "sampler:\n"
    "  type: random\n"
    "  seed: 42\n"
    "pruner: {type: median, n_startup_trials: 5, n_warmup_steps: 1}\n"
    "params:\n"
    "  lr: {type: float, low: 1.0e-3, high: 1.0, log: true}\n"
    "  epochs:\n"
    "    type: int\n"
    "    low: 2\n"
    "    high: 20\n"
    "  ngram: {type: categorical, choices: [\"1-2\", \"1-3\"]}\n"
    "  head: {type: float, low: 0, high: 1, step: 0.25, when: {ngram: "
    "[\"1-3\"]}}\n"
    "objective: {type: ngram, train: data/train.csv, val_fraction: 0.1, "
    "columns: [text, label]}\n";

Test(spec, full_block_style) {
  hpt_spec_t *spec = parse_ok(full_block);
  cr_expect_str_eq(spec->name, "extremism-ngram");
  cr_expect_eq(spec->direction, HPT_DIRECTION_MINIMIZE);
  cr_expect_eq(spec->n_trials, 60);
  cr_expect_eq(spec->max_parallel, 4);
  cr_expect_str_eq(spec->source, "study.yaml");
  cr_expect_str_eq(spec->base_dir, ".");
  cr_expect_str_eq(spec->text, full_block);

  const hpt_option_t *seed = hpt_options_find(&spec->sampler, "seed");
  cr_assert_not_null(seed);
  cr_expect_str_eq(seed->value, "42");
  cr_expect_eq(seed->line, 8);
  cr_expect_str_eq(spec->sampler.section, "sampler");
  cr_expect_str_eq(spec->sampler.source, "study.yaml");
  cr_expect_str_eq(hpt_options_find(&spec->pruner, "type")->value, "median");
  const hpt_option_t *columns = hpt_options_find(&spec->objective, "columns");
  cr_assert_not_null(columns);
  cr_expect(columns->is_list);
  cr_expect_eq(columns->n_values, 2);
  cr_expect_str_eq(columns->values[1], "label");

  cr_assert_eq(spec->space.n_params, 4);
  const hpt_param_t *lr = &spec->space.params[0];
  cr_expect_str_eq(lr->name, "lr");
  cr_expect_eq(lr->type, HPT_PARAM_FLOAT);
  cr_expect_eq(lr->low, 1e-3);
  cr_expect_eq(lr->high, 1.0);
  cr_expect(lr->log);
  cr_expect_eq(lr->step, 0);
  cr_expect_eq(lr->parent, -1);
  cr_expect_eq(lr->line, 11);
  const hpt_param_t *epochs = &spec->space.params[1];
  cr_expect_eq(epochs->type, HPT_PARAM_INT);
  cr_expect_eq(epochs->step, 1);
  cr_expect_eq(epochs->high, 20);
  const hpt_param_t *ngram = &spec->space.params[2];
  cr_expect_eq(ngram->n_choices, 2);
  cr_expect_str_eq(ngram->choices[1], "1-3");
  const hpt_param_t *head = &spec->space.params[3];
  cr_expect_eq(head->parent, 2);
  cr_expect_eq(head->n_when, 1);
  cr_expect_eq(head->when_choices[0], 1);
  cr_expect_eq(head->step, 0.25);
  hpt_spec_destroy(&spec);
  cr_expect_null(spec);
}

Test(spec, flow_style_whole_document) {
  hpt_spec_t *spec = parse_ok(
      "{name: s1, params: {x: {type: int, low: 1, high: 9, step: 2}}}");
  cr_expect_str_eq(spec->name, "s1");
  cr_expect_eq(spec->space.params[0].step, 2);
  hpt_spec_destroy(&spec);
}

Test(spec, defaults) {
  hpt_spec_t *spec = parse_ok("name: minimal\n");
  cr_expect_eq(spec->direction, HPT_DIRECTION_MAXIMIZE);
  cr_expect_eq(spec->n_trials, 100);
  cr_expect_eq(spec->max_parallel, 1);
  cr_expect_eq(spec->space.n_params, 0);
  cr_expect_str_eq(hpt_options_find(&spec->sampler, "type")->value, "random");
  cr_expect_str_eq(hpt_options_find(&spec->pruner, "type")->value, "none");
  cr_expect_eq(spec->objective.count, 0);
  cr_expect_str_eq(spec->objective.section, "objective");
  hpt_spec_destroy(&spec);
  hpt_spec_destroy(&spec);
  hpt_spec_destroy(NULL);
}

Test(spec, choice_kinds) {
  hpt_spec_t *spec = parse_ok(
      "name: k\n"
      "params:\n"
      "  c: {type: categorical, choices: [true, 3, 1.5e-3, \"7\", adam, "
      "'false', -2]}\n");
  const hpt_param_t *c = &spec->space.params[0];
  cr_assert_eq(c->n_choices, 7);
  hpt_choice_kind_t expected[] = {HPT_CHOICE_BOOL,   HPT_CHOICE_NUMBER,
                                  HPT_CHOICE_NUMBER, HPT_CHOICE_STRING,
                                  HPT_CHOICE_STRING, HPT_CHOICE_STRING,
                                  HPT_CHOICE_NUMBER};
  for (size_t i = 0; i < 7; i++)
    cr_expect_eq(c->choice_kinds[i], expected[i], "choice %zu", i);
  cr_expect_str_eq(c->choices[3], "7");
  hpt_spec_destroy(&spec);
}

Test(spec, float_low_equal_high_is_allowed) {
  hpt_spec_t *spec =
      parse_ok("name: e\nparams:\n  x: {type: float, low: 1, high: 1}\n");
  cr_expect_eq(spec->space.params[0].low, 1);
  hpt_spec_destroy(&spec);
}

Test(spec, children_follow_parents_whatever_the_yaml_order) {
  hpt_spec_t *spec = parse_ok(
      "name: order\n"
      "params:\n"
      "  momentum: {type: float, low: 0, high: 1, when: {opt: sgd}}\n"
      "  beta: {type: float, low: 0, high: 1, when: {kind: [b, c]}}\n"
      "  kind: {type: categorical, choices: [a, b, c], when: {opt: adam}}\n"
      "  opt: {type: categorical, choices: [sgd, adam]}\n");
  const hpt_space_t *space = &spec->space;
  cr_assert_eq(space->n_params, 4);
  for (size_t i = 0; i < space->n_params; i++)
    cr_expect_lt(space->params[i].parent, (int)i, "%s", space->params[i].name);
  int opt = hpt_space_find(space, "opt");
  int kind = hpt_space_find(space, "kind");
  int beta = hpt_space_find(space, "beta");
  int momentum = hpt_space_find(space, "momentum");
  cr_expect_eq(space->params[momentum].parent, opt);
  cr_expect_eq(space->params[momentum].when_choices[0], 0);
  cr_expect_eq(space->params[kind].parent, opt);
  cr_expect_eq(space->params[beta].parent, kind);
  cr_expect_eq(space->params[beta].n_when, 2);
  cr_expect_eq(space->params[beta].when_choices[1], 2);
  hpt_spec_destroy(&spec);
}

Test(spec, parse_file_sets_base_dir_and_text) {
  char dir[] = "/tmp/hpt_spec_XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/study.yaml", dir);
  FILE *file = fopen(path, "w");
  cr_assert_not_null(file);
  fputs(full_block, file);
  fclose(file);
  hpt_spec_t *spec = NULL;
  hpt_error_t error;
  cr_assert_eq(hpt_spec_parse_file(path, &spec, &error), HPT_OK, "%s",
               error.message);
  cr_expect_str_eq(spec->base_dir, dir);
  cr_expect_str_eq(spec->source, path);
  cr_expect_str_eq(spec->text, full_block);
  hpt_spec_destroy(&spec);
  unlink(path);
  rmdir(dir);
}

Test(spec, parse_file_missing) {
  hpt_spec_t *spec = NULL;
  hpt_error_t error;
  cr_expect_eq(hpt_spec_parse_file("/nonexistent/x.yaml", &spec, &error),
               HPT_ENOTFOUND);
  cr_expect_null(spec);
  cr_expect(strstr(error.message, "/nonexistent/x.yaml") != NULL);
}

Test(spec, errors_name_the_file) {
  hpt_spec_t *spec = NULL;
  hpt_error_t error;
  const char *yaml = "name: x\nbogus: 1\n";
  cr_expect_eq(hpt_spec_parse_string(yaml, strlen(yaml), NULL, &spec, &error),
               HPT_EINVAL);
  cr_expect(strncmp(error.message, "<string>:2: unknown key 'bogus'", 31) == 0,
            "%s", error.message);
}

#define BAD(test, yaml, expected)                                              \
  Test(spec_errors, test) { expect_error(yaml, HPT_EINVAL, expected); }

/* ---- YAML syntax ---- */
Test(spec_errors, yaml_syntax_error_has_line) {
  expect_error("name: x\nparams:\n  lr: {type: float, low: 1\n  x: [\n",
               HPT_EPARSE, "study.yaml:");
  expect_error("name: x\n  bad indent: 1\n", HPT_EPARSE, "study.yaml:2:");
}
BAD(empty_document, "", "study.yaml:1: empty spec")
BAD(root_not_mapping, "- a\n- b\n", "study.yaml:1: the spec must be a mapping")
BAD(missing_name, "n_trials: 3\n", "study.yaml:1: missing required key 'name'")

/* ---- top level ---- */
BAD(unknown_top_level_key, "name: x\n\nn_trails: 5\n",
    "study.yaml:3: unknown key 'n_trails' (expected one of: name, direction, "
    "n_trials, max_parallel, max_retries, weight, require, keep_top_k, "
    "sampler, pruner, params, objective)")
BAD(duplicate_top_level_key, "name: x\nname: y\n",
    "study.yaml:2: duplicate key 'name' (first on line 1)")
BAD(bad_name_chars, "name: my study\n", "study.yaml:1: name: must match")
BAD(name_too_long,
    "name: "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
    "study.yaml:1: name: must match [A-Za-z0-9_.-]{1,128}")
BAD(name_not_scalar, "name: [a]\n", "study.yaml:1: name: must match")
BAD(bad_direction, "name: x\ndirection: up\n",
    "study.yaml:2: direction: must be maximize or minimize")
BAD(n_trials_not_integer, "name: x\nn_trials: many\n",
    "study.yaml:2: n_trials: must be an integer")
BAD(n_trials_zero, "name: x\nn_trials: 0\n",
    "study.yaml:2: n_trials: must be between 1 and")
BAD(max_parallel_float, "name: x\nmax_parallel: 2.5\n",
    "study.yaml:2: max_parallel: must be an integer")

/* ---- sections ---- */
BAD(sampler_not_mapping, "name: x\nsampler: random\n",
    "study.yaml:2: sampler: must be a mapping")
BAD(sampler_without_type, "name: x\nsampler: {seed: 1}\n",
    "study.yaml:2: sampler: missing required key 'type'")
BAD(objective_without_type, "name: x\nobjective:\n  train: a.csv\n",
    "study.yaml:3: objective: missing required key 'type'")
BAD(section_nested_mapping,
    "name: x\npruner:\n  type: median\n  extra: {a: 1}\n",
    "study.yaml:4: pruner.extra: nested mappings are not supported")
BAD(section_list_of_mappings, "name: x\nobjective: {type: t, cols: [{a: 1}]}\n",
    "study.yaml:2: objective.cols: list items must be scalars")
BAD(section_duplicate_key, "name: x\nsampler:\n  type: random\n  type: tpe\n",
    "study.yaml:4: sampler.type: duplicate key")

/* ---- params ---- */
BAD(params_not_mapping, "name: x\nparams: [a, b]\n",
    "study.yaml:2: params: must be a mapping")
BAD(param_not_mapping, "name: x\nparams:\n  lr: 0.1\n",
    "study.yaml:3: params.lr: must be a mapping")
BAD(low_greater_than_high,
    "name: x\nparams:\n  a: {type: int, low: 0, high: 1}\n\n\n\n"
    "  lr: {type: float, low: 2, high: 1}\n",
    "study.yaml:7: params.lr: low (2) > high (1)")
BAD(int_low_greater_than_high,
    "name: x\nparams:\n  n: {type: int, low: 5, high: 4}\n",
    "study.yaml:3: params.n: low (5) > high (4)")
BAD(unknown_param_key,
    "name: x\nparams:\n  lr:\n    type: float\n    lowe: 1\n",
    "study.yaml:5: params.lr: unknown key 'lowe' (expected one of: type, low, "
    "high, log, step, choices, when)")
BAD(duplicate_param_key,
    "name: x\nparams:\n  lr: {type: float, low: 0, low: 1, high: 2}\n",
    "study.yaml:3: params.lr: duplicate key 'low'")
BAD(missing_type, "name: x\nparams:\n  lr: {low: 0, high: 1}\n",
    "study.yaml:3: params.lr: missing 'type'")
BAD(bad_type, "name: x\nparams:\n  lr: {type: double, low: 0, high: 1}\n",
    "study.yaml:3: params.lr.type: must be float, int or categorical, not "
    "'double'")
BAD(missing_low, "name: x\nparams:\n  lr: {type: float, high: 1}\n",
    "study.yaml:3: params.lr: missing 'low'")
BAD(missing_high, "name: x\nparams:\n  lr: {type: float, low: 1}\n",
    "study.yaml:3: params.lr: missing 'high'")
BAD(low_not_number,
    "name: x\nparams:\n  lr:\n    type: float\n    low: small\n    high: 1\n",
    "study.yaml:5: params.lr.low: must be a number, not 'small'")
BAD(int_low_not_integer,
    "name: x\nparams:\n  n: {type: int, low: 1.5, high: 4}\n",
    "study.yaml:3: params.n.low: must be an integer, not '1.5'")
BAD(log_not_bool,
    "name: x\nparams:\n  lr: {type: float, low: 1, high: 2, log: maybe}\n",
    "study.yaml:3: params.lr.log: must be true or false")
BAD(log_with_zero_low,
    "name: x\nparams:\n  lr: {type: float, low: 0, high: 1, log: true}\n",
    "study.yaml:3: params.lr.low: must be > 0 when log: true")
BAD(int_log_with_negative_low,
    "name: x\nparams:\n  n: {type: int, low: -1, high: 8, log: true}\n",
    "study.yaml:3: params.n.low: must be > 0 when log: true")
BAD(step_not_dividing,
    "name: x\nparams:\n  lr:\n    type: float\n    low: 0\n    high: 1\n    "
    "step: 0.3\n",
    "study.yaml:7: params.lr.step: 0.3 does not divide high - low (1)")
BAD(int_step_not_dividing,
    "name: x\nparams:\n  n: {type: int, low: 0, high: 10, step: 3}\n",
    "study.yaml:3: params.n.step: 3 does not divide high - low (10)")
BAD(step_negative,
    "name: x\nparams:\n  lr: {type: float, low: 0, high: 1, step: -0.5}\n",
    "study.yaml:3: params.lr.step: must be > 0")
BAD(step_with_log,
    "name: x\nparams:\n  lr: {type: float, low: 0.1, high: 1, step: 0.1, log: "
    "true}\n",
    "study.yaml:3: params.lr: step and log: true cannot be combined")
BAD(choices_on_float,
    "name: x\nparams:\n  lr: {type: float, low: 0, high: 1, choices: [a]}\n",
    "study.yaml:3: params.lr.choices: only categorical parameters take "
    "choices")
BAD(low_on_categorical,
    "name: x\nparams:\n  c: {type: categorical, low: 0, choices: [a]}\n",
    "study.yaml:3: params.c.low: only float and int parameters take low")
BAD(categorical_no_choices_key, "name: x\nparams:\n  c: {type: categorical}\n",
    "study.yaml:3: params.c: missing 'choices'")
BAD(categorical_empty_choices,
    "name: x\nparams:\n  c: {type: categorical, choices: []}\n",
    "study.yaml:3: params.c.choices: must be a non-empty list")
BAD(categorical_choices_scalar,
    "name: x\nparams:\n  c: {type: categorical, choices: adam}\n",
    "study.yaml:3: params.c.choices: must be a non-empty list")
BAD(categorical_duplicate_choice,
    "name: x\nparams:\n  c: {type: categorical, choices: [a, b, a]}\n",
    "study.yaml:3: params.c.choices: duplicate choice 'a'")
BAD(categorical_nested_choice,
    "name: x\nparams:\n  c: {type: categorical, choices: [[a]]}\n",
    "study.yaml:3: params.c.choices: items must be scalars")
BAD(duplicate_param,
    "name: x\nparams:\n  lr: {type: float, low: 0, high: 1}\n"
    "  lr: {type: float, low: 0, high: 2}\n",
    "study.yaml:4: params.lr: duplicate parameter (first on line 3)")

/* ---- when ---- */
BAD(when_unknown_parent,
    "name: x\nparams:\n  h: {type: float, low: 0, high: 1, when: {opt: sgd}}\n",
    "study.yaml:3: params.h.when: unknown parameter 'opt'")
BAD(when_parent_not_categorical,
    "name: x\nparams:\n  lr: {type: float, low: 0, high: 1}\n"
    "  h: {type: float, low: 0, high: 1, when: {lr: 0.5}}\n",
    "study.yaml:4: params.h.when: 'lr' is not categorical")
BAD(when_value_not_a_choice,
    "name: x\nparams:\n  opt: {type: categorical, choices: [sgd, adam]}\n"
    "  h:\n    type: float\n    low: 0\n    high: 1\n    when: {opt: [sgd, "
    "rmsprop]}\n",
    "study.yaml:8: params.h.when: 'rmsprop' is not a choice of 'opt'")
BAD(when_two_parents,
    "name: x\nparams:\n  a: {type: categorical, choices: [x]}\n"
    "  b: {type: categorical, choices: [y]}\n"
    "  h: {type: float, low: 0, high: 1, when: {a: x, b: y}}\n",
    "study.yaml:5: params.h.when: must be a mapping with one parent")
BAD(when_empty_list,
    "name: x\nparams:\n  a: {type: categorical, choices: [x]}\n"
    "  h: {type: float, low: 0, high: 1, when: {a: []}}\n",
    "study.yaml:4: params.h.when: a must map to a choice")
BAD(when_self,
    "name: x\nparams:\n  a: {type: categorical, choices: [x], when: {a: x}}\n",
    "study.yaml:3: params.a.when: a parameter cannot depend on itself")
BAD(when_cycle,
    "name: x\nparams:\n  a: {type: categorical, choices: [x], when: {b: y}}\n"
    "  b: {type: categorical, choices: [y], when: {a: x}}\n",
    "params.a.when: conditions form a cycle")
