/* Unit tests of metrics: the exposition text parses strictly, names and
 * labels are right, and odd camera names are escaped. */
#include "metrics.h"
#include "testutil.h"

#include <math.h>
#include <string.h>

static double
sample (GHashTable *samples, const char *key)
{
  double *v = g_hash_table_lookup (samples, key);
  if (!v)
    g_error ("no sample %s", key);
  return *v;
}

static void
test_render_parses (void)
{
  RtsCameraView cams[2] = {
    { "cam1", 8554, "/stream", "h264", 640, 480, 30, 2, "open", NULL },
    { "we\"ird\\na\nme", 8555, "/stream", "h264", 640, 480, 30, 0, "hung",
        "hang-port" },
  };
  RtsPortHealth ports[2] = { 0 };
  RtsMetricsCamera mc[2];
  RtsMetricsProcess p = { 12.5, TRUE, FALSE, 50 << 20, 0.1, 1 };
  RtsNow now = { 1764072000000000, 10 * G_USEC_PER_SEC };
  g_autofree char *text = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GHashTable) samples =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int n;

  ports[0] = (RtsPortHealth){ .port = 8554,
    .probed = TRUE,
    .up = TRUE,
    .latency = 0.0004,
    .streaming = TRUE,
    .data_mono = 9 * G_USEC_PER_SEC,
    .probes_ok = 7,
    .probes_failed = 1,
    .stalls = 2 };
  ports[1] = (RtsPortHealth){ .port = 8555, .probed = FALSE, .up = FALSE };
  for (guint i = 0; i < 2; i++) {
    mc[i].cam = &cams[i];
    mc[i].port = &ports[i];
    mc[i].counters = (RtsCameraCounters){ 300 + i, 123456, 5 };
  }
  text = rts_metrics_render (&p, mc, 2, now);
  n = ts_prom_parse (text, samples, &err);
  if (n < 0)
    g_error ("%s\n%s", err, text);
  g_assert_cmpint (n, >, 20);
  g_assert_cmpfloat (sample (samples, "rtsp_test_server_uptime_seconds"), ==,
      12.5);
  g_assert_cmpfloat (sample (samples, "rtsp_test_server_ready"), ==, 0);
  g_assert_cmpfloat (sample (samples,
                         "rtsp_test_server_frames_sent_total{camera=\"cam1\","
                         "port=\"8554\"}"),
      ==, 300);
  g_assert_cmpfloat (sample (samples,
                         "rtsp_test_server_probes_total{camera=\"cam1\","
                         "port=\"8554\",result=\"failed\"}"),
      ==, 1);
  g_assert_cmpfloat (sample (samples,
                         "rtsp_test_server_last_frame_age_seconds{camera="
                         "\"cam1\",port=\"8554\"}"),
      ==, 1);
  /* No video seen yet (while the cameras warm up): unknown, not the time
   * since the monotonic clock's origin. */
  g_assert_true (isnan (sample (samples,
      "rtsp_test_server_last_frame_age_seconds{camera="
      "\"we\\\"ird\\\\na\\nme\",port=\"8555\"}")));
  /* Not probed yet: unknown, not 0 s. */
  g_assert_true (isnan (sample (samples,
      "rtsp_test_server_probe_latency_seconds{camera="
      "\"we\\\"ird\\\\na\\nme\",port=\"8555\"}")));
  g_assert_cmpfloat (sample (samples,
                         "rtsp_test_server_fault_active{camera="
                         "\"we\\\"ird\\\\na\\nme\",port=\"8555\"}"),
      ==, 1);
}

/* The parser must be able to say no, or the test above proves nothing. */
static void
test_parser_rejects (void)
{
  const char *bad[] = {
    "x 1",                                    /* no newline */
    "x 1\n",                                  /* no TYPE */
    "# TYPE x gauge\nx{a=\"1\"} one\n",       /* not a float */
    "# TYPE x gauge\nx{a=1} 1\n",             /* unquoted label */
    "# TYPE x gauge\nx{a=\"\\q\"} 1\n",       /* bad escape */
    "# TYPE x gauge\nx 1\nx 2\n",             /* duplicate series */
    "# TYPE x counter\nx 1\n",                /* counter not _total */
    "# TYPE x_total counter\nx_total -1\n",   /* negative counter */
    "# TYPE x gauge\n# TYPE x gauge\nx 1\n",  /* TYPE twice */
    "# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n", /* label twice */
    "# TYPE 9x gauge\n9x 1\n",                /* bad name */
    "# TYPE x gauge\nx 1\n\nx 2\n",           /* empty line */
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *err = NULL;
    if (ts_prom_parse (bad[i], NULL, &err) != -1)
      g_error ("accepted: %s", bad[i]);
    g_assert_nonnull (err);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/render-parses", test_render_parses);
  g_test_add_func ("/metrics/parser-rejects", test_parser_rejects);
  return g_test_run ();
}
