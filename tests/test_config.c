/* Unit tests of config: the settings table, flags, environment, errors. */
#include "config.h"

#include <string.h>

static gboolean
load (RtsConfig *cfg, const char *const *args, const char *const *env,
    GError **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, "rtsp-test-server");
  for (guint i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return rts_config_load (cfg, (char **) argv->pdata, (char **) env, err);
}

static void
test_defaults (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;

  g_assert_true (load (&cfg, NULL, NULL, &err));
  g_assert_cmpuint (cfg.n_cameras, ==, 4);
  g_assert_cmpuint (cfg.rtsp_ports[0], ==, 8554);
  g_assert_cmpuint (cfg.rtsp_ports[3], ==, 8557);
  g_assert_cmpuint (cfg.http_port, ==, 8080);
  g_assert_cmpstr (cfg.bind, ==, "0.0.0.0");
  g_assert_null (cfg.public_host);
  g_assert_null (cfg.control_token);
  g_assert_cmpuint (rts_config_threshold (&cfg), ==, 3);
  g_assert_cmpfloat (cfg.probe_timeout, ==, 2.0);
  g_assert_cmpfloat (cfg.probe_interval, ==, 2.0);
  g_assert_cmpuint (cfg.width, ==, 640);
  g_assert_cmpuint (cfg.height, ==, 480);
  g_assert_cmpuint (cfg.fps, ==, 30);
  rts_config_clear (&cfg);
}

static void
test_flags (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  const char *args[] = { "--rtsp-ports", "9000, 0,9002", "--http-port=0",
    "--bind", "::1", "--public-host=cams.example.test", "--healthy-threshold=2",
    "--probe-timeout=0.5", "--control-token=t", NULL };

  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (cfg.n_cameras, ==, 3);
  g_assert_cmpuint (cfg.rtsp_ports[0], ==, 9000);
  g_assert_cmpuint (cfg.rtsp_ports[1], ==, 0);
  g_assert_cmpuint (cfg.rtsp_ports[2], ==, 9002);
  g_assert_cmpuint (cfg.http_port, ==, 0);
  g_assert_cmpstr (cfg.bind, ==, "::1");
  g_assert_cmpstr (cfg.public_host, ==, "cams.example.test");
  g_assert_cmpuint (rts_config_threshold (&cfg), ==, 2);
  g_assert_cmpfloat (cfg.probe_timeout, ==, 0.5);
  g_assert_cmpstr (cfg.control_token, ==, "t");
  rts_config_clear (&cfg);
}

static void
test_auto_threshold (void)
{
  RtsConfig cfg;
  const char *one[] = { "--rtsp-ports=0", NULL };
  const char *two[] = { "--rtsp-ports=0,0", NULL };

  g_assert_true (load (&cfg, one, NULL, NULL));
  g_assert_cmpuint (rts_config_threshold (&cfg), ==, 1);
  rts_config_clear (&cfg);
  g_assert_true (load (&cfg, two, NULL, NULL));
  g_assert_cmpuint (rts_config_threshold (&cfg), ==, 1);
  rts_config_clear (&cfg);
}

static void
test_env_precedence (void)
{
  RtsConfig cfg;
  const char *env[] = { "RTSP_TEST_SERVER_HTTP_PORT=9090",
    "RTSP_TEST_SERVER_CONTROL_TOKEN=from-env", NULL };
  const char *flag[] = { "--http-port=9191", NULL };

  g_assert_true (load (&cfg, NULL, env, NULL));
  g_assert_cmpuint (cfg.http_port, ==, 9090);
  g_assert_cmpstr (cfg.control_token, ==, "from-env");
  rts_config_clear (&cfg);
  g_assert_true (load (&cfg, flag, env, NULL));
  g_assert_cmpuint (cfg.http_port, ==, 9191);
  rts_config_clear (&cfg);
}

static void
test_errors (void)
{
  struct {
    const char *arg;
    const char *env;
    const char *mentions[3];
  } cases[] = {
    { "--http-port=abc", NULL, { "--http-port", "'abc'", "0 to 65535" } },
    { "--http-port=-1", NULL, { "--http-port", "'-1'" } },
    { "--http-port=65536", NULL, { "65536" } },
    { "--rtsp-ports=1,2,1", NULL,
        { "--rtsp-ports", "port 1 is listed twice" } },
    { "--rtsp-ports=", NULL, { "--rtsp-ports" } },
    { "--rtsp-ports=0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0", NULL,
        { "at most 16" } },
    { "--probe-timeout=abc", NULL, { "--probe-timeout", "seconds" } },
    { "--probe-interval=nan", NULL, { "--probe-interval" } },
    { "--bind=localhost", NULL, { "--bind", "'localhost'", "IP address" } },
    { "--public-host=a/b", NULL, { "--public-host", "a/b" } },
    { "--healthy-threshold=5", NULL, { "--healthy-threshold", "4" } },
    { "--height=481", NULL, { "481", "even" } },
    { "--wat", NULL, { "unknown option", "--wat" } },
    { "-x", NULL, { "'-x'" } },
    { NULL, "RTSP_TEST_SERVER_FPS=0",
        { "RTSP_TEST_SERVER_FPS", "'0'", "1 to 120" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *args[] = { cases[i].arg, NULL };
    const char *env[] = { cases[i].env, NULL };

    g_assert_false (load (&cfg, args, env, &err));
    g_assert_nonnull (err);
    for (guint j = 0; j < 3 && cases[i].mentions[j]; j++) {
      if (!strstr (err->message, cases[i].mentions[j]))
        g_error ("'%s': message '%s' does not mention '%s'",
            cases[i].arg ? cases[i].arg : cases[i].env, err->message,
            cases[i].mentions[j]);
    }
    g_assert_null (strchr (err->message, '\n'));
    rts_config_clear (&cfg);
  }
}

static void
test_help (void)
{
  g_autofree char *help = rts_config_help ();
  RtsConfig cfg;
  const char *args[] = { "--help", NULL };

  g_assert_nonnull (strstr (help, "--rtsp-ports LIST"));
  g_assert_nonnull (strstr (help, "RTSP_TEST_SERVER_RTSP_PORTS"));
  g_assert_nonnull (strstr (help, "8554,8555,8556,8557"));
  g_assert_true (load (&cfg, args, NULL, NULL));
  g_assert_true (cfg.show_help);
  rts_config_clear (&cfg);
}

/* The README's settings table is generated from the code's table: if they
 * disagree, the README is stale. */
static void
test_readme_table (void)
{
  const char *readme = g_getenv ("RTS_README");
  g_autofree char *text = NULL;
  g_autofree char *table = rts_config_help_markdown ();

  g_assert_nonnull (readme);
  g_assert_true (g_file_get_contents (readme, &text, NULL, NULL));
  if (!strstr (text, table))
    g_error ("README.md's settings table is stale; replace it with the output "
             "of `rtsp-test-server --help-markdown`:\n%s",
        table);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/flags", test_flags);
  g_test_add_func ("/config/auto-threshold", test_auto_threshold);
  g_test_add_func ("/config/env-precedence", test_env_precedence);
  g_test_add_func ("/config/errors", test_errors);
  g_test_add_func ("/config/help", test_help);
  g_test_add_func ("/config/readme-table", test_readme_table);
  return g_test_run ();
}
