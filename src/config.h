/* config: every setting of the server and of each camera, where it came
 * from, and its checks.
 *
 * Owns the settings table (config.c: rts_settings[]): name, flag,
 * environment variable, YAML key, type, bounds, allowed values, default and
 * help of each setting. Parsing, bounds checks, --help, --check-config and
 * the README's table all come from that one table.
 *
 * Precedence, highest first: flag, environment, configuration file,
 * built-in default. A camera setting given as a flag or a global variable
 * (--fps, RTSP_TEST_SERVER_FPS) applies to every camera; a per-camera
 * variable (RTSP_TEST_SERVER_CAMERA_<NAME>_FPS) to that camera, above the
 * global one; in the file a camera's own key beats the file's defaults. */
#pragma once

#include <glib.h>

#define RTS_MAX_CAMERAS 256
#define RTS_ENV_PREFIX "RTSP_TEST_SERVER_"
/* How often health.c looks whether each camera sent video; a stall
 * threshold must cover a frame interval and one such period. */
#define RTS_STALL_WATCH_MS 250
/* An MJPEG camera's JPEG quality (jpegenc's 0-100): every frame a whole
 * picture, its size what the picture makes it; bitrate and gop do not
 * apply. */
#define RTS_MJPEG_QUALITY 85

/* Transports a camera offers; a SETUP asking for another gets 461. */
typedef enum {
  RTS_TRANSPORT_TCP = 1 << 0,
  RTS_TRANSPORT_UDP = 1 << 1,
  RTS_TRANSPORT_MULTICAST = 1 << 2,
} RtsTransports;

/* One camera as configured. Strings are owned. */
typedef struct {
  char *name;    /* cam1, cam2, ... or the file's */
  guint port;    /* 0 = any free port */
  char *path;    /* mount path, "/stream" */
  char *source;  /* "loop", "live" or "file" */
  char *file;    /* source file: a user's MP4/MKV */
  char *codec;   /* "h264", "h265" or "mjpeg" */
  char *profile; /* h264: "baseline", "main" or "high" */
  guint width;
  guint height;
  guint fps;
  guint gop;        /* frames; 0 = fps (one second) */
  guint bitrate;    /* kbit/s */
  char *pattern;    /* videotestsrc pattern; NULL = one per camera */
  gboolean overlay; /* live: frame counter and wall clock in the picture */
  char *audio;      /* "none", "aac", "opus", "pcmu" or "pcma" */
  char *auth;       /* "none", "basic" or "digest" */
  char *user;
  char *password;
  double clip_seconds; /* loop: clip length, whole GOPs */
  char *transports;    /* "tcp,udp" as given; see transport_mask */
  guint transport_mask;
  char *mcast_addresses; /* "FIRST-LAST": where the camera's group comes from */
  char *mcast_ports;     /* "FIRST-LAST": RTP/RTCP pairs, video then audio */
  guint mcast_ttl;
  /* With multicast: the camera's own group (the k-th multicast camera
   * sharing a range gets its k-th address) and its ports. */
  char mcast_group[16];
  guint mcast_port_min;
  guint mcast_port_max;
} RtsCameraConfig;

typedef struct {
  RtsCameraConfig cameras[RTS_MAX_CAMERAS];
  guint n_cameras;
  guint http_port;
  char *bind;
  char *public_host;       /* NULL: the request's Host */
  guint healthy_threshold; /* 0 = n_cameras - 1 (3 of 4) */
  double probe_timeout;    /* seconds */
  double probe_interval;   /* seconds */
  double stall_threshold;  /* seconds without video: stalled */
  double shutdown_timeout; /* seconds */
  char *control_token;     /* NULL: control API off */
  char *log_format;        /* "text" or "json" */
  char *config_file;       /* NULL: none */
  guint max_readers_per_camera;
  guint max_readers;          /* all cameras together */
  guint session_timeout;      /* seconds */
  guint idle_timeout;         /* seconds without a session */
  guint max_request_bytes;    /* an RTSP request's body */
  guint max_request_headers;  /* an RTSP request's header lines */
  guint max_http_connections; /* open at once; one more gets 503 */
  gboolean ignore_play_range; /* no seek of the shared camera on PLAY */
  char *clip_cache;           /* NULL: the user's cache; "" or "none": off */

  gboolean check_config;  /* validate, print a summary, exit */
  gboolean prepare_cache; /* make the loop clips into the cache, exit */
  gboolean show_help;
  gboolean show_version;
  gboolean show_help_markdown; /* the settings tables for the README */

  /* Where each value came from, by its field's address; see
   * rts_config_origin. */
  GHashTable *origins;
} RtsConfig;

