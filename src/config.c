/* config: see config.h. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (rts - config - error - quark, rts_config_error)

typedef enum {
  SET_UINT,
  SET_DOUBLE,
  SET_STRING,
  SET_PORT_LIST,
} SettingType;

typedef struct {
  const char *name; /* flag is --NAME, env is PREFIX + NAME */
  SettingType type;
  size_t offset;
  const char *default_value; /* parsed like user input; NULL = unset */
  double min;
  double max;
  const char *metavar;
  const char *help;
} RtsSetting;

#define OFF(field) offsetof (RtsConfig, field)

/* Every setting the server has. Keep this the only place that lists them. */
static const RtsSetting rts_settings[] = {
  { "rtsp-ports", SET_PORT_LIST, OFF (rtsp_ports), "8554,8555,8556,8557", 0,
      65535, "LIST",
      "RTSP ports, one camera each (cam1, cam2, ...); 0 = any free port" },
  { "http-port", SET_UINT, OFF (http_port), "8080", 0, 65535, "PORT",
      "HTTP API port (/health, /rtsp-urls, /); 0 = any free port" },
  { "bind", SET_STRING, OFF (bind), "0.0.0.0", 0, 0, "ADDRESS",
      "address every port listens on" },
  { "public-host", SET_STRING, OFF (public_host), NULL, 0, 0, "NAME",
      "host name put in RTSP URLs (default: the Host the HTTP request used)" },
  { "healthy-threshold", SET_UINT, OFF (healthy_threshold), "0", 0,
      RTS_MAX_CAMERAS, "N",
      "ports that must answer RTSP for /health to be 200; 0 = all but one" },
  { "probe-timeout", SET_DOUBLE, OFF (probe_timeout), "2", 0.05, 60, "SECONDS",
      "a port is down if it does not answer OPTIONS with 200 within this" },
  { "probe-interval", SET_DOUBLE, OFF (probe_interval), "2", 0.1, 3600,
      "SECONDS", "time between health probes of every port" },
  { "stall-threshold", SET_DOUBLE, OFF (stall_threshold), "2", 0.2, 600,
      "SECONDS",
      "a camera with no video for this long is stalled (not ready)" },
  { "width", SET_UINT, OFF (width), "640", 16, 4096, "PIXELS",
      "video width of every camera" },
  { "height", SET_UINT, OFF (height), "480", 16, 4096, "PIXELS",
      "video height of every camera" },
  { "fps", SET_UINT, OFF (fps), "30", 1, 120, "N",
      "frames per second of every camera" },
  { "gop", SET_UINT, OFF (gop), "0", 0, 1200, "FRAMES",
      "frames between keyframes; 0 = one second's worth" },
  { "bitrate", SET_UINT, OFF (bitrate), "1000", 50, 50000, "KBPS",
      "H.264 target bitrate per camera" },
  { "shutdown-timeout", SET_DOUBLE, OFF (shutdown_timeout), "5", 0.1, 60,
      "SECONDS",
      "on SIGTERM, longest wait for connections to close before exit" },
  { "log-format", SET_STRING, OFF (log_format), "text", 0, 0, "FORMAT",
      "text (one line per event) or json (one JSON object per line)" },
  { "control-token", SET_STRING, OFF (control_token), NULL, 0, 0, "TOKEN",
      "enables the control API (/control/...) behind this bearer token" },
};

static char *
env_name (const RtsSetting *s)
{
  g_autofree char *upper = g_ascii_strup (s->name, -1);
  g_strdelimit (upper, "-", '_');
  return g_strconcat (RTS_ENV_PREFIX, upper, NULL);
}

