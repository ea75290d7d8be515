/* Unit tests of config: the settings table, flags, environment, errors. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *write_config (const char *text);

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
  g_assert_cmpuint (cfg.cameras[0].port, ==, 8554);
  g_assert_cmpuint (cfg.cameras[3].port, ==, 8557);
  g_assert_cmpuint (cfg.http_port, ==, 8080);
  g_assert_cmpstr (cfg.bind, ==, "0.0.0.0");
  g_assert_null (cfg.public_host);
  g_assert_null (cfg.control_token);
  g_assert_cmpuint (rts_config_threshold (&cfg), ==, 3);
  g_assert_cmpfloat (cfg.probe_timeout, ==, 2.0);
  g_assert_cmpfloat (cfg.probe_interval, ==, 2.0);
  g_assert_cmpuint (cfg.cameras[0].width, ==, 640);
  g_assert_cmpuint (cfg.cameras[0].height, ==, 480);
  g_assert_cmpuint (cfg.cameras[0].fps, ==, 30);
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
  g_assert_cmpuint (cfg.cameras[0].port, ==, 9000);
  g_assert_cmpuint (cfg.cameras[1].port, ==, 0);
  g_assert_cmpuint (cfg.cameras[2].port, ==, 9002);
  g_assert_cmpuint (cfg.http_port, ==, 0);
  g_assert_cmpstr (cfg.bind, ==, "::1");
  g_assert_cmpstr (cfg.public_host, ==, "cams.example.test");
  g_assert_cmpuint (rts_config_threshold (&cfg), ==, 2);
  g_assert_cmpfloat (cfg.probe_timeout, ==, 0.5);
  g_assert_cmpstr (cfg.control_token, ==, "t");
  rts_config_clear (&cfg);
}

/* The smallest stall threshold a camera's frame rate allows is taken. */
static void
test_stall_threshold_fits (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  const char *slow[] = { "--fps=1", "--stall-threshold=1.25", NULL };
  const char *fast[] = { "--stall-threshold=0.29", NULL };

  g_assert_true (load (&cfg, slow, NULL, &err));
  g_assert_no_error (err);
  rts_config_clear (&cfg);
  g_assert_true (load (&cfg, fast, NULL, &err));
  g_assert_no_error (err);
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
  /* A flag replaces a variable's value unread: a bad one too (it failed
   * the start the flag was given to fix), per camera alike. */
  {
    const char *bad[] = { "RTSP_TEST_SERVER_FPS=abc",
      "RTSP_TEST_SERVER_CAMERA_CAM2_FPS=0", NULL };
    const char *fps[] = { "--fps", "12", NULL };
    g_autoptr (GError) err = NULL;

    g_assert_false (load (&cfg, NULL, bad, &err));
    g_assert_nonnull (strstr (err->message, "RTSP_TEST_SERVER_FPS"));
    rts_config_clear (&cfg);
    g_assert_true (load (&cfg, fps, bad, NULL));
    g_assert_cmpuint (cfg.cameras[0].fps, ==, 12);
    g_assert_cmpuint (cfg.cameras[1].fps, ==, 12);
    rts_config_clear (&cfg);
  }
  /* One camera's port as a variable (a task definition moving one):
   * above RTSP_TEST_SERVER_RTSP_PORTS and the file, below --rtsp-ports. */
  {
    g_autofree char *path =
        write_config ("cameras:\n  - {name: lobby, port: 9001}\n"
                      "  - {name: yard, port: 9002}\n");
    g_autofree char *file = g_strconcat ("--config=", path, NULL);
    const char *one[] = { "RTSP_TEST_SERVER_CAMERA_CAM2_PORT=9102", NULL };
    const char *both[] = { "RTSP_TEST_SERVER_RTSP_PORTS=9201,9202,9203,9204",
      "RTSP_TEST_SERVER_CAMERA_CAM2_PORT=9102", NULL };
    const char *lobby[] = { "RTSP_TEST_SERVER_CAMERA_LOBBY_PORT=9301", NULL };
    const char *with_file[] = { file, NULL };
    const char *with_flag[] = { file, "--rtsp-ports=9401,9402", NULL };
    const char *typo[] = { "RTSP_TEST_SERVER_CAMERA_LOBBY_PORTS=9301", NULL };
    g_autoptr (GError) err = NULL;

    g_assert_true (load (&cfg, NULL, one, NULL));
    g_assert_cmpuint (cfg.cameras[0].port, ==, 8554);
    g_assert_cmpuint (cfg.cameras[1].port, ==, 9102);
    g_assert_cmpstr (rts_config_origin (&cfg, &cfg.cameras[1].port), ==,
        "RTSP_TEST_SERVER_CAMERA_CAM2_PORT");
    rts_config_clear (&cfg);
    g_assert_true (load (&cfg, NULL, both, NULL));
    g_assert_cmpuint (cfg.cameras[0].port, ==, 9201);
    g_assert_cmpuint (cfg.cameras[1].port, ==, 9102);
    rts_config_clear (&cfg);
    g_assert_true (load (&cfg, with_file, lobby, NULL));
    g_assert_cmpuint (cfg.cameras[0].port, ==, 9301);
    g_assert_cmpuint (cfg.cameras[1].port, ==, 9002);
    rts_config_clear (&cfg);
    g_assert_true (load (&cfg, with_flag, lobby, NULL));
    g_assert_cmpuint (cfg.cameras[0].port, ==, 9401);
    g_assert_cmpuint (cfg.cameras[1].port, ==, 9402);
    rts_config_clear (&cfg);
    g_assert_false (load (&cfg, with_file, typo, &err));
    g_assert_nonnull (strstr (err->message,
        "did you mean 'RTSP_TEST_SERVER_CAMERA_LOBBY_PORT'"));
    rts_config_clear (&cfg);
  }
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
    { "--probe-timeout=abc", NULL, { "--probe-timeout", "seconds" } },
    { "--probe-interval=nan", NULL, { "--probe-interval" } },
    { "--bind=localhost", NULL, { "--bind", "'localhost'", "IP address" } },
    /* Taken by the check, refused by the listeners: the start failed. */
    { "--bind=::1%lo", NULL, { "--bind", "'::1%lo'", "scope" } },
    { NULL, "RTSP_TEST_SERVER_BIND=fe80::1%999",
        { "RTSP_TEST_SERVER_BIND", "'fe80::1%999'", "not an IP address" } },
    /* Listened on, never connected to: unhealthy for good. */
    { "--bind=239.1.1.1", NULL, { "--bind", "'239.1.1.1'", "multicast" } },
    { "--bind=ff02::1", NULL, { "--bind", "'ff02::1'", "multicast" } },
    { "--bind=255.255.255.255", NULL, { "--bind", "broadcast" } },
    { "--public-host=a/b", NULL, { "--public-host", "a/b" } },
    /* Nothing readers could not resolve goes into every URL. */
    { "--public-host=a..b", NULL,
        { "not a host name or IP address", "labels of 1 to 63" } },
    { "--public-host=-bad-", NULL,
        { "not a host name or IP address", "labels of 1 to 63" } },
    { "--public-host=cam\xc3\xa9.local", NULL,
        { "not a host name or IP address", "ASCII only", "xn--" } },
    { "--public-host=999", NULL, { "not a host name or IP address", "IPv4" } },
    { "--public-host=1.2.3.4.5", NULL,
        { "not a host name or IP address", "IPv4" } },
    { "--public-host=host:8554", NULL,
        { "not a host name or IP address", "no port" } },
    { "--public-host=fe80::1%lo", NULL,
        { "not a host name or IP address", "no scope" } },
    /* As a URL writes it, the brackets are taken; anything else in them is
     * no host (it read "no port"). */
    { "--public-host=[::1", NULL, { "'[::1'", "brackets" } },
    { "--public-host=[cam.local]", NULL, { "'[cam.local]'", "brackets" } },
    { "--healthy-threshold=5", NULL, { "--healthy-threshold", "4" } },
    { "--height=481", NULL, { "481", "even" } },
    { "--wat", NULL, { "unknown option", "--wat" } },
    { "--fsp=3", NULL, { "unknown option '--fsp'", "did you mean '--fps'" } },
    { "--check-config=yes", NULL, { "--check-config takes no value" } },
    /* The local network's control block: sent there, a stream lands on
     * every host. */
    { "--multicast-addresses=224.0.0.251", NULL,
        { "--multicast-addresses", "'224.0.0.251'", "224.0.0.0-224.0.0.255" } },
    { "-x", NULL, { "'-x'" } },
    { NULL, "RTSP_TEST_SERVER_FPS=0",
        { "RTSP_TEST_SERVER_FPS", "'0'", "1 to 120" } },
    /* A variable set from a file, its line end kept: one line, escaped. */
    { NULL, "RTSP_TEST_SERVER_FPS=10\n",
        { "RTSP_TEST_SERVER_FPS", "'10\\n'", "control character" } },
    { NULL, "RTSP_TEST_SERVER_PROBE_TIMEOUT=0x10",
        { "RTSP_TEST_SERVER_PROBE_TIMEOUT", "'0x10'", "seconds" } },
    /* Spaces around a number are refused alike, whole or seconds (a
     * leading one was taken in seconds only). */
    { "--probe-timeout= 2", NULL, { "--probe-timeout", "' 2'", "seconds" } },
    { "--probe-timeout=2 ", NULL, { "--probe-timeout", "'2 '" } },
    { "--fps= 5", NULL, { "--fps", "' 5'", "whole number" } },
    { "--fps=5 ", NULL, { "--fps", "'5 '", "no space around it" } },
    /* HTTP trims a header's value: such a token could never match. */
    { "--control-token=tok ", NULL, { "--control-token", "no space" } },
    { NULL, "RTSP_TEST_SERVER_CONTROL_TOKEN= tok",
        { "RTSP_TEST_SERVER_CONTROL_TOKEN", "ASCII" } },
    { "--control-token=t\xc3\xb6k", NULL, { "--control-token", "ASCII" } },
    /* Readiness flapped at every frame: 1 s between frames, 0.5 s without
     * one called a stall. */
    { "--stall-threshold=0.5", "RTSP_TEST_SERVER_FPS=1",
        { "--stall-threshold", "'cam1' at 1 fps (RTSP_TEST_SERVER_FPS)",
            "at least 1.25 s" } },
    { "--stall-threshold=0.27", NULL,
        { "30 fps (default)", "at least 0.29 s" } },
    /* Below what any rate allows (1/120 s + 0.25 s): the bound says so. */
    { "--stall-threshold=0.25", NULL, { "0.26 to 600" } },
    /* Not UTF-8: shown escaped, refused (a path may hold such bytes). */
    { NULL, "RTSP_TEST_SERVER_PATH=/a\xff",
        { "RTSP_TEST_SERVER_PATH", "'/a\\xff'", "not valid UTF-8" } },
    { "--auth-password=p\xff", NULL,
        { "--auth-password", "(hidden)", "UTF-8" } },
    /* A default is called one, and the way to change it is named (it was
     * labelled "(http-port)", as if set by a flag of that name). */
    { "--rtsp-ports=8080", NULL,
        { "(--rtsp-ports)", "(default http port", "--http-port" } },
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
  /* Two files were not read as one (the first was left out unread); a
   * check and a cache preparation in one run did the check alone. */
  {
    const char *const pairs[][2] = {
      { "--config=a.yaml", "--config=b.yaml" },
      { "--check-config", "--prepare-cache" },
    };
    const char *says[] = { "--config given twice ('a.yaml', then 'b.yaml')",
      "--check-config and --prepare-cache: give one" };

    for (guint i = 0; i < G_N_ELEMENTS (pairs); i++) {
      RtsConfig cfg;
      g_autoptr (GError) err = NULL;
      const char *args[] = { pairs[i][0], pairs[i][1], NULL };

      g_assert_false (load (&cfg, args, NULL, &err));
      g_assert_nonnull (strstr (err->message, says[i]));
      rts_config_clear (&cfg);
    }
  }
  /* "--clip-cache --check-config": the next option is no value (the
   * check silently did not run, and the server started). */
  {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *args[] = { "--clip-cache", "--check-config", NULL };
    const char *env[] = { NULL };

    g_assert_false (load (&cfg, args, env, &err));
    g_assert_nonnull (strstr (err->message, "--clip-cache: needs a value"));
    g_assert_nonnull (strstr (err->message, "'--check-config'"));
    rts_config_clear (&cfg);
  }
  /* A DNS name is at most 253 characters, in labels of at most 63. */
  {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    g_autofree char *label = g_strnfill (63, 'a');
    g_autofree char *last = g_strnfill (61, 'a');
    g_autofree char *arg = g_strdup_printf ("--public-host=%s.%s.%s.%sb", label,
        label, label, last);
    const char *args[] = { arg, NULL };

    g_assert_cmpuint (strlen (arg + strlen ("--public-host=")), ==, 254);
    g_assert_false (load (&cfg, args, NULL, &err));
    g_assert_nonnull (strstr (err->message, "(254 bytes)"));
    g_assert_nonnull (strstr (err->message, "at most 253"));
    rts_config_clear (&cfg);
    arg[strlen (arg) - 1] = '\0';
    g_assert_true (load (&cfg, args, NULL, NULL));
    rts_config_clear (&cfg);
  }
  /* Names and addresses readers can resolve (the bad ones: the table
   * above). */
  {
    const char *good[] = { "example.com", "cam_1.local.", "10.0.0.1", "::1",
      "[::1]" };

    for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
      RtsConfig cfg;
      g_autofree char *arg = g_strconcat ("--public-host=", good[i], NULL);
      const char *args[] = { arg, NULL };

      g_assert_true (load (&cfg, args, NULL, NULL));
      rts_config_clear (&cfg);
    }
  }
}