#define RTS_CONFIG_ERROR (rts_config_error_quark ())
GQuark rts_config_error_quark (void);

/* Fills CFG from ARGV (argv[0] skipped), ENVP (as from g_get_environ())
 * and the file named by --config or RTSP_TEST_SERVER_CONFIG. On a bad flag,
 * variable or file returns FALSE with a one-line message naming where the
 * bad value came from (flag, variable, or file:line and key), the value
 * and what is allowed. With --help, --version or --help-markdown in ARGV
 * only those are set (and TRUE returned): nothing else is read. CFG is
 * always safe to clear afterwards. */
gboolean
rts_config_load (RtsConfig *cfg, char **argv, char **envp, GError **error);

void rts_config_clear (RtsConfig *cfg);

/* Whether the message of a failed rts_config_load() goes out as a JSON log
 * line: the log format the last --log-format in ARGV names, else the one
 * RTSP_TEST_SERVER_LOG_FORMAT in ENVP names, else the one CFG holds (the
 * file's, if the load had read it before it stopped; else the default).
 * ARGV and ENVP are read here, for the load may have stopped before them. */
gboolean rts_config_error_json (const RtsConfig *cfg, char **argv, char **envp);

/* The usage text, built from the settings table. */
char *rts_config_help (void);

/* The tables as Markdown, for the README (--help-markdown). */
char *rts_config_help_markdown (void);

/* Every key a file may hold, dotted ("http.port", "auth.user"); camera
 * keys as in a camera's map. */
char **rts_config_file_keys (void);

/* What --check-config prints: every camera as it will run, each followed
 * by the line NOTES holds for it, if NOTES and its entry are not NULL. */
char *rts_config_summary (const RtsConfig *cfg, const char *const *notes);

/* Where loop clips are cached (rts_config_clip_cache_dir), or NULL when the
 * cache is off. */
char *rts_config_clip_cache_dir (const RtsConfig *cfg);

/* Where the value in FIELD (the address of one of CFG's fields, or of a
 * camera's) came from, for messages: "--clip-cache",
 * "RTSP_TEST_SERVER_BIND", "cams.yaml:3: key 'bind'", or "default". */
const char *rts_config_origin (const RtsConfig *cfg, const void *field);

/* The shortest stall threshold that covers frames GAP seconds apart
 * (a frame interval, or a file's longest gap between frames) and health's
 * look every RTS_STALL_WATCH_MS, rounded up to the hundredth for messages;
 * *FITS (may be NULL) says whether CFG's threshold is that long. */
double rts_config_stall_need (const RtsConfig *cfg, double gap, gboolean *fits);

/* Threshold in force: the configured one, or n-1 of n (at least 1). */
guint rts_config_threshold (const RtsConfig *cfg);

/* Whether the LEN bytes at NAME are a host name readers can resolve: at
 * most 253 characters, labels of 1 to 63 letters, digits, '-' or '_', none
 * starting or ending with '-', a final dot allowed; digits and dots alone
 * must be an IPv4 address. */
gboolean rts_config_host_name_ok (const char *name, gsize len);

/* The last port a multicast camera sends on: an RTP/RTCP pair per stream
 * (video, then audio) from its mcast_port_min. */
guint rts_config_mcast_last_port (const RtsCameraConfig *cam);
