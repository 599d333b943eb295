/* test_metrics.c — Prometheus text rendering (coordinator/metrics.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "metrics.h"

static hpt_metrics_text_t text;

static void setup(void) { hpt_metrics_text_init(&text); }
static void teardown(void) { hpt_metrics_text_close(&text); }

TestSuite(metrics, .init = setup, .fini = teardown);

static void expect_line(const char *line) {
  cr_assert_not_null(text.data);
  char wanted[512];
  snprintf(wanted, sizeof wanted, "%s\n", line);
  /* A whole line: at the start, or after a newline. */
  const char *at = text.data;
  while ((at = strstr(at, wanted)) != NULL) {
    if (at == text.data || at[-1] == '\n')
      return;
    at++;
  }
  cr_assert_fail("missing line \"%s\" in:\n%s", line, text.data);
}

Test(metrics, sample_without_labels) {
  hpt_metrics_sample(&text, "hpt_up", NULL, 0, 1);
  cr_expect_str_eq(text.data, "hpt_up 1\n");
  cr_expect_eq(text.length, strlen("hpt_up 1\n"));
}

Test(metrics, sample_with_labels_and_odd_values) {
  hpt_metrics_label_t labels[] = {{"study", "a"}, {"state", "RUNNING"}};
  hpt_metrics_sample(&text, "x", labels, 2, 0.25);
  hpt_metrics_sample(&text, "x", labels, 1, NAN);
  hpt_metrics_sample(&text, "x", NULL, 0, INFINITY);
  hpt_metrics_sample(&text, "x", NULL, 0, -INFINITY);
  hpt_metrics_sample(&text, "x", NULL, 0, 123456789);
  cr_expect_str_eq(text.data, "x{study=\"a\",state=\"RUNNING\"} 0.25\n"
                              "x{study=\"a\"} NaN\n"
                              "x +Inf\n"
                              "x -Inf\n"
                              "x 123456789\n");
}

Test(metrics, label_values_are_escaped) {
  hpt_metrics_label_t label = {"study", "a\\b\"c\nd"};
  hpt_metrics_sample(&text, "x", &label, 1, 2);
  cr_expect_str_eq(text.data, "x{study=\"a\\\\b\\\"c\\nd\"} 2\n");
}

Test(metrics, help_escapes_backslash_and_newline_not_quotes) {
  hpt_metrics_family(&text, "x", "gauge", "say \"hi\"\\now\nthen");
  cr_expect_str_eq(text.data, "# HELP x say \"hi\"\\\\now\\nthen\n"
                              "# TYPE x gauge\n");
}

Test(metrics, histogram_buckets_are_cumulative) {
  hpt_histogram_t h;
  const double bounds[] = {0.001, 0.01, 0.1};
  hpt_histogram_init(&h, bounds, 3);
  hpt_histogram_observe(&h, 0.0005); /* first bucket */
  hpt_histogram_observe(&h, 0.001);  /* le is inclusive */
  hpt_histogram_observe(&h, 0.05);   /* third */
  hpt_histogram_observe(&h, 7);      /* +Inf only */
  hpt_histogram_observe(&h, NAN);    /* ignored */
  cr_expect_eq(h.count, 4);
  hpt_metrics_label_t label = {"op", "finish"};
  hpt_metrics_histogram(&text, "lat_seconds", &label, 1, &h);
  expect_line("lat_seconds_bucket{op=\"finish\",le=\"0.001\"} 2");
  expect_line("lat_seconds_bucket{op=\"finish\",le=\"0.01\"} 2");
  expect_line("lat_seconds_bucket{op=\"finish\",le=\"0.1\"} 3");
  expect_line("lat_seconds_bucket{op=\"finish\",le=\"+Inf\"} 4");
  expect_line("lat_seconds_count{op=\"finish\"} 4");
  cr_expect(strstr(text.data, "lat_seconds_sum{op=\"finish\"} 7.05") != NULL,
            "%s", text.data);
}

Test(metrics, histogram_without_labels) {
  hpt_histogram_t h;
  hpt_histogram_init(&h, hpt_metrics_latency_bounds,
                     hpt_metrics_latency_n_bounds);
  cr_expect_eq(h.bounds[0], 0.0005);
  cr_expect_eq(h.bounds[h.n_bounds - 1], 10);
  hpt_metrics_histogram(&text, "d_seconds", NULL, 0, &h);
  expect_line("d_seconds_bucket{le=\"0.0005\"} 0");
  expect_line("d_seconds_bucket{le=\"10\"} 0");
  expect_line("d_seconds_bucket{le=\"+Inf\"} 0");
  expect_line("d_seconds_sum 0");
  expect_line("d_seconds_count 0");
}