/* A control token the HTTP server can carry: one near 64 KiB was taken,
 * and every control request then went unanswered. */
static void
test_token_length (void)
{
  g_autofree char *ok = g_strnfill (4096, 't');
  g_autofree char *long_token = g_strnfill (4097, 't');
  g_autofree char *flag_ok = g_strconcat ("--control-token=", ok, NULL);
  g_autofree char *var =
      g_strconcat ("RTSP_TEST_SERVER_CONTROL_TOKEN=", long_token, NULL);
  const char *args[] = { flag_ok, NULL };
  const char *env[] = { var, NULL };
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;

  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  rts_config_clear (&cfg);
  g_assert_false (load (&cfg, NULL, env, &err));
  g_assert_nonnull (strstr (err->message,
      "RTSP_TEST_SERVER_CONTROL_TOKEN: is 4097 bytes; at most 4096"));
  g_assert_null (strstr (err->message, long_token));
  rts_config_clear (&cfg);
}

/* A file's name is any bytes Linux allows, UTF-8 or not. */
static void
test_path_bytes (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rts-config-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "\xff.mp4", NULL);
  g_autofree char *flag = g_strconcat ("--file=", file, NULL);
  const char *args[] = { "--source=file", flag, "--clip-cache=/tmp/\xfe",
    NULL };
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;

  g_assert_true (g_file_set_contents (file, "", -1, NULL));
  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (cfg.cameras[0].file, ==, file);
  rts_config_clear (&cfg);
  g_unlink (file);
  g_rmdir (dir);
}

static void
test_too_many_ports (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  g_autoptr (GString) list = g_string_new ("--rtsp-ports=0");
  const char *args[] = { NULL, NULL };

  for (guint i = 0; i < RTS_MAX_CAMERAS; i++)
    g_string_append (list, ",0");
  args[0] = list->str;
  g_assert_false (load (&cfg, args, NULL, &err));
  g_assert_nonnull (strstr (err->message, "at most 256"));
  rts_config_clear (&cfg);
}