static gboolean
parse_uint (const char *text, double min, double max, guint *out)
{
  char *end = NULL;
  guint64 v;

  if (text[0] == '\0' || !g_ascii_isdigit (text[0]))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (text, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static gboolean
parse_double (const char *text, double min, double max, double *out)
{
  char *end = NULL;
  double v;

  if (text[0] == '\0')
    return FALSE;
  errno = 0;
  v = g_ascii_strtod (text, &end);
  if (errno != 0 || *end != '\0' || !(v >= min && v <= max))
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
parse_port_list (const char *text, RtsConfig *cfg, char **why)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint n = 0;

  for (guint i = 0; parts[i]; i++) {
    guint port;

    g_strstrip (parts[i]);
    if (n == RTS_MAX_CAMERAS) {
      *why = g_strdup_printf ("at most %d ports", RTS_MAX_CAMERAS);
      return FALSE;
    }
    if (!parse_uint (parts[i], 0, 65535, &port)) {
      *why = g_strdup_printf ("'%s' is not a port number (0-65535)", parts[i]);
      return FALSE;
    }
    for (guint j = 0; j < n; j++) {
      if (port != 0 && cfg->rtsp_ports[j] == port) {
        *why = g_strdup_printf ("port %u is listed twice", port);
        return FALSE;
      }
    }
    cfg->rtsp_ports[n++] = port;
  }
  if (n == 0) {
    *why = g_strdup ("needs at least one port");
    return FALSE;
  }
  cfg->n_cameras = n;
  return TRUE;
}

/* Applies TEXT to setting S. SOURCE names where it came from for the
 * message: "--http-port" or "RTSP_TEST_SERVER_HTTP_PORT". */
static gboolean
apply (RtsConfig *cfg, const RtsSetting *s, const char *text,
    const char *source, GError **error)
{
  void *field = (char *) cfg + s->offset;
  g_autofree char *why = NULL;

  switch (s->type) {
    case SET_UINT:
      if (parse_uint (text, s->min, s->max, field))
        return TRUE;
      why = g_strdup_printf ("expects a whole number from %.0f to %.0f", s->min,
          s->max);
      break;
    case SET_DOUBLE:
      if (parse_double (text, s->min, s->max, field))
        return TRUE;
      why = g_strdup_printf ("expects a number of seconds from %g to %g",
          s->min, s->max);
      break;
    case SET_STRING:
      if (text[0] != '\0') {
        char **str = field;
        g_free (*str);
        *str = g_strdup (text);
        return TRUE;
      }
      why = g_strdup ("must not be empty");
      break;
    case SET_PORT_LIST:
      if (parse_port_list (text, cfg, &why))
        return TRUE;
      break;
  }
  g_set_error (error, RTS_CONFIG_ERROR, 0, "%s: bad value '%s': %s", source,
      text, why);
  return FALSE;
}

static const RtsSetting *
find_setting (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rts_settings); i++) {
    if (strcmp (rts_settings[i].name, name) == 0)
      return &rts_settings[i];
  }
  return NULL;
}

/* Checks that concern more than one setting. */
static gboolean
validate (RtsConfig *cfg, GError **error)
{
  if (!g_hostname_is_ip_address (cfg->bind)) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "--bind: '%s' is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)",
        cfg->bind);
    return FALSE;
  }
  if (strcmp (cfg->log_format, "text") && strcmp (cfg->log_format, "json")) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "--log-format: bad value '%s': expects text or json", cfg->log_format);
    return FALSE;
  }
  /* It goes verbatim into every URL we hand out. */
  for (const char *c = cfg->public_host; c && *c; c++) {
    if (!g_ascii_isalnum (*c) && !strchr (".-_:", *c)) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "--public-host: '%s' is not a host name or IP address",
          cfg->public_host);
      return FALSE;
    }
  }
  if (cfg->healthy_threshold > cfg->n_cameras) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "--healthy-threshold: %u is more than the %u RTSP ports configured",
        cfg->healthy_threshold, cfg->n_cameras);
    return FALSE;
  }
  if (cfg->width % 2 || cfg->height % 2) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "--width/--height: %ux%u must be even for 4:2:0 video", cfg->width,
        cfg->height);
    return FALSE;
  }
  return TRUE;
}