Test(metrics, histogram_keeps_at_most_max_bounds) {
  double bounds[HPT_HISTOGRAM_MAX_BOUNDS + 5];
  for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
    bounds[i] = (double)(i + 1);
  hpt_histogram_t h;
  hpt_histogram_init(&h, bounds, sizeof bounds / sizeof bounds[0]);
  cr_expect_eq(h.n_bounds, HPT_HISTOGRAM_MAX_BOUNDS);
  hpt_histogram_observe(&h, 1000);
  cr_expect_eq(h.counts[HPT_HISTOGRAM_MAX_BOUNDS], 1);
}

Test(metrics, queue_depth_counts_retries_and_unstarted_budget) {
  hpt_study_progress_t p = {.n_trials = 10,
                            .running = 2,
                            .waiting = 1,
                            .complete = 3,
                            .failed = 1,
                            .retried = 1,
                            .finished = 4};
  /* 1 queued retry + (10 - (1 + 2 + 4)) never sampled. */
  cr_expect_eq(hpt_metrics_queue_depth(&p), 4);
  p.finished = 10;
  p.running = p.waiting = 0;
  cr_expect_eq(hpt_metrics_queue_depth(&p), 0);
}

Test(metrics, render_shows_every_family) {
  hpt_metrics_study_t studies[2] = {
      {.name = "plain",
       .progress = {.n_trials = 5,
                    .running = 1,
                    .complete = 2,
                    .pruned = 1,
                    .failed = 0,
                    .retried = 1,
                    .finished = 3,
                    .has_best = true,
                    .best_value = 0.875}},
      {.name = "we\"ird", .progress = {.n_trials = 3}},
  };
  hpt_histogram_t dispatch, db[2];
  hpt_histogram_init(&dispatch, hpt_metrics_latency_bounds,
                     hpt_metrics_latency_n_bounds);
  hpt_histogram_observe(&dispatch, 0.002);
  hpt_histogram_init(&db[0], hpt_metrics_latency_bounds,
                     hpt_metrics_latency_n_bounds);
  hpt_histogram_init(&db[1], hpt_metrics_latency_bounds,
                     hpt_metrics_latency_n_bounds);
  const char *const ops[] = {"start", "finish"};
  hpt_metrics_snapshot_t snapshot = {.studies = studies,
                                     .n_studies = 2,
                                     .workers_connected = 3,
                                     .dispatch_latency = &dispatch,
                                     .db_write = db,
                                     .db_ops = ops,
                                     .n_db_ops = 2};
  hpt_metrics_render(&snapshot, &text);
  cr_assert_not(text.failed);
  expect_line("# TYPE hpt_up gauge");
  expect_line("hpt_up 1");
  expect_line("hpt_workers_connected 3");
  expect_line("# TYPE hpt_trials gauge");
  expect_line("hpt_trials{study=\"plain\",state=\"RUNNING\"} 1");
  expect_line("hpt_trials{study=\"plain\",state=\"COMPLETE\"} 2");
  expect_line("hpt_trials{study=\"plain\",state=\"PRUNED\"} 1");
  expect_line("hpt_trials{study=\"plain\",state=\"FAIL\"} 1");
  expect_line("hpt_trials{study=\"plain\",state=\"WAITING\"} 0");
  expect_line("hpt_trials{study=\"we\\\"ird\",state=\"COMPLETE\"} 0");
  expect_line("hpt_queue_depth{study=\"plain\"} 1");
  expect_line("hpt_queue_depth{study=\"we\\\"ird\"} 3");
  expect_line("hpt_study_best_value{study=\"plain\"} 0.875");
  cr_expect(strstr(text.data, "hpt_study_best_value{study=\"we") == NULL,
            "no best value without a best trial");
  expect_line("# TYPE hpt_dispatch_latency_seconds histogram");
  expect_line("hpt_dispatch_latency_seconds_bucket{le=\"0.001\"} 0");
  expect_line("hpt_dispatch_latency_seconds_bucket{le=\"0.0025\"} 1");
  expect_line("hpt_dispatch_latency_seconds_bucket{le=\"+Inf\"} 1");
  expect_line("hpt_dispatch_latency_seconds_count 1");
  expect_line("# TYPE hpt_db_write_seconds histogram");
  expect_line("hpt_db_write_seconds_bucket{op=\"start\",le=\"+Inf\"} 0");
  expect_line("hpt_db_write_seconds_count{op=\"finish\"} 0");
  /* Each family's HELP and TYPE appear once. */
  const char *first = strstr(text.data, "# TYPE hpt_db_write_seconds");
  cr_expect_null(strstr(first + 1, "# TYPE hpt_db_write_seconds"));
  cr_expect_eq(text.data[text.length - 1], '\n');
}