/* A configuration file in a temporary directory; the name is freed by
 * the caller, the file removed at exit of the test process's tmp dir. */
static char *
write_config (const char *text)
{
  g_autoptr (GError) err = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("rts-config-XXXXXX.yaml", &path, &err);

  g_assert_no_error (err);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static const char example[] = "http: {port: 9080}\n"
                              "bind: 127.0.0.1\n"
                              "health:\n"
                              "  probe_interval: 0.5\n"
                              "defaults:\n"
                              "  fps: 25\n"
                              "cameras:\n"
                              "  - name: lobby\n"
                              "    port: 9554\n"
                              "    codec: h264\n"
                              "    profile: high\n"
                              "    width: 1280\n"
                              "    height: 720\n"
                              "    auth: {type: digest, user: admin, "
                              "password: secret}\n"
                              "    transports: [tcp]\n"
                              "  - name: garage\n"
                              "    port: 9555\n"
                              "    path: /live/main\n"
                              "    fps: 10\n";

static void
test_file (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  g_autofree char *path = write_config (example);
  const char *args[] = { "--config", path, NULL };

  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (cfg.http_port, ==, 9080);
  g_assert_cmpstr (cfg.bind, ==, "127.0.0.1");
  g_assert_cmpfloat (cfg.probe_interval, ==, 0.5);
  g_assert_cmpuint (cfg.n_cameras, ==, 2);
  g_assert_cmpstr (cfg.cameras[0].name, ==, "lobby");
  g_assert_cmpuint (cfg.cameras[0].port, ==, 9554);
  g_assert_cmpstr (cfg.cameras[0].path, ==, "/stream");
  g_assert_cmpstr (cfg.cameras[0].profile, ==, "high");
  g_assert_cmpuint (cfg.cameras[0].width, ==, 1280);
  g_assert_cmpuint (cfg.cameras[0].fps, ==, 25); /* from defaults */
  g_assert_cmpuint (cfg.cameras[0].gop, ==, 25); /* one second */
  g_assert_cmpstr (cfg.cameras[0].auth, ==, "digest");
  g_assert_cmpstr (cfg.cameras[0].user, ==, "admin");
  g_assert_cmpstr (cfg.cameras[0].password, ==, "secret");
  g_assert_cmpuint (cfg.cameras[0].transport_mask, ==, RTS_TRANSPORT_TCP);
  g_assert_cmpstr (cfg.cameras[1].name, ==, "garage");
  g_assert_cmpstr (cfg.cameras[1].path, ==, "/live/main");
  g_assert_cmpuint (cfg.cameras[1].fps, ==, 10);
  g_assert_cmpuint (cfg.cameras[1].width, ==, 640);
  g_assert_cmpuint (cfg.cameras[1].transport_mask, ==,
      RTS_TRANSPORT_TCP | RTS_TRANSPORT_UDP);
  g_assert_cmpuint (rts_config_threshold (&cfg), ==, 1);
  {
    g_autofree char *summary = rts_config_summary (&cfg, NULL);
    g_assert_nonnull (strstr (summary, "lobby: port 9554/stream"));
    g_assert_null (strstr (summary, "secret"));
  }
  rts_config_clear (&cfg);
}

/* flag > environment (per camera > global) > file > default. */
static void
test_file_precedence (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  g_autofree char *path = write_config (example);
  const char *env[] = { NULL, "RTSP_TEST_SERVER_HTTP_PORT=9081",
    "RTSP_TEST_SERVER_WIDTH=320", "RTSP_TEST_SERVER_CAMERA_GARAGE_WIDTH=160",
    "RTSP_TEST_SERVER_CAMERA_LOBBY_AUTH_PASSWORD=from-env", NULL };
  g_autofree char *var = g_strconcat ("RTSP_TEST_SERVER_CONFIG=", path, NULL);
  const char *flags[] = { "--http-port=9082", "--fps=5", "--rtsp-ports=0,9600",
    NULL };

  env[0] = var;
  g_assert_true (load (&cfg, NULL, env, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (cfg.http_port, ==, 9081);
  g_assert_cmpuint (cfg.cameras[0].width, ==, 320);
  g_assert_cmpuint (cfg.cameras[1].width, ==, 160);
  g_assert_cmpstr (cfg.cameras[0].password, ==, "from-env");
  g_assert_cmpuint (cfg.cameras[0].fps, ==, 25);
  rts_config_clear (&cfg);

  g_assert_true (load (&cfg, flags, env, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (cfg.http_port, ==, 9082);
  g_assert_cmpuint (cfg.cameras[0].fps, ==, 5);
  g_assert_cmpuint (cfg.cameras[1].fps, ==, 5);
  g_assert_cmpuint (cfg.cameras[0].port, ==, 0);
  g_assert_cmpuint (cfg.cameras[1].port, ==, 9600);
  rts_config_clear (&cfg);
}

/* Every error names the file, the line, the key, the bad value and what
 * is allowed, on one line. */
static void
test_file_errors (void)
{
  struct {
    const char *text;
    const char *mentions[4];
  } cases[] = {
    { "http:\n  prot: 1\n",
        { ":2:", "'http.prot'", "did you mean 'http.port'" } },
    { "http: {port: abc}\n", { ":1:", "'http.port'", "'abc'", "0 to 65535" } },
    { "cameras:\n  - name: a\n    fsp: 3\n",
        { ":3:", "'cameras[0].fsp'", "did you mean 'fps'" } },
    { "cameras:\n  - {name: a, auth: basic}\n",
        { ":2:", "'cameras[0].auth' takes a map", "type: ...",
            "password: ..." } },
    { "http: 8080\n", { ":1:", "'http' takes a map", "http: {port: ...}" } },
    { "cameras:\n  - name: a\n    codec: h266\n",
        { ":3:", "cameras[0].codec", "'h266'", "h264, h265, mjpeg" } },
    { "cameras:\n  - name: a\n    transports: [tcp, sctp]\n",
        { ":3:", "transports", "'sctp'", "tcp, udp" } },
    { "cameras:\n  - name: a\n    fps: [1, 2]\n",
        { ":3:", "fps", "not a list" } },
    { "cameras:\n  - name: a\n    auth: {type: basic, user: u, password: "
      "hunter2, x: 1}\n",
        { ":3:", "'cameras[0].auth.x'" } },
    { "cameras:\n  - name: a\n  - name: a\n", { "camera 'a'", "twice" } },
    /* A generated name says whose it is. */
    { "cameras:\n  - {port: 9001}\n  - {name: cam1, port: 9002}\n",
        { "camera 'cam1'", ":3:", "the default name of cameras[0]" } },
    /* The list's items are joined with commas: one holding one was taken
     * as two. */
    { "cameras:\n  - name: a\n    transports: [\"tcp,udp\"]\n",
        { ":3:", "'cameras[0].transports'", "'tcp,udp'", "comma" } },
    /* Both from one layer: meant together, so refused together. */
    { "cameras:\n  - {name: a, auth: {type: none, user: u}}\n",
        { "camera 'a'", "auth.user is set but auth.type is none" } },
    { "cameras:\n  - {name: a, port: 9000}\n  - {name: b, port: 9000}\n",
        { "camera 'b'", "port 9000" } },
    { "cameras:\n  - name: a b\n", { "name 'a b'" } },
    { "cameras:\n  - {name: a, path: stream}\n", { "path 'stream'", "/" } },
    { "cameras:\n  - {name: a, source: file}\n", { "camera 'a'", "'file'" } },
    { "cameras:\n  - {name: a, overlay: true, source: loop}\n",
        { "overlay", "live" } },
    { "cameras:\n  - {name: a, auth: {type: digest}}\n",
        { "auth digest", "auth.user" } },
    { "cameras:\n  - {name: a, codec: h265, profile: high}\n",
        { "profile 'high'", "h264" } },
    { "cameras: []\n", { "at least one camera" } },
    /* libyaml keeps a repeated key and a second document; read as they
     * were, the last fps won, the second list joined the first, and the
     * document was dropped without a word. */
    { "cameras:\n  - name: a\n    fps: 10\n    fps: 20\n",
        { ":4:", "'cameras[0].fps' given twice", "line 3" } },
    { "cameras:\n  - {name: a}\ncameras:\n  - {name: b}\n",
        { ":3:", "'cameras' given twice", "line 1" } },
    { "http: {port: 1}\n---\nhttp: {port: 2}\n",
        { ":3:", "second YAML document" } },
    /* YAML's null is no value: not the text "null" (a control token of
     * "null" turned the control API on). */
    { "control: {token: null}\n",
        { ":1:", "'control.token' has no value", "leave the key out" } },
    { "cameras:\n  - {name: a, auth: {type: basic, user: ~, password: p}}\n",
        { ":2:", "'cameras[0].auth.user' has no value", "leave the key out" } },
    { "http:\n  port:\n", { ":2:", "'http.port' has no value" } },
    /* Found by a session probing the configuration as a user would. */
    { "htp: {}\n", { ":1:", "unknown key 'htp'", "did you mean 'http'" } },
    { "", { "holds no settings", "leave out --config" } },
    /* libyaml's loader takes time in the square of the depth: refused
     * before it loads. */
    { "a: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\n",
        { ":1:", "nested deeper than 16" } },
    { "cameras:\n  - {name: a, extra: {}}\n",
        { ":2:", "unknown key 'cameras[0].extra'" } },
    { "camera:\n  - {name: a, port: 8554}\n",
        { ":1:", "unknown key 'camera'", "did you mean 'cameras'" } },
    { "http: {port: {a: 1}}\n",
        { ":1:", "'http.port' takes a value, not a map" } },
    { "cameras:\n  - {name: a, transports: [{tcp: 1}]}\n",
        { ":2:", "cameras[0].transports", "plain values" } },
    { "cameras:\n  - {name: a, path: \"/x\\0/../y\"}\n",
        { ":2:", "cameras[0].path", "NUL" } },
    { "cameras:\n  - {name: \"a\\0b\"}\n",
        { ":2:", "cameras[0].name", "NUL" } },
    { "cameras:\n  - {name: a, auth: {user: u, password: p}}\n",
        { ":2: key 'cameras[0].auth.user'", "auth.type is none" } },
    { "cameras:\n  - name: a\n    transports: [tcp, tcp]\n",
        { ":3:", "'tcp' is listed twice" } },
    /* YAML line ends that are no \n: quoted, one became a space. */
    { "cameras:\n  - name: a\n    auth: {type: basic, user: \"u\xc2\x85x\", "
      "password: p}\n",
        { ":3: U+0085 (NEL)", "line end" } },
    { "cameras:\n  - {name: a}\n# \xe2\x80\xa9\n", { ":3: U+2029" } },
    { "public_host: \"a\\x01b\"\n",
        { ":1: key 'public_host'", "'a\\001b'", "control character" } },
    { "health: {probe_timeout: 0x10}\n",
        { ":1: key 'health.probe_timeout'", "'0x10'" } },
    /* Checks of settings together name each value's line and key too. */
    { "cameras:\n  - {name: a, port: 9000}\n  - {name: b, port: 9000}\n",
        { ":3: key 'cameras[1].port'", ":2: key 'cameras[0].port'" } },
    { "defaults: {width: 641}\ncameras:\n  - {name: a}\n",
        { ":1: key 'defaults.width'", "641x480" } },
    { "bind: localhost\n", { ":1: key 'bind'", "'localhost'" } },
    { "bind: \"::1%lo\"\n", { ":1: key 'bind'", "'::1%lo'", "scope" } },
    { "bind: 224.0.0.1\n", { ":1: key 'bind'", "multicast" } },
    { "health: {healthy_threshold: 9}\n",
        { ":1: key 'health.healthy_threshold'", "9" } },
    { "cameras:\n  - {name: m, codec: mjpeg, width: 1918, height: 1080}\n",
        { ":2: key 'cameras[0].width'): 1918x1080",
            ":2: key 'cameras[0].codec'", "multiples of 8" } },
    /* Accepted once, then unreachable or unstartable. */
    { "cameras:\n  - {name: a, path: /x/}\n",
        { ":2: key 'cameras[0].path'", "'/x/'", "end with /" } },
    /* Each refused path says why (they all said "only letters, digits, /,
     * -, _ and ."), and a segment a client's URL handling removes is one. */
    { "cameras:\n  - {name: a, path: //a}\n",
        { ":2: key 'cameras[0].path'", "'//a'", "no empty, '.' or '..'" } },
    { "cameras:\n  - {name: a, path: /a/../b}\n",
        { "'/a/../b'", "no empty, '.' or '..'" } },
    { "cameras:\n  - {name: a, path: /a/./b}\n",
        { "'/a/./b'", "no empty, '.' or '..'" } },
    { "cameras:\n  - {name: a, path: /a b}\n",
        { "'/a b'", "only letters, digits" } },
    { "http: {port: 9000}\ncameras:\n  - {name: a, port: 9000}\n",
        { ":3: key 'cameras[0].port'", "HTTP API", ":1: key 'http.port'" } },
    { "cameras:\n  - {name: Lobby}\n  - {name: lobby}\n",
        { ":3:", "'Lobby'", "RTSP_TEST_SERVER_CAMERA_LOBBY_" } },
    { "public_host: example.com:9000\n",
        { ":1: key 'public_host'", "no port" } },
    { "public_host: \"ex\u00e9.com\"\n",
        { ":1: key 'public_host'", "(8 bytes)", "xn--" } },
    { "cameras:\n  - {name: a, source: file, file: /nonexistent.mp4}\n",
        { ":2: key 'cameras[0].file'", "does not exist" } },
    { "cameras: {name: a}\n", { ":1:", "list of cameras" } },
    { "- a\n- b\n", { ":1:", "map of settings" } },
    { "http: {port: 1\n", { ":", "not valid YAML" } },
    { "public_host: \"abc\n# a\n# b\n",
        { ":4:", "quoted scalar", "begun on line 1" } },
    /* Bad bytes are found by libyaml's reader, which marks no line: the
     * line is counted from its offset (all were once line 1). */
    { "http: {port: 1}\n\n\n\nbind: \"a\xff"
      "b\"\n",
        { ":5:", "invalid leading UTF-8 octet (0xff)", "column 9" } },
    { "http: {port: 1}\n#\nbind: a\x01"
      "b\n",
        { ":3:", "control characters", "column 8" } },
    { "a: 1\n---\nb: \"\xff\"\n", { ":3:", "UTF-8", "column 5" } },
    { "control: {token: [a]}\n", { "control.token", "not a list" } },
    /* No client authenticates with such a digest user name. */
    { "cameras:\n  - {name: a, auth: {type: digest, user: 'a\"b', "
      "password: p}}\n",
        { ":2: key 'cameras[0].auth.user'", "'a\"b'", "digest" } },
    { "cameras:\n  - {name: a, auth: {type: digest, user: 'a\\b', "
      "password: p}}\n",
        { ":2: key 'cameras[0].auth.user'", "quoted string" } },
    /* An alias's value was placed at its anchor's line, in another
     * camera; a block list's at its first item's. */
    { "cameras:\n  - {name: a, fps: &f 100}\n  - name: c\n"
      "    clip_seconds: *f\n",
        { ":4:", "'cameras[1].clip_seconds'", "'100'" } },
    { "cameras:\n  - name: a\n    transports:\n      - tcp\n"
      "    transports:\n      - udp\n",
        { ":5:", "'cameras[0].transports' given twice", "first on line 3" } },
    /* Controls past ASCII: U+0085 ends a line to some readers of the log,
     * U+202E shows it backwards. */
    { "cameras:\n  - {name: a, auth: {type: basic, user: \"a\\Nb\", "
      "password: p}}\n",
        { ":2:", "auth.user", "U+0085" } },
    { "cameras:\n  - {name: a, auth: {type: basic, user: u, password: "
      "\"hunter2\\u202e\"}}\n",
        { ":2:", "auth.password", "(hidden)", "U+202E" } },
    /* MJPEG frames are JPEGs of fixed quality, each a whole picture. */
    { "cameras:\n  - {name: a, codec: mjpeg, bitrate: 500}\n",
        { "camera 'a'", ":2: key 'cameras[0].bitrate'", "not mjpeg",
            "quality" } },
    { "cameras:\n  - {name: a, codec: mjpeg, gop: 10}\n",
        { "camera 'a'", ":2: key 'cameras[0].gop'", "not mjpeg" } },
    /* A merge key was read as a key named "<<". */
    { "defaults: &d {fps: 10}\ncameras:\n  - name: a\n    <<: *d\n",
        { ":4:", "merge keys", "not supported", "defaults" } },
    { "<<: {fps: 1}\n", { ":1:", "merge keys" } },
    /* The right key in the wrong place says where it goes. */
    { "fps: 10\n", { ":1:", "'fps' is a camera setting", "defaults" } },
    { "multicast: {ttl: 2}\n",
        { ":1:", "'multicast.ttl' is a camera setting" } },
    { "cameras:\n  - {name: a, bind: 127.0.0.1}\n",
        { ":2:", "'cameras[0].bind'", "server setting", "top level" } },
    /* Dropped in silence without cameras; clashes with them. */
    { "defaults: {port: 26001}\n",
        { ":1: key 'defaults.port'", "per camera", "cameras" } },
    { "defaults: {name: x}\ncameras:\n  - {port: 0}\n",
        { ":1: key 'defaults.name'", "per camera" } },
    { "auth: {password: hunter2}\n", { "unknown key 'auth.password'" } },
    /* Two bad items: the first is named (and, found by fuzz_config_yaml,
     * the message for the second no longer leaks the first's). */
    { "cameras:\n  - name: a\n    transports: [Tcp, sctp]\n",
        { ":3:", "'Tcp'", "tcp, udp" } },
    { "cameras:\n  - name: a\n    multicast: {addresses: "
      "10.0.0.1-10.0.0.9}\n",
        { ":3:", "cameras[0].multicast.addresses", "'10.0.0.1-10.0.0.9'",
            "not a multicast address" } },
    { "defaults:\n  multicast: {addresses: 239.1.1.9-239.1.1.1}\n",
        { ":2:", "defaults.multicast.addresses", "above the last" } },
    { "cameras:\n  - name: a\n    multicast: {addresses: 239.1.1.x}\n",
        { ":3:", "'239.1.1.x'", "not an IPv4 address" } },
    { "cameras:\n  - name: a\n    multicast: {ports: 5001-5004}\n",
        { ":3:", "multicast.ports", "'5001-5004'", "must be even" } },
    { "cameras:\n  - name: a\n    multicast: {ports: 5000-5004}\n",
        { ":3:", "'5000-5004'", "whole RTP/RTCP pairs", "5000-5005" } },
    { "cameras:\n  - name: a\n    multicast: {ports: 5000-70000}\n",
        { ":3:", "'5000-70000'", "1024 to 65535" } },
    { "cameras:\n  - name: a\n    multicast: {ttl: 0}\n",
        { ":3:", "multicast.ttl", "1 to 255" } },
    { "cameras:\n  - {name: a, transports: [multicast], audio: aac,\n"
      "     multicast: {ports: 5000-5001}}\n",
        { "camera 'a'", "multicast.ports '5000-5001'", "needs 4",
            "5000-5003" } },
    { "defaults: {transports: [multicast], multicast: {addresses: "
      "239.1.1.1}}\n"
      "cameras:\n  - name: a\n  - name: b\n",
        { "camera 'b'", "'239.1.1.1' holds 1 group(s)", "own" } },
    /* Ports the cameras send on: a's audio takes 5002-5003, b's video
     * 5002-5003 of the same group. */
    { "cameras:\n"
      "  - {name: a, transports: [multicast], audio: opus,\n"
      "     multicast: {addresses: 239.1.1.1-239.1.1.5}}\n"
      "  - {name: b, transports: [multicast],\n"
      "     multicast: {addresses: 239.1.1.1, ports: 5002-5005}}\n",
        { "camera 'b'", "239.1.1.1 and ports 5002-5003", "camera 'a''s",
            "5000-5003" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    g_autofree char *path = write_config (cases[i].text);
    const char *args[] = { "--config", path, NULL };

    g_assert_false (load (&cfg, args, NULL, &err));
    g_assert_nonnull (err);
    for (guint j = 0; j < 4 && cases[i].mentions[j]; j++) {
      if (!strstr (err->message, cases[i].mentions[j]))
        g_error ("'%s': message '%s' does not mention '%s'", cases[i].text,
            err->message, cases[i].mentions[j]);
    }
    if (i >= 2 && !strstr (err->message, path))
      g_error ("'%s': message '%s' does not name the file", cases[i].text,
          err->message);
    g_assert_null (strstr (err->message, "hunter2"));
    g_assert_null (strchr (err->message, '\n'));
    rts_config_clear (&cfg);
  }
}

/* Long values: a credential a client cannot send in one header line is
 * refused (one of 3,100 bytes was taken, and every login got 401); a
 * value longer than any setting takes is refused before it is copied
 * around, however many aliases repeat it (100,000 aliases of 500 KB, a
 * 900 KB file, asked for 2 GiB and crashed); a message quotes no more
 * than the start of a value. */
static void
test_long_values (void)
{
  g_autofree char *pw_ok = g_strnfill (1024, 'p');
  g_autofree char *pw_long = g_strnfill (1025, 'p');
  g_autofree char *user_long = g_strnfill (1025, 'u');
  g_autofree char *value = g_strnfill (8193, 'x');
  g_autofree char *bad_codec = g_strnfill (5000, 'h');
  struct {
    char *text;
    const char *mentions[3];
  } cases[] = {
    { g_strdup_printf ("cameras:\n  - {name: a, auth: {type: basic, user: u, "
                       "password: %s}}\n",
          pw_long),
        { "auth.password is 1025 bytes; at most 1024", "header" } },
    { g_strdup_printf ("cameras:\n  - {name: a, auth: {type: digest, user: "
                       "%s, password: p}}\n",
          user_long),
        { "auth.user is 1025 bytes; at most 1024" } },
    { g_strdup_printf ("cameras:\n  - {name: a, pattern: %s}\n", value),
        { ":2: key 'cameras[0].pattern'", "over 8192 bytes" } },
    { g_strdup_printf ("cameras:\n  - {name: a, transports: [&t %s, *t]}\n",
          bad_codec),
        { ":2: key 'cameras[0].transports'", "over 8192 bytes" } },
    { g_strdup_printf ("cameras:\n  - {name: a, codec: %s}\n", bad_codec),
        { ":2: key 'cameras[0].codec'", "hhhh... (5000 bytes)",
            "expects one of" } },
  };
  GString *bomb = g_string_new ("defaults: {pattern: &p ");

  /* 8,000 bytes, repeated by 200 cameras: 1.6 MB of values. */
  for (guint i = 0; i < 8000; i++)
    g_string_append_c (bomb, 'x');
  g_string_append (bomb, "}\ncameras:\n");
  for (guint i = 0; i < 200; i++)
    g_string_append_printf (bomb, "  - {name: c%u, pattern: *p}\n", i);

  for (guint i = 0; i <= G_N_ELEMENTS (cases); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    g_autofree char *path =
        write_config (i < G_N_ELEMENTS (cases) ? cases[i].text : bomb->str);
    const char *args[] = { "--config", path, NULL };
    const char *const *mentions = i < G_N_ELEMENTS (cases)
        ? cases[i].mentions
        : (const char *const[]){ "over 1 MiB", "aliases", NULL };

    g_assert_false (load (&cfg, args, NULL, &err));
    g_test_message ("%u: %s", i, err->message);
    for (guint j = 0; j < 3 && mentions[j]; j++)
      g_assert_nonnull (strstr (err->message, mentions[j]));
    g_assert_cmpuint (strlen (err->message), <, 500);
    rts_config_clear (&cfg);
    if (i < G_N_ELEMENTS (cases))
      g_free (cases[i].text);
  }
  g_string_free (bomb, TRUE);
  /* Flags and variables quote at most 100 characters too: these quoted
   * the whole value, some twice (a 257-port list: 1,605 bytes). */
  {
    g_autofree char *z = g_strnfill (500, 'z');
    const char *flags[] = { "--rtsp-ports", "--bind", "--public-host",
      "--transports", "--multicast-addresses", "--path" };

    for (guint i = 0; i < G_N_ELEMENTS (flags); i++) {
      RtsConfig cfg;
      g_autoptr (GError) err = NULL;
      g_autofree char *arg = g_strdup_printf ("%s=%s", flags[i], z);
      const char *args[] = { arg, NULL };
      const char *env[] = { NULL };

      g_assert_false (load (&cfg, args, env, &err));
      g_test_message ("%s: %s", flags[i], err->message);
      g_assert_nonnull (strstr (err->message, flags[i]));
      g_assert_nonnull (strstr (err->message, "... (500 bytes)"));
      g_assert_cmpuint (strlen (err->message), <, 500);
      rts_config_clear (&cfg);
    }
  }
  /* A control or a direction override past ASCII is refused, and quoted
   * escaped: printed as it is, U+202E turned the rest of the line
   * around. */
  {
    const char *values[] = { "--path=/a\xe2\x80\xae"
                             "b",
      "--path=/a\xc2\x85"
      "b",
      "--pattern=\xe2\x81\xa6"
      "x" };
    const char *codes[] = { "\\u202E", "\\u0085", "\\u2066" };

    for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
      RtsConfig cfg;
      g_autoptr (GError) err = NULL;
      const char *args[] = { values[i], NULL };
      const char *env[] = { NULL };

      g_assert_false (load (&cfg, args, env, &err));
      g_test_message ("%s", err->message);
      g_assert_nonnull (strstr (err->message, codes[i]));
      for (const char *c = err->message; *c; c = g_utf8_next_char (c))
        g_assert_cmpuint (g_utf8_get_char (c), <, 0x80);
      rts_config_clear (&cfg);
    }
  }
  {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    g_autofree char *text =
        g_strdup_printf ("cameras:\n  - {name: a, auth: {type: basic, user: "
                         "u, password: %s}}\n",
            pw_ok);
    g_autofree char *path = write_config (text);
    const char *args[] = { "--config", path, NULL };

    g_assert_true (load (&cfg, args, NULL, &err));
    g_assert_no_error (err);
    rts_config_clear (&cfg);
  }
}

/* A value a higher layer made moot goes, as precedence promises: it was
 * refused ("auth.user is set but auth.type is none"), and nothing short
 * of editing the file could unset it. */
static void
test_moot_values (void)
{
  g_autofree char *video = write_config ("not read by the load");
  g_autofree char *text =
      g_strdup_printf ("defaults:\n"
                       "  auth: {type: basic, user: du, password: dp}\n"
                       "cameras:\n"
                       "  - {name: a, source: file, file: '%s', profile: "
                       "high,\n"
                       "     auth: {type: digest, user: u, password: p}}\n"
                       "  - {name: b, auth: {type: none}}\n"
                       "  - {name: c, overlay: true, source: live}\n",
          video);
  g_autofree char *path = write_config (text);
  struct {
    const char *arg;
    const char *env;
  } cases[] = {
    { NULL, NULL },
    { "--auth=none", NULL },
    { NULL, "RTSP_TEST_SERVER_CAMERA_A_AUTH=none" },
    { "--source=loop", NULL },
    { "--codec=h265", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *args[] = { "--config", path, cases[i].arg, NULL };
    const char *env[] = { cases[i].env, NULL };
    const RtsCameraConfig *a = &cfg.cameras[0], *b = &cfg.cameras[1],
                          *c = &cfg.cameras[2];
    gboolean auth_none = i == 1 || i == 2, loop = i == 3, h265 = i == 4;

    if (!load (&cfg, args, env, &err))
      g_error ("%s: %s", cases[i].arg ? cases[i].arg : "", err->message);
    g_assert_cmpstr (a->auth, ==, auth_none ? "none" : "digest");
    g_assert_cmpstr (a->user, ==, auth_none ? NULL : "u");
    g_assert_cmpstr (a->password, ==, auth_none ? NULL : "p");
    g_assert_cmpstr (a->source, ==, loop ? "loop" : "file");
    g_assert_cmpstr (a->file, ==, loop ? NULL : video);
    g_assert_cmpstr (a->profile, ==, h265 ? NULL : "high");
    /* The camera's own auth: {type: none} over the defaults' user. */
    g_assert_cmpstr (b->auth, ==, "none");
    g_assert_null (b->user);
    g_assert_null (b->password);
    g_assert_cmpint (c->overlay, ==, !loop);
    if (auth_none)
      g_assert_cmpstr (rts_config_origin (&cfg, &a->user), ==, "default");
    rts_config_clear (&cfg);
  }
  /* One layer (two flags): refused, naming the value that does not fit. */
  {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *args[] = { "--auth=none", "--auth-user=u", NULL };

    g_assert_false (load (&cfg, args, NULL, &err));
    g_assert_nonnull (strstr (err->message, "auth.user is set"));
    rts_config_clear (&cfg);
  }
}

/* A relative path in the file is the file's neighbour, not the working
 * directory's (the server may start anywhere: an image's WORKDIR, /). */
static void
test_relative_paths (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rts-config-XXXXXX", NULL);
  g_autofree char *video = g_build_filename (dir, "clip.mp4", NULL);
  g_autofree char *path = g_build_filename (dir, "cams.yaml", NULL);
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  const char *args[] = { "--config", path, NULL };
  const char *off[] = { "--config", path, "--clip-cache", "none", NULL };
  const char *flag[] = { "--config", path, "--file", "clip.mp4", NULL };

  g_assert_true (g_file_set_contents (video, "x", -1, NULL));
  g_assert_true (g_file_set_contents (path,
      "clip_cache: cache\n"
      "cameras:\n  - {name: a, source: file, file: clip.mp4}\n",
      -1, NULL));
  g_autofree char *cwd = g_get_current_dir ();

  g_assert_cmpint (g_chdir ("/"), ==, 0);
  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (cfg.cameras[0].file, ==, video);
  g_assert_cmpstr (cfg.clip_cache, ==, cache);
  rts_config_clear (&cfg);
  g_assert_true (load (&cfg, off, NULL, NULL));
  g_assert_cmpstr (cfg.clip_cache, ==, "none");
  rts_config_clear (&cfg);
  /* A flag's is the working directory's, as a shell's would be. */
  g_assert_false (load (&cfg, flag, NULL, &err));
  g_assert_nonnull (strstr (err->message, "file 'clip.mp4' does not exist"));
  rts_config_clear (&cfg);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_unlink (video);
  g_unlink (path);
  g_rmdir (dir);
}

/* A message about settings taken together names each one's own origin,
 * the one out of range first; and where a value came from is kept for
 * messages after the load. */
static void
test_origins (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  g_autofree char *path =
      write_config ("cameras:\n  - {name: a, codec: mjpeg}\n");
  const char *args[] = { "--config", path, "--width=644", NULL };
  const char *env[] = { "RTSP_TEST_SERVER_CLIP_CACHE=none", NULL };
  g_autofree char *want = NULL;

  g_assert_false (load (&cfg, args, NULL, &err));
  /* It blamed the file's codec key alone. */
  want = g_strdup_printf ("camera 'a' (--width): 644x480: codec mjpeg "
                          "(%s:2: key 'cameras[0].codec')",
      path);
  g_assert_nonnull (strstr (err->message, want));
  rts_config_clear (&cfg);

  g_assert_true (load (&cfg, NULL, env, NULL));
  g_assert_cmpstr (rts_config_origin (&cfg, &cfg.clip_cache), ==,
      "RTSP_TEST_SERVER_CLIP_CACHE");
  g_assert_cmpstr (rts_config_origin (&cfg, &cfg.bind), ==, "default");
  g_assert_cmpstr (rts_config_origin (&cfg, &cfg.cameras[0].fps), ==,
      "default");
  rts_config_clear (&cfg);
  g_unlink (path);
}

static void
test_env_errors (void)
{
  struct {
    const char *env;
    const char *mentions[3];
  } cases[] = {
    { "RTSP_TEST_SERVER_FSP=3",
        { "RTSP_TEST_SERVER_FSP", "RTSP_TEST_SERVER_FPS" } },
    { "RTSP_TEST_SERVER_CAMERA_NOPE_FPS=3",
        { "RTSP_TEST_SERVER_CAMERA_NOPE_FPS" } },
    /* A misspelt camera or setting: the per-camera name is suggested. */
    { "RTSP_TEST_SERVER_CAMERA_CAM_FPS=3",
        { "did you mean 'RTSP_TEST_SERVER_CAMERA_CAM1_FPS'" } },
    { "RTSP_TEST_SERVER_CAMERA_CAM2_FSP=3",
        { "did you mean 'RTSP_TEST_SERVER_CAMERA_CAM2_FPS'" } },
    /* Named after the file key (auth.type): the variable it means, not the
     * nearest spelling (..._AUTH_USER). */
    { "RTSP_TEST_SERVER_CAMERA_CAM1_AUTH_TYPE=basic",
        { "did you mean 'RTSP_TEST_SERVER_CAMERA_CAM1_AUTH'?",
            "not after the file key auth.type" } },
    { "RTSP_TEST_SERVER_CAMERA_CAM2_FPS=0",
        { "RTSP_TEST_SERVER_CAMERA_CAM2_FPS", "'0'", "1 to 120" } },
    { "RTSP_TEST_SERVER_CONFIG=/nonexistent/x.yaml",
        { "RTSP_TEST_SERVER_CONFIG", "/nonexistent/x.yaml" } },
    { "RTSP_TEST_SERVER_AUTH_PASSWORD=", { "(hidden)", "empty" } },
    { "RTSP_TEST_SERVER_MULTICAST_ADDRESSES=192.168.1.1",
        { "RTSP_TEST_SERVER_MULTICAST_ADDRESSES", "'192.168.1.1'",
            "not a multicast address" } },
    { "RTSP_TEST_SERVER_CAMERA_CAM1_MULTICAST_PORTS=5000",
        { "RTSP_TEST_SERVER_CAMERA_CAM1_MULTICAST_PORTS", "'5000'",
            "FIRST-LAST" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *env[] = { cases[i].env, NULL };

    g_assert_false (load (&cfg, NULL, env, &err));
    for (guint j = 0; j < 3 && cases[i].mentions[j]; j++) {
      if (!strstr (err->message, cases[i].mentions[j]))
        g_error ("'%s': message '%s' does not mention '%s'", cases[i].env,
            err->message, cases[i].mentions[j]);
    }
    rts_config_clear (&cfg);
  }
}

/* --config of a FIFO or a device is refused before a byte is read: a FIFO
 * blocked start-up for good, /dev/zero was read until memory ran out. */
static void
test_config_not_a_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rts-config-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo.yaml", NULL);
  const char *files[] = { fifo, "/dev/zero", dir };

  g_assert_nonnull (dir);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *args[] = { "--config", files[i], NULL };
    g_assert_false (load (&cfg, args, NULL, &err));
    g_assert_nonnull (err);
    g_assert_nonnull (strstr (err->message, "not a regular file"));
    g_assert_nonnull (strstr (err->message, files[i]));
    rts_config_clear (&cfg);
  }
  g_unlink (fifo);
  g_rmdir (dir);
}

/* Multicast cameras on one range each take the next group of it, with the
 * same ports; a camera with a range of its own keeps it; a camera without
 * multicast takes none. */
static void
test_multicast_groups (void)
{
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  g_autofree char *path =
      write_config ("defaults: {transports: [tcp, multicast]}\n"
                    "cameras:\n"
                    "  - name: a\n"
                    "  - {name: b, audio: opus}\n"
                    "  - {name: c, transports: [udp]}\n"
                    "  - {name: d, multicast: {addresses: 239.9.9.9, "
                    "ports: 6000-6001, ttl: 4}}\n"
                    "  - name: e\n");
  const char *args[] = { "--config", path, NULL };

  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (cfg.cameras[0].mcast_group, ==, "239.255.42.0");
  g_assert_cmpstr (cfg.cameras[1].mcast_group, ==, "239.255.42.1");
  g_assert_cmpuint (cfg.cameras[1].mcast_port_min, ==, 5000);
  g_assert_cmpuint (cfg.cameras[1].mcast_port_max, ==, 5003);
  g_assert_cmpuint (cfg.cameras[1].mcast_ttl, ==, 1);
  g_assert_cmpstr (cfg.cameras[2].mcast_group, ==, "");
  g_assert_cmpuint (cfg.cameras[2].transport_mask, ==, 2);
  g_assert_cmpstr (cfg.cameras[3].mcast_group, ==, "239.9.9.9");
  g_assert_cmpuint (cfg.cameras[3].mcast_port_min, ==, 6000);
  g_assert_cmpuint (cfg.cameras[3].mcast_ttl, ==, 4);
  g_assert_cmpstr (cfg.cameras[4].mcast_group, ==, "239.255.42.2");
  {
    g_autofree char *summary = rts_config_summary (&cfg, NULL);
    g_assert_nonnull (strstr (summary,
        "transports tcp,multicast, multicast "
        "group 239.255.42.1 ports 5000-5003 "
        "ttl 1"));
    /* A video-only camera sends on the range's first pair only, as the
     * start-up log says (the range itself is 5000-5003). */
    g_assert_nonnull (
        strstr (summary, "multicast group 239.255.42.0 ports 5000-5001 ttl 1"));
  }
  rts_config_clear (&cfg);
  g_unlink (path);
  /* Overlapping ranges whose ports in use do not meet: video-only a sends
   * on 5000-5001 of its 5000-5003, b on 5002-5003 (it was refused). */
  g_free (path);
  path = write_config ("cameras:\n"
                       "  - {name: a, transports: [multicast],\n"
                       "     multicast: {addresses: 239.1.1.1-239.1.1.5}}\n"
                       "  - {name: b, transports: [multicast],\n"
                       "     multicast: {addresses: 239.1.1.1, ports: "
                       "5002-5005}}\n");
  args[1] = path;
  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (cfg.cameras[0].mcast_group, ==, "239.1.1.1");
  g_assert_cmpstr (cfg.cameras[1].mcast_group, ==, "239.1.1.1");
  rts_config_clear (&cfg);
  g_unlink (path);
}

/* The example shipped in the repository loads, and shows every setting. */
static void
test_example_file (void)
{
  const char *readme = g_getenv ("RTS_README");
  g_autofree char *dir = g_path_get_dirname (readme);
  g_autofree char *path =
      g_build_filename (dir, "config", "example.yaml", NULL);
  g_autofree char *text = NULL;
  RtsConfig cfg;
  g_autoptr (GError) err = NULL;
  const char *args[] = { "--config", path, NULL };

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (load (&cfg, args, NULL, &err));
  g_assert_no_error (err);
  rts_config_clear (&cfg);
  {
    g_auto (GStrv) keys = rts_config_file_keys ();
    for (guint i = 0; keys[i]; i++) {
      const char *leaf = strrchr (keys[i], '.');
      g_autofree char *needle =
          g_strconcat (leaf ? leaf + 1 : keys[i], ":", NULL);
      if (!strstr (text, needle))
        g_error ("config/example.yaml does not show '%s'", keys[i]);
    }
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
  /* The per-camera variables are named (the heading was never printed:
   * the table's first camera settings are the file's only). */
  g_assert_nonnull (strstr (help, "\nCamera settings"));
  g_assert_nonnull (strstr (help, "RTSP_TEST_SERVER_CAMERA_<NAME>_<SETTING>"));
  g_assert_true (load (&cfg, args, NULL, NULL));
  g_assert_true (cfg.show_help);
  rts_config_clear (&cfg);
}

/* --help, --version and --help-markdown answer whatever else is wrong: a
 * misspelt variable or a missing file is what the help is read to fix
 * (both once failed with the configuration error instead). */
static void
test_help_despite_errors (void)
{
  const char *opts[] = { "--help", "-h", "--version", "--help-markdown" };
  const char *env[] = { "RTSP_TEST_SERVER_FSP=1", NULL };

  for (guint i = 0; i < G_N_ELEMENTS (opts); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *args[] = { "--config", "/nonexistent.yaml", "--fps=0", opts[i],
      NULL };

    g_assert_true (load (&cfg, args, env, &err));
    g_assert_no_error (err);
    g_assert_true (cfg.show_help || cfg.show_version || cfg.show_help_markdown);
    g_assert_cmpint (cfg.show_help, ==, i < 2);
    g_assert_cmpint (cfg.show_version, ==, i == 2);
    g_assert_cmpint (cfg.show_help_markdown, ==, i == 3);
    rts_config_clear (&cfg);
  }
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

/* The clip cache: the user's cache by default, a directory from a flag or
 * variable, and off when empty (an empty variable is the usual way to
 * unset a container's default) or "none". */
static void
test_clip_cache (void)
{
  struct {
    const char *flag;
    const char *env;
    const char *want; /* NULL: off */
  } cases[] = {
    { NULL, NULL, "default" },
    { "--clip-cache=/srv/clips", NULL, "/srv/clips" },
    { NULL, "RTSP_TEST_SERVER_CLIP_CACHE=/var/cache/x", "/var/cache/x" },
    { "--clip-cache=", NULL, NULL },
    { NULL, "RTSP_TEST_SERVER_CLIP_CACHE=", NULL },
    { "--clip-cache=none", NULL, NULL },
    { "--clip-cache=/a", "RTSP_TEST_SERVER_CLIP_CACHE=none", "/a" },
  };
  g_autofree char *user =
      g_build_filename (g_get_user_cache_dir (), "rtsp-test-server", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    const char *args[] = { cases[i].flag, NULL };
    const char *env[] = { cases[i].env, NULL };
    g_autofree char *dir = NULL;

    g_test_message ("%s %s", cases[i].flag, cases[i].env);
    g_assert_true (load (&cfg, args, env, &err));
    g_assert_no_error (err);
    dir = rts_config_clip_cache_dir (&cfg);
    if (g_strcmp0 (cases[i].want, "default") == 0)
      g_assert_cmpstr (dir, ==, user);
    else
      g_assert_cmpstr (dir, ==, cases[i].want);
    rts_config_clear (&cfg);
  }
}

/* The format a failed load's message goes out in: the last --log-format
 * flag's, else the variable's, else the file's if the load read it before
 * the error, else text. */
static void
test_error_json (void)
{
  g_autofree char *json_first = write_config ("log: {format: json}\n"
                                              "http: {port: 99999}\n");
  g_autofree char *json_last = write_config ("http: {port: 99999}\n"
                                             "log: {format: json}\n");
  g_autofree char *arg_first = g_strconcat ("--config=", json_first, NULL);
  g_autofree char *arg_last = g_strconcat ("--config=", json_last, NULL);
  const char *json_env[] = { "RTSP_TEST_SERVER_LOG_FORMAT=json", NULL };
  const char *text_env[] = { "RTSP_TEST_SERVER_LOG_FORMAT=text", NULL };
  struct {
    const char *args[4];
    const char *const *env;
    gboolean json;
  } cases[] = {
    { { "--fps=0" }, NULL, FALSE },
    { { "--log-format=json", "--fps=0" }, NULL, TRUE },
    { { "--fps=0", "--log-format", "json" }, NULL, TRUE },
    { { "--log-format=json", "--log-format=text", "--fps=0" }, NULL, FALSE },
    { { "--log-format=JSON", "--fps=0" }, NULL, FALSE },
    /* "--log-format --fps" is no format: parse_argv refuses it. */
    { { "--log-format", "--fps=json" }, NULL, FALSE },
    { { "--fps=0" }, json_env, TRUE },
    { { "--log-format=text", "--fps=0" }, json_env, FALSE },
    { { "--log-format=json", "--fps=0" }, text_env, TRUE },
    { { "--no-such-flag" }, json_env, TRUE },
    { { arg_first }, NULL, TRUE },
    /* The error stopped the file before its log format. */
    { { arg_last }, NULL, FALSE },
    { { arg_first }, text_env, FALSE },
    { { arg_last, "--log-format=json" }, NULL, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsConfig cfg;
    g_autoptr (GError) err = NULL;
    g_autoptr (GPtrArray) argv = g_ptr_array_new ();

    g_ptr_array_add (argv, "rtsp-test-server");
    for (guint j = 0; cases[i].args[j]; j++)
      g_ptr_array_add (argv, (gpointer) cases[i].args[j]);
    g_ptr_array_add (argv, NULL);
    g_assert_false (rts_config_load (&cfg, (char **) argv->pdata,
        (char **) cases[i].env, &err));
    g_test_message ("case %u: %s", i, err->message);
    g_assert_cmpint (rts_config_error_json (&cfg, (char **) argv->pdata,
                         (char **) cases[i].env),
        ==, cases[i].json);
    rts_config_clear (&cfg);
  }
  g_unlink (json_first);
  g_unlink (json_last);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/flags", test_flags);
  g_test_add_func ("/config/auto-threshold", test_auto_threshold);
  g_test_add_func ("/config/stall-threshold-fits", test_stall_threshold_fits);
  g_test_add_func ("/config/env-precedence", test_env_precedence);
  g_test_add_func ("/config/errors", test_errors);
  g_test_add_func ("/config/error-json", test_error_json);
  g_test_add_func ("/config/too-many-ports", test_too_many_ports);
  g_test_add_func ("/config/token-length", test_token_length);
  g_test_add_func ("/config/long-values", test_long_values);
  g_test_add_func ("/config/path-bytes", test_path_bytes);
  g_test_add_func ("/config/file", test_file);
  g_test_add_func ("/config/file-precedence", test_file_precedence);
  g_test_add_func ("/config/file-errors", test_file_errors);
  g_test_add_func ("/config/not-a-file", test_config_not_a_file);
  g_test_add_func ("/config/env-errors", test_env_errors);
  g_test_add_func ("/config/origins", test_origins);
  g_test_add_func ("/config/moot-values", test_moot_values);
  g_test_add_func ("/config/relative-paths", test_relative_paths);
  g_test_add_func ("/config/multicast-groups", test_multicast_groups);
  g_test_add_func ("/config/example-file", test_example_file);
  g_test_add_func ("/config/help", test_help);
  g_test_add_func ("/config/help-despite-errors", test_help_despite_errors);
  g_test_add_func ("/config/readme-table", test_readme_table);
  g_test_add_func ("/config/clip-cache", test_clip_cache);
  return g_test_run ();
}
