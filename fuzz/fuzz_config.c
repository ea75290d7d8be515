/* fuzz_config: rts_config_load (src/config.c) on fuzzed flags and
 * environment.
 *
 * Input: strings separated by NUL bytes. Those before the first empty
 * string are the arguments after argv[0]; those after it are the
 * environment ("RTSP_TEST_SERVER_HTTP_PORT=8080"). A YAML file target
 * would be its own file here, calling its loader on the bytes as they are. */
#include "fuzz.h"

#include "config.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_glib_fatal ();
  return 0;
}

/* What the rest of the server relies on after a successful load. */
static void
check_loaded (const RtsConfig *cfg)
{
  if (cfg->n_cameras < 1 || cfg->n_cameras > RTS_MAX_CAMERAS
      || cfg->http_port > 65535 || !cfg->bind || !cfg->log_format
      || (strcmp (cfg->log_format, "text") && strcmp (cfg->log_format, "json"))
      || cfg->healthy_threshold > cfg->n_cameras
      || rts_config_threshold (cfg) < 1
      || rts_config_threshold (cfg) > cfg->n_cameras
      || !(cfg->probe_timeout > 0) || !(cfg->probe_interval > 0)
      || !(cfg->stall_threshold > 0) || !(cfg->shutdown_timeout > 0))
    abort ();
  for (guint i = 0; i < cfg->n_cameras; i++) {
    const RtsCameraConfig *c = &cfg->cameras[i];
    if (c->port > 65535 || c->width % 2 || c->height % 2 || c->fps < 1
        || !c->name || !c->path || c->path[0] != '/' || !c->transport_mask)
      abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint n;
  char **fields = fuzz_split (data, size, &n);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GPtrArray) envp = g_ptr_array_new ();
  g_autoptr (GError) err = NULL;
  GPtrArray *into = argv;
  RtsConfig cfg;

  g_ptr_array_add (argv, (char *) "rtsp-test-server");
  for (guint i = 0; i < n; i++) {
    if (into == argv && fields[i][0] == '\0') {
      into = envp;
      continue;
    }
    g_ptr_array_add (into, fields[i]);
  }
  g_ptr_array_add (argv, NULL);
  g_ptr_array_add (envp, NULL);

  if (rts_config_load (&cfg, (char **) argv->pdata, (char **) envp->pdata,
          &err)) {
    if (err)
      abort ();
    /* A help request loads nothing: main prints and exits. */
    if (!cfg.show_help && !cfg.show_version && !cfg.show_help_markdown)
      check_loaded (&cfg);
  } else if (!err || !err->message) {
    abort ();
  }
  /* As main() does on either outcome: leaks on error paths show here. */
  rts_config_clear (&cfg);
  g_strfreev (fields);
  return 0;
}
