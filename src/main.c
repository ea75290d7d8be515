/* main: flags in, exit status out. Everything else lives in app.c. */
#include "app.h"
#include "camera.h"
#include "config.h"
#include "log.h"

#include <gst/gst.h>
#include <malloc.h>
#include <stdio.h>

/* glibc raises its mmap threshold to the largest block freed after being
 * mapped (up to 32 MiB), and the trim threshold to twice that, for good:
 * after one 1 MiB header flood (gst-rtsp-server's header array grows to
 * 3 MiB) every thread's arena kept up to 6 MiB free at its top, which
 * malloc_trim() does not give back for a thread's arena. Pinned, a
 * thread keeps at most 1 MiB there: the flood test's RSS moved by -0.7 to
 * +0.2 MiB in 16 runs instead of -2.0 to +2.1, and an idle server's RSS
 * went from 33-38 MiB to 32-33. */
static void
pin_malloc_thresholds (void)
{
  mallopt (M_MMAP_THRESHOLD, 512 * 1024);
  mallopt (M_TRIM_THRESHOLD, 1024 * 1024);
}

/* A configuration error: the one line a person reads at a terminal, or,
 * when the logs are JSON, a log line like every other, so that a collector
 * that parses each line (CloudWatch, Fluent Bit) files it as an error
 * instead of as an unreadable line. */
static void
config_error (const char *message, gboolean json)
{
  if (json) {
    rts_log_set_json (TRUE);
    rts_error ("configuration: %s", message);
  } else {
    fprintf (stderr, "rtsp-test-server: %s\n", message);
  }
}

int
main (int argc, char **argv)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  g_auto (GStrv) env = g_get_environ ();
  int status;
  gboolean json;

  pin_malloc_thresholds ();
  /* Before any thread exists: see rts_app_block_signals. */
  rts_app_block_signals ();
  rts_log_init ();
  if (!rts_config_load (&cfg, argv, env, &err)) {
    config_error (err->message, rts_config_error_json (&cfg, argv, env));
    rts_config_clear (&cfg);
    return 2;
  }
  if (cfg.show_help) {
    g_autofree char *help = rts_config_help ();
    fputs (help, stdout);
    rts_config_clear (&cfg);
    return 0;
  }
  if (cfg.show_help_markdown) {
    g_autofree char *table = rts_config_help_markdown ();
    fputs (table, stdout);
    rts_config_clear (&cfg);
    return 0;
  }
  if (cfg.show_version) {
    g_autofree char *gst = gst_version_string ();
    printf ("rtsp-test-server %s (%s)\n", RTS_VERSION, gst);
    rts_config_clear (&cfg);
    return 0;
  }

  /* The check's and the clips' lines too. */
  json = g_strcmp0 (cfg.log_format, "json") == 0;
  rts_log_set_json (json);
  /* After our own parsing, so GStreamer's options never shadow ours. */
  gst_init (NULL, NULL);
  if (!rts_cameras_check (&cfg, &err)) {
    config_error (err->message, json);
    rts_config_clear (&cfg);
    return 2;
  }
  if (cfg.check_config) {
    status = rts_app_check_config (&cfg);
    rts_config_clear (&cfg);
    return status;
  }

  if (cfg.prepare_cache) {
    rts_app_unblock_signals ();
    status = rts_app_prepare_cache (&cfg);
  } else {
    status = rts_app_run (&cfg);
  }
  rts_config_clear (&cfg);
  return status;
}