gboolean
rts_config_load (RtsConfig *cfg, char **argv, char **envp, GError **error)
{
  memset (cfg, 0, sizeof *cfg);

  for (gsize i = 0; i < G_N_ELEMENTS (rts_settings); i++) {
    const RtsSetting *s = &rts_settings[i];
    if (s->default_value && !apply (cfg, s, s->default_value, s->name, error))
      g_return_val_if_reached (FALSE);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (rts_settings); i++) {
    const RtsSetting *s = &rts_settings[i];
    g_autofree char *var = env_name (s);
    const char *value = g_environ_getenv (envp, var);
    if (value && !apply (cfg, s, value, var, error))
      return FALSE;
  }

  for (int i = 1; argv && argv[i]; i++) {
    const char *arg = argv[i];
    g_autofree char *name = NULL;
    const char *value;
    const RtsSetting *s;

    if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
      cfg->show_help = TRUE;
      continue;
    }
    if (strcmp (arg, "--version") == 0) {
      cfg->show_version = TRUE;
      continue;
    }
    if (strcmp (arg, "--help-markdown") == 0) {
      cfg->show_help_markdown = TRUE;
      continue;
    }
    if (!g_str_has_prefix (arg, "--") || arg[2] == '\0') {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "unexpected argument '%s' (try --help)", arg);
      return FALSE;
    }
    value = strchr (arg, '=');
    name = value ? g_strndup (arg + 2, value - arg - 2) : g_strdup (arg + 2);
    s = find_setting (name);
    if (!s) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "unknown option '--%s' (try --help)", name);
      return FALSE;
    }
    if (value) {
      value++;
    } else if (argv[i + 1]) {
      value = argv[++i];
    } else {
      g_set_error (error, RTS_CONFIG_ERROR, 0, "--%s: needs a value (%s)", name,
          s->metavar);
      return FALSE;
    }
    g_autofree char *flag = g_strconcat ("--", name, NULL);
    if (!apply (cfg, s, value, flag, error))
      return FALSE;
  }

  return validate (cfg, error);
}

void
rts_config_clear (RtsConfig *cfg)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rts_settings); i++) {
    if (rts_settings[i].type == SET_STRING)
      g_clear_pointer ((char **) ((char *) cfg + rts_settings[i].offset),
          g_free);
  }
}

guint
rts_config_threshold (const RtsConfig *cfg)
{
  if (cfg->healthy_threshold > 0)
    return cfg->healthy_threshold;
  return cfg->n_cameras > 1 ? cfg->n_cameras - 1 : 1;
}

char *
rts_config_help (void)
{
  GString *out = g_string_new (
      "Usage: rtsp-test-server [OPTION...]\n"
      "Fake IP cameras: one RTSP server per port, each a live H.264 test "
      "pattern at /stream,\nand an HTTP API with an honest /health.\n\n"
      "Options (each also read from the environment variable shown):\n");

  for (gsize i = 0; i < G_N_ELEMENTS (rts_settings); i++) {
    const RtsSetting *s = &rts_settings[i];
    g_autofree char *flag = g_strdup_printf ("--%s %s", s->name, s->metavar);
    g_autofree char *var = env_name (s);
    g_string_append_printf (out, "  %-30s %s\n  %-30s [%s%s%s]\n", flag,
        s->help, "", var, s->default_value ? ", default " : "",
        s->default_value ? s->default_value : "");
  }
  g_string_append (out,
      "  --help                         show this help and exit\n"
      "  --version                      show the version and exit\n\n"
      "Precedence: flag > environment > default. Exit status: 0 after a clean\n"
      "shutdown (SIGTERM/SIGINT), 1 when a port cannot be bound, 2 for a bad\n"
      "option or value.\n");
  return g_string_free (out, FALSE);
}

char *
rts_config_help_markdown (void)
{
  GString *out =
      g_string_new ("| flag | environment variable | default | meaning |\n"
                    "|---|---|---|---|\n");

  for (gsize i = 0; i < G_N_ELEMENTS (rts_settings); i++) {
    const RtsSetting *s = &rts_settings[i];
    g_autofree char *var = env_name (s);
    g_string_append_printf (out, "| `--%s %s` | `%s` | %s | %s |\n", s->name,
        s->metavar, var, s->default_value ? s->default_value : "(none)",
        s->help);
  }
  return g_string_free (out, FALSE);
}
