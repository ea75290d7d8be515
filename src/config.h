/* config: every setting of the server, where it came from, and its checks.
 *
 * Owns the settings table (config.c: rts_settings[]): name, flag, environment
 * variable, type, bounds, default and help of each setting. Parsing, bounds
 * checks, --help and the README's table all come from that one table.
 * Precedence: flag > environment > default. */
#pragma once

#include <glib.h>

#define RTS_MAX_CAMERAS 16
#define RTS_ENV_PREFIX "RTSP_TEST_SERVER_"

typedef struct {
  guint rtsp_ports[RTS_MAX_CAMERAS]; /* 0 = any free port */
  guint n_cameras;
  guint http_port;
  char *bind;
  char *public_host;       /* NULL: the request's Host */
  guint healthy_threshold; /* 0 = n_cameras - 1 (3 of 4) */
  double probe_timeout;    /* seconds */
  double probe_interval;   /* seconds */
  double stall_threshold;  /* seconds without video: stalled */
  guint width;
  guint height;
  guint fps;
  guint gop;               /* frames; 0 = fps (one second) */
  guint bitrate;           /* kbit/s */
  double shutdown_timeout; /* seconds */
  char *control_token;     /* NULL: control API off */
  char *log_format;        /* "text" or "json" */

  gboolean show_help;
  gboolean show_version;
  gboolean show_help_markdown; /* the settings table for the README */
} RtsConfig;

#define RTS_CONFIG_ERROR (rts_config_error_quark ())
GQuark rts_config_error_quark (void);

/* Fills CFG from ARGV (argv[0] skipped) and ENVP (as from g_get_environ()).
 * On a bad flag or value returns FALSE with a one-line message naming the
 * flag or variable, the bad value and what is allowed. */
gboolean
rts_config_load (RtsConfig *cfg, char **argv, char **envp, GError **error);

void rts_config_clear (RtsConfig *cfg);

/* The usage text, built from the settings table. */
char *rts_config_help (void);

/* The table as a Markdown table, for the README (--help-markdown). */
char *rts_config_help_markdown (void);

/* Threshold in force: the configured one, or n-1 of n (at least 1). */
guint rts_config_threshold (const RtsConfig *cfg);
