/* config: see config.h. */
#include "config.h"

#include "config_yaml.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK (rts - config - error - quark, rts_config_error)

typedef enum {
  SET_UINT,
  SET_DOUBLE,
  SET_STRING,
  SET_BOOL,
  SET_CHOICE,      /* one of the choices */
  SET_LIST,        /* a non-empty subset of the choices, "a,b" */
  SET_PORT_LIST,   /* --rtsp-ports: one camera per port */
  SET_MCAST_RANGE, /* "FIRST-LAST" IPv4 multicast addresses, or one */
  SET_PORT_RANGE,  /* "FIRST-LAST" UDP ports: whole RTP/RTCP pairs */
} SettingType;

typedef enum {
  SCOPE_SERVER, /* a field of RtsConfig */
  SCOPE_CAMERA, /* a field of RtsCameraConfig, per camera */
} Scope;

enum {
  FILE_ONLY = 1 << 0, /* no flag, no global variable (a camera's name) */
  SECRET = 1 << 1,    /* never echoed in a message or a summary */
  NO_FILE = 1 << 2,   /* flag and variable only */
  EMPTY_OK = 1 << 3,  /* a string that may be empty (it means "off") */
  /* A file or directory: Linux allows any bytes but / and NUL in a name,
   * so it need not be UTF-8 (the JSON log escapes what is not). */
  PATH = 1 << 4,
  /* FILE_ONLY, yet per camera a variable too: a camera's port, for a
   * task definition to move one camera (a flag or a global variable would
   * give every camera the same). */
  CAMERA_VAR = 1 << 5,
};

typedef struct {
  const char *name; /* flag is --NAME, variable is PREFIX + NAME */
  const char *key;  /* key in the file; camera keys sit under cameras[] */
  Scope scope;
  size_t offset;
  SettingType type;
  const char *default_value; /* parsed like user input; NULL = unset */
  double min;
  double max;
  const char *choices; /* SET_CHOICE, SET_LIST: "a|b|c" */
  const char *metavar;
  const char *help;
  guint flags;
} RtsSetting;

#define SRV(field) SCOPE_SERVER, offsetof (RtsConfig, field)
#define CAM(field) SCOPE_CAMERA, offsetof (RtsCameraConfig, field)

/* Every setting the server has. Keep this the only place that lists them. */
static const RtsSetting rts_settings[] = {
  { "config", NULL, SRV (config_file), SET_STRING, NULL, 0, 0, NULL, "FILE",
      "YAML configuration file (see config/example.yaml)", NO_FILE | PATH },
  { "rtsp-ports", NULL, SRV (cameras), SET_PORT_LIST, "8554,8555,8556,8557", 0,
      65535, NULL, "LIST",
      "RTSP ports, one camera each (cam1, cam2, ...); 0 = any free port; "
      "with a file, one per camera in the file",
      NO_FILE },
  { "http-port", "http.port", SRV (http_port), SET_UINT, "8080", 0, 65535, NULL,
      "PORT", "HTTP API port (/health, /rtsp-urls, /); 0 = any free port", 0 },
  { "bind", "bind", SRV (bind), SET_STRING, "0.0.0.0", 0, 0, NULL, "ADDRESS",
      "address every port listens on", 0 },
  { "public-host", "public_host", SRV (public_host), SET_STRING, NULL, 0, 0,
      NULL, "NAME",
      "host name put in RTSP URLs (default: the Host the HTTP request used)",
      0 },
  { "healthy-threshold", "health.healthy_threshold", SRV (healthy_threshold),
      SET_UINT, "0", 0, RTS_MAX_CAMERAS, NULL, "N",
      "ports that must answer RTSP for /health to be 200; 0 = all but one", 0 },
  { "probe-timeout", "health.probe_timeout", SRV (probe_timeout), SET_DOUBLE,
      "2", 0.05, 60, NULL, "SECONDS",
      "a port is down if it does not answer OPTIONS and DESCRIBE within this",
      0 },
  { "probe-interval", "health.probe_interval", SRV (probe_interval), SET_DOUBLE,
      "2", 0.1, 3600, NULL, "SECONDS",
      "time between health probes of every port", 0 },
  { "stall-threshold", "health.stall_threshold", SRV (stall_threshold),
      SET_DOUBLE, "2", 0.26, 600, NULL, "SECONDS",
      "a camera with no video for this long is stalled (not ready); at "
      "least a frame interval (1/fps) plus 0.25 s",
      0 },
  { "shutdown-timeout", "shutdown_timeout", SRV (shutdown_timeout), SET_DOUBLE,
      "5", 0.1, 60, NULL, "SECONDS",
      "on SIGTERM, longest wait for connections to close before exit", 0 },
  { "max-readers-per-camera", "limits.max_readers_per_camera",
      SRV (max_readers_per_camera), SET_UINT, "200", 1, 100000, NULL, "N",
      "readers one camera takes (a reader: a connection holding a session); "
      "one more gets 453 Not Enough Bandwidth",
      0 },
  { "max-readers", "limits.max_readers", SRV (max_readers), SET_UINT, "2000", 1,
      1000000, NULL, "N",
      "readers all cameras together take; one more gets 453", 0 },
  { "session-timeout", "limits.session_timeout", SRV (session_timeout),
      SET_UINT, "60", 5, 3600, NULL, "SECONDS",
      "a UDP reader's session without keep-alive (any request, or RTCP) for "
      "this long, and gst-rtsp-server's 5 s of grace, is closed; a TCP "
      "reader's lasts while its connection does "
      "(gst-rtsp-server counts data it sends as keep-alive)",
      0 },
  { "idle-timeout", "limits.idle_timeout", SRV (idle_timeout), SET_UINT, "30",
      1, 3600, NULL, "SECONDS",
      "an RTSP connection that holds no session (none yet, or its last "
      "ended), or an HTTP connection not yet answered, after this long is "
      "closed",
      0 },
  { "max-request-bytes", "limits.max_request_bytes", SRV (max_request_bytes),
      SET_UINT, "65536", 1024, 16777216, NULL, "BYTES",
      "largest RTSP request body (Content-Length) taken; a larger one is "
      "refused before it is read and the connection closed",
      0 },
  { "max-request-headers", "limits.max_request_headers",
      SRV (max_request_headers), SET_UINT, "100", 8, 10000, NULL, "N",
      "most header lines an RTSP request may have (each cut at 4 KiB); "
      "more get 413 and the connection closed",
      0 },
  { "max-http-connections", "limits.max_http_connections",
      SRV (max_http_connections), SET_UINT, "256", 1, 100000, NULL, "N",
      "HTTP connections open at once; at the limit the one open longest gives "
      "way if open over 1 s, else the new one gets 503",
      0 },
  { "ignore-play-range", "limits.ignore_play_range", SRV (ignore_play_range),
      SET_BOOL, "true", 0, 0, NULL, "BOOL",
      "drop a PLAY's Range so gst-rtsp-server does not seek (flush) the "
      "shared camera for every joining reader (README, known issues)",
      0 },
  { "log-format", "log.format", SRV (log_format), SET_CHOICE, "text", 0, 0,
      "text|json", "FORMAT",
      "text (one line per event) or json (one JSON object per line)", 0 },
  { "control-token", "control.token", SRV (control_token), SET_STRING, NULL, 0,
      0, NULL, "TOKEN",
      "enables the control API (/control/...) behind this bearer token "
      "(ASCII, no space at either end, at most 4096 bytes)",
      SECRET },
  { "clip-cache", "clip_cache", SRV (clip_cache), SET_STRING, NULL, 0, 0, NULL,
      "DIR",
      "keeps loop cameras' encoded clips between starts (default "
      "$XDG_CACHE_HOME/rtsp-test-server or ~/.cache/rtsp-test-server); "
      "empty or none: off",
      EMPTY_OK | PATH },

  { "name", "name", CAM (name), SET_STRING, NULL, 0, 0, NULL, "NAME",
      "camera name (letters, digits, - and _); default cam1, cam2, ...",
      FILE_ONLY },
  { "port", "port", CAM (port), SET_UINT, NULL, 0, 65535, NULL, "PORT",
      "camera's RTSP port; 0 or left out: any free port (see /rtsp-urls)",
      FILE_ONLY | CAMERA_VAR },
  { "path", "path", CAM (path), SET_STRING, "/stream", 0, 0, NULL, "PATH",
      "mount path of every camera's stream (/ and letters, digits, /, -, _ "
      "and ., no empty, '.' or '..' segment, at most 128 characters)",
      0 },
  { "source", "source", CAM (source), SET_CHOICE, "loop", 0, 0,
      "loop|live|file", "SOURCE",
      "live (an encoder runs), loop (a clip encoded once, replayed from "
      "memory) or file (a user's MP4/MKV, looped)",
      0 },
  { "clip-seconds", "clip_seconds", CAM (clip_seconds), SET_DOUBLE, "2", 0.1,
      60, NULL, "SECONDS",
      "source: loop - length of the clip encoded at start-up (rounded up to "
      "whole GOPs)",
      0 },
  { "file", "file", CAM (file), SET_STRING, NULL, 0, 0, NULL, "PATH",
      "source: file - the video file (MP4, MKV, MOV or MPEG-TS; H.264 or "
      "H.265) to loop",
      PATH },
  { "codec", "codec", CAM (codec), SET_CHOICE, "h264", 0, 0, "h264|h265|mjpeg",
      "CODEC", "video codec", 0 },
  { "profile", "profile", CAM (profile), SET_CHOICE, NULL, 0, 0,
      "baseline|main|high", "PROFILE", "H.264 profile (default baseline)", 0 },
  { "width", "width", CAM (width), SET_UINT, "640", 16, 4096, NULL, "PIXELS",
      "video width", 0 },
  { "height", "height", CAM (height), SET_UINT, "480", 16, 4096, NULL, "PIXELS",
      "video height", 0 },
  { "fps", "fps", CAM (fps), SET_UINT, "30", 1, 120, NULL, "N",
      "frames per second", 0 },
  { "gop", "gop", CAM (gop), SET_UINT, "0", 0, 1200, NULL, "FRAMES",
      "frames between keyframes; 0 = one second's worth", 0 },
  { "bitrate", "bitrate", CAM (bitrate), SET_UINT, "1000", 50, 50000, NULL,
      "KBPS", "target bitrate per camera", 0 },
  { "pattern", "pattern", CAM (pattern), SET_CHOICE, NULL, 0, 0,
      "smpte|ball|pinwheel|colors|checkers-8|circular|spokes|gradient|snow|"
      "black|white",
      "PATTERN", "test picture (default: a different one per camera)", 0 },
  { "overlay", "overlay", CAM (overlay), SET_BOOL, "false", 0, 0, NULL, "BOOL",
      "source: live - burn a frame counter and a millisecond wall clock into "
      "the picture",
      0 },
  { "audio", "audio", CAM (audio), SET_CHOICE, "none", 0, 0,
      "none|aac|opus|pcmu|pcma", "CODEC", "audio test tone", 0 },
  { "auth", "auth.type", CAM (auth), SET_CHOICE, "none", 0, 0,
      "none|basic|digest", "TYPE", "RTSP authentication", 0 },
  { "auth-user", "auth.user", CAM (user), SET_STRING, NULL, 0, 0, NULL, "USER",
      "user name readers must give", 0 },
  { "auth-password", "auth.password", CAM (password), SET_STRING, NULL, 0, 0,
      NULL, "PASSWORD", "password readers must give (never logged)", SECRET },
  { "transports", "transports", CAM (transports), SET_LIST, "tcp,udp", 0, 0,
      "tcp|udp|multicast", "LIST",
      "RTP transports offered; others get 461 Unsupported Transport", 0 },
  { "multicast-addresses", "multicast.addresses", CAM (mcast_addresses),
      SET_MCAST_RANGE, "239.255.42.0-239.255.42.255", 0, 0, NULL, "RANGE",
      "transports: multicast - IPv4 groups (FIRST-LAST, or one address); "
      "each multicast camera using a range takes the next group of it",
      0 },
  { "multicast-ports", "multicast.ports", CAM (mcast_ports), SET_PORT_RANGE,
      "5000-5003", 1024, 65535, NULL, "RANGE",
      "transports: multicast - UDP ports (FIRST-LAST, FIRST even): an "
      "RTP/RTCP pair for video, the next for audio",
      0 },
  { "multicast-ttl", "multicast.ttl", CAM (mcast_ttl), SET_UINT, "1", 1, 255,
      NULL, "HOPS",
      "transports: multicast - TTL of multicast packets; 1 keeps them on the "
      "local network segment",
      0 },
};

#define N_SETTINGS G_N_ELEMENTS (rts_settings)

/* Patterns a viewer tells apart at a glance; the ball moves, so a frozen
 * picture is visible too. Cameras past the list reuse it in order. */
static const char *const patterns[] = {
  "smpte",
  "ball",
  "pinwheel",
  "colors",
  "checkers-8",
  "circular",
  "spokes",
  "gradient",
};

static char *
env_name (const char *name)
{
  g_autofree char *upper = g_ascii_strup (name, -1);
  g_strdelimit (upper, "-.", '_');
  return g_strconcat (RTS_ENV_PREFIX, upper, NULL);
}

static char *
camera_env_prefix (const char *camera)
{
  g_autofree char *upper = g_ascii_strup (camera, -1);
  for (char *c = upper; *c; c++) {
    if (!g_ascii_isalnum (*c))
      *c = '_';
  }
  return g_strconcat (RTS_ENV_PREFIX, "CAMERA_", upper, "_", NULL);
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

  /* g_ascii_strtod also reads hex ("0x10" as 16), inf and nan; a whole
   * number setting refuses them, so a number of seconds does too. */
  if (text[0] == '\0' || strpbrk (text, "xXiInN"))
    return FALSE;
  /* g_ascii_strtod skips leading space: " 2" was taken as seconds, though
   * " 2" as a whole number (and "2 " as either) was refused. */
  if (g_ascii_isspace (text[0]))
    return FALSE;
  errno = 0;
  v = g_ascii_strtod (text, &end);
  if (errno != 0 || *end != '\0' || !(v >= min && v <= max))
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
is_choice (const char *choices, const char *word)
{
  g_auto (GStrv) all = g_strsplit (choices, "|", -1);
  return word[0] && g_strv_contains ((const char *const *) all, word);
}

static char *
choices_text (const char *choices)
{
  g_auto (GStrv) all = g_strsplit (choices, "|", -1);
  return g_strjoinv (", ", all);
}

/* TEXT as a message quotes it (see rts_log_quote), its first 100
 * characters. */
static char *
shorten (const char *text)
{
  return rts_log_quote (text, 100);
}

/* PORTS gets the list; N its length. */
static gboolean
parse_port_list (const char *text, guint *ports, guint *n, char **why)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);

  *n = 0;
  for (guint i = 0; parts[i]; i++) {
    guint port;

    g_strstrip (parts[i]);
    if (*n == RTS_MAX_CAMERAS) {
      *why = g_strdup_printf ("at most %d ports", RTS_MAX_CAMERAS);
      return FALSE;
    }
    if (!parse_uint (parts[i], 0, 65535, &port)) {
      g_autofree char *shown = shorten (parts[i]);
      *why = g_strdup_printf ("'%s' is not a port number (0-65535)", shown);
      return FALSE;
    }
    for (guint j = 0; j < *n; j++) {
      if (port != 0 && ports[j] == port) {
        *why = g_strdup_printf ("port %u is listed twice", port);
        return FALSE;
      }
    }
    ports[(*n)++] = port;
  }
  if (*n == 0) {
    *why = g_strdup ("needs at least one port");
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_bool (const char *text, gboolean *out)
{
  static const char *const yes[] = { "true", "yes", "on", "1", NULL };
  static const char *const no[] = { "false", "no", "off", "0", NULL };
  g_autofree char *lower = g_ascii_strdown (text, -1);

  if (g_strv_contains (yes, lower))
    *out = TRUE;
  else if (g_strv_contains (no, lower))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

/* "FIRST-LAST" or "ADDRESS": IPv4 multicast (224.0.0.0/4), host order.
 * WHY gets what is wrong. */
static gboolean
parse_mcast_range (const char *text, guint32 *first, guint32 *last, char **why)
{
  g_auto (GStrv) ends = g_strsplit (text, "-", 3);
  guint32 v[2];

  if (!ends[0] || (ends[1] && ends[2])) {
    *why = g_strdup ("expects FIRST-LAST or one address, e.g. "
                     "239.255.42.0-239.255.42.255");
    return FALSE;
  }
  for (guint i = 0; i < 2; i++) {
    const char *one = g_strstrip (ends[ends[1] ? i : 0]);
    struct in_addr a;
    if (inet_pton (AF_INET, one, &a) != 1) {
      g_autofree char *shown = shorten (one);
      *why = g_strdup_printf ("'%s' is not an IPv4 address", shown);
      return FALSE;
    }
    v[i] = ntohl (a.s_addr);
    if (v[i] >> 28 != 0xe) {
      *why = g_strdup_printf ("%s is not a multicast address "
                              "(224.0.0.0 to 239.255.255.255; 239.255.x.x "
                              "stays inside an organisation)",
          one);
      return FALSE;
    }
    /* 224.0.0.x is the local network's control block (all hosts, all
     * routers, OSPF, mDNS...): a stream sent there lands on every host. */
    if (v[i] >> 8 == 0xe00000) {
      *why = g_strdup_printf ("%s is in 224.0.0.0-224.0.0.255, reserved for "
                              "the local network's control traffic (all "
                              "hosts, routers, mDNS); 239.255.x.x is for "
                              "uses like this",
          one);
      return FALSE;
    }
  }
  if (v[0] > v[1]) {
    *why = g_strdup ("the first address is above the last");
    return FALSE;
  }
  *first = v[0];
  *last = v[1];
  return TRUE;
}

/* "FIRST-LAST" ports from MIN to MAX; RTP takes an even port and RTCP the
 * odd one after it, so the range starts even and holds whole pairs. */
static gboolean
parse_port_range (const char *text, double min, double max, guint *first,
    guint *last, char **why)
{
  g_auto (GStrv) ends = g_strsplit (text, "-", 3);

  if (!ends[0] || !ends[1] || ends[2]
      || !parse_uint (g_strstrip (ends[0]), min, max, first)
      || !parse_uint (g_strstrip (ends[1]), min, max, last)) {
    *why = g_strdup_printf ("expects FIRST-LAST, ports from %.0f to %.0f, "
                            "e.g. 5000-5003",
        min, max);
    return FALSE;
  }
  if (*first > *last)
    *why = g_strdup ("the first port is above the last");
  else if (*first % 2)
    *why = g_strdup_printf ("the first port must be even (RTP; RTCP takes "
                            "the next), e.g. %u-%u",
        *first - 1, *last % 2 ? *last : *last + 1);
  else if ((*last - *first + 1) % 2)
    *why = g_strdup_printf ("holds %u ports: it must hold whole RTP/RTCP "
                            "pairs, e.g. %u-%u",
        *last - *first + 1, *first, *last + 1);
  return *why == NULL;
}

/* Where each value came from, by the address of its field ("cams.yaml:5:
 * key 'cameras[1].port'", "--fps", a variable), for the checks that take
 * settings together: their messages name the line and key as a single
 * bad value's do. Lives while rts_config_load runs; no entry: a default. */
static GHashTable *origins;

static void
set_origin (const void *field, const char *source)
{
  if (origins)
    g_hash_table_replace (origins, (gpointer) field, g_strdup (source));
}

/* "cams.yaml:5: key 'cameras[1].port'", or "default". */
static const char *
origin (const void *field)
{
  const char *o = origins ? g_hash_table_lookup (origins, field) : NULL;
  return o ? o : "default";
}

/* For a number's message: what is wrong when only the spaces are. */
static const char *
spaced (const char *text)
{
  gsize n = strlen (text);

  return n && (g_ascii_isspace (text[0]) || g_ascii_isspace (text[n - 1]))
      ? ", with no space around it"
      : "";
}

/* Applies TEXT to setting S of the struct at BASE (RtsConfig or
 * RtsCameraConfig, as S's scope says). SOURCE names where TEXT came from:
 * "--http-port", "RTSP_TEST_SERVER_HTTP_PORT" or "cams.yaml:3: key
 * 'http.port'". */
static gboolean
apply (void *base, const RtsSetting *s, const char *text, const char *source,
    GError **error)
{
  void *field = (char *) base + s->offset;
  g_autofree char *why = NULL;

  /* A newline or another control character (a YAML folded scalar's last
   * newline, a variable set from a file with its line end) would be taken
   * into a path, a name or a credential, or split a log line. */
  for (const char *c = text; *c; c++) {
    if ((guchar) *c < 0x20 || *c == 0x7f) {
      g_autofree char *shown = shorten (text);
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "%s: bad value '%s': holds a control character (\\x%02x)", source,
          s->flags & SECRET ? "(hidden)" : shown, (guchar) *c);
      return FALSE;
    }
  }
  /* A name or a credential in bytes no reader of the logs, the JSON log
   * or a client can be sure to take alike. */
  if (!(s->flags & PATH) && !g_utf8_validate (text, -1, NULL)) {
    g_autofree char *shown = shorten (text);
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: bad value '%s': not valid UTF-8", source,
        s->flags & SECRET ? "(hidden)" : shown);
    return FALSE;
  }
  /* The same in UTF-8: a C1 control (U+0080 to U+009F: U+0085 is a line
   * end to some readers of the log), a line or paragraph separator (the
   * same, U+2028 and U+2029), or a direction override or isolate, which
   * shows a log line or a name in an order other than its bytes'. */
  for (const char *c = text; !(s->flags & PATH) && *c;
       c = g_utf8_next_char (c)) {
    gunichar u = g_utf8_get_char (c);
    if ((u >= 0x80 && u <= 0x9f) || (u >= 0x202a && u <= 0x202e)
        || (u >= 0x2066 && u <= 0x2069) || u == 0x2028 || u == 0x2029) {
      g_autofree char *shown = shorten (text);
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "%s: bad value '%s': holds the control character U+%04X", source,
          s->flags & SECRET ? "(hidden)" : shown, u);
      return FALSE;
    }
  }
  switch (s->type) {
    case SET_UINT:
      if (parse_uint (text, s->min, s->max, field))
        goto done;
      why = g_strdup_printf ("expects a whole number from %.0f to %.0f%s",
          s->min, s->max, spaced (text));
      break;
    case SET_DOUBLE:
      if (parse_double (text, s->min, s->max, field))
        goto done;
      why = g_strdup_printf ("expects a number of seconds from %g to %g%s",
          s->min, s->max, spaced (text));
      break;
    case SET_BOOL:
      if (parse_bool (text, field))
        goto done;
      why = g_strdup ("expects true or false (or yes/no, on/off, 1/0)");
      break;
    case SET_STRING:
    case SET_CHOICE:
    case SET_LIST:
      if (s->type == SET_STRING && text[0] == '\0' && !(s->flags & EMPTY_OK)) {
        why = g_strdup ("must not be empty");
        break;
      }
      if (s->type == SET_CHOICE && !is_choice (s->choices, text)) {
        g_autofree char *all = choices_text (s->choices);
        why = g_strdup_printf ("expects one of: %s", all);
        break;
      }
      if (s->type == SET_LIST) {
        g_auto (GStrv) items = g_strsplit (text, ",", -1);
        g_autofree char *all = choices_text (s->choices);
        for (guint i = 0; items[i]; i++) {
          g_strstrip (items[i]);
          if (!is_choice (s->choices, items[i])) {
            g_autofree char *shown = shorten (items[i]);
            /* The first bad item is the one the message names. */
            why = g_strdup_printf ("'%s' is not one of: %s", shown, all);
            break;
          }
          for (guint j = 0; j < i; j++) {
            if (g_str_equal (items[j], items[i])) {
              g_autofree char *shown = shorten (items[i]);
              why = g_strdup_printf ("'%s' is listed twice", shown);
              break;
            }
          }
          if (why)
            break;
        }
        if (!items[0])
          why = g_strdup_printf ("expects at least one of: %s", all);
        if (why)
          break;
      }
      g_free (*(char **) field);
      *(char **) field = g_strdup (text);
      goto done;
    case SET_MCAST_RANGE:
    case SET_PORT_RANGE: {
      guint32 a, b;
      guint pa, pb;
      if (s->type == SET_MCAST_RANGE
              ? !parse_mcast_range (text, &a, &b, &why)
              : !parse_port_range (text, s->min, s->max, &pa, &pb, &why))
        break;
      g_free (*(char **) field);
      *(char **) field = g_strdup (text);
      goto done;
    }
    case SET_PORT_LIST:
      g_assert_not_reached ();
  }
  {
    g_autofree char *shown = shorten (text);
    g_set_error (error, RTS_CONFIG_ERROR, 0, "%s: bad value '%s': %s", source,
        s->flags & SECRET ? "(hidden)" : shown, why);
  }
  return FALSE;
done:
  set_origin (field, source);
  return TRUE;
}

static const RtsSetting *
find_setting (const char *name)
{
  for (gsize i = 0; i < N_SETTINGS; i++) {
    if (strcmp (rts_settings[i].name, name) == 0)
      return &rts_settings[i];
  }
  return NULL;
}

static const RtsSetting *
find_key (const char *key, Scope scope)
{
  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    if (s->scope == scope && s->key && !(s->flags & NO_FILE)
        && strcmp (s->key, key) == 0)
      return s;
  }
  return NULL;
}

/* Levenshtein distance, for "did you mean". */
static guint
distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++) {
    guint diag = row[0];
    row[0] = i;
    for (gsize j = 1; j <= lb; j++) {
      guint up = row[j];
      guint best = diag + (a[i - 1] != b[j - 1]);
      best = MIN (best, row[j - 1] + 1);
      best = MIN (best, up + 1);
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* " (did you mean 'X'?)" for the closest of CANDIDATES, or "". */
static char *
did_you_mean (const char *word, GPtrArray *candidates)
{
  const char *best = NULL;
  guint best_d = G_MAXUINT;

  gsize len = strlen (word), limit = MAX (2u, len / 3);

  for (guint i = 0; i < candidates->len; i++) {
    /* The distance is at least the lengths' difference: a long word (a
     * hostile variable's name) is not compared at quadratic cost with
     * names it cannot be near. */
    gsize lc = strlen (candidates->pdata[i]);
    gsize gap = len > lc ? len - lc : lc - len;
    if (gap > limit || gap >= best_d)
      continue;
    guint d = distance (word, candidates->pdata[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates->pdata[i];
    }
  }
  if (best && best_d <= limit)
    return g_strdup_printf (" (did you mean '%s'?)", best);
  return g_strdup ("");
}

/* KEY as the file has it; SHOWN with its place ("cameras[1].fsp"). */
static char *
unknown_key_message (const char *key, const char *shown, Scope scope)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  g_autofree char *hint = NULL;

  /* The right key in the wrong place ("fps: 10" at the top): no spelling
   * is closer, and "unknown" alone does not say where it goes. */
  if (find_key (key, scope == SCOPE_SERVER ? SCOPE_CAMERA : SCOPE_SERVER))
    return g_strdup_printf (scope == SCOPE_SERVER
            ? "unknown key '%s': '%s' is a camera setting: put it under "
              "defaults (every camera) or under a camera in cameras"
            : "unknown key '%s': '%s' is a server setting: put it at the top "
              "level, outside defaults and cameras",
        shown, key);
  for (gsize i = 0; i < N_SETTINGS; i++) {
    if (rts_settings[i].scope == scope && rts_settings[i].key
        && !(rts_settings[i].flags & NO_FILE))
      g_ptr_array_add (keys, (gpointer) rts_settings[i].key);
  }
  if (scope == SCOPE_SERVER) {
    g_ptr_array_add (keys, "cameras");
    g_ptr_array_add (keys, "defaults");
  }
  /* Sections too ("htp" for "http"), each once. */
  g_autoptr (GPtrArray) sections = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < keys->len; i++) {
    const char *k = keys->pdata[i];
    const char *dot = strchr (k, '.');
    g_autofree char *head = dot ? g_strndup (k, (gsize) (dot - k)) : NULL;
    gboolean known = FALSE;
    for (guint j = 0; head && j < sections->len; j++)
      known = known || g_str_equal (sections->pdata[j], head);
    if (head && !known)
      g_ptr_array_add (sections, g_steal_pointer (&head));
  }
  for (guint i = 0; i < sections->len; i++)
    g_ptr_array_add (keys, sections->pdata[i]);
  /* "auth: basic", "http: 8080": a map's name given a value. */
  {
    g_autofree char *dotted = g_strconcat (key, ".", NULL);
    g_autoptr (GString) inner = g_string_new (NULL);
    for (guint i = 0; i < keys->len; i++) {
      const char *k = keys->pdata[i];
      if (g_str_has_prefix (k, dotted) && !strchr (k + strlen (dotted), '.'))
        g_string_append_printf (inner, "%s%s: ...", inner->len ? ", " : "",
            k + strlen (dotted));
    }
    if (inner->len)
      return g_strdup_printf ("key '%s' takes a map, e.g. %s: {%s}", shown, key,
          inner->str);
  }
  /* "http: {port: {a: 1}}": a value's key given a map. */
  for (const char *dot = strrchr (key, '.'); dot;) {
    g_autofree char *head = g_strndup (key, (gsize) (dot - key));
    if (find_key (head, scope))
      return g_strdup_printf ("key '%s' takes a value, not a map (found '%s')",
          head, shown);
    dot = dot > key ? g_strrstr_len (key, dot - key, ".") : NULL;
  }
  hint = did_you_mean (key, keys);
  return g_strdup_printf ("unknown key '%s'%s", shown, hint);
}

static void
camera_clear (RtsCameraConfig *cam)
{
  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    if (s->scope == SCOPE_CAMERA && s->type != SET_UINT && s->type != SET_BOOL
        && s->type != SET_DOUBLE)
      g_clear_pointer ((char **) ((char *) cam + s->offset), g_free);
  }
}

static void
camera_copy (RtsCameraConfig *to, const RtsCameraConfig *from)
{
  *to = *from;
  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    if (s->scope == SCOPE_CAMERA && s->type != SET_UINT && s->type != SET_BOOL
        && s->type != SET_DOUBLE) {
      char **field = (char **) ((char *) to + s->offset);
      *field = g_strdup (*field);
    }
    if (s->scope == SCOPE_CAMERA && origins
        && g_hash_table_contains (origins, (char *) from + s->offset))
      set_origin ((char *) to + s->offset, origin ((char *) from + s->offset));
  }
}

/* Where a file entry sits, for messages: "cams.yaml:7: key 'cameras[1].fps'". */
static char *
file_source (const char *file, const RtsYamlEntry *e)
{
  if (e->scope == RTS_YAML_SERVER)
    return g_strdup_printf ("%s:%u: key '%s'", file, e->line, e->key);
  if (e->scope == RTS_YAML_DEFAULTS)
    return g_strdup_printf ("%s:%u: key 'defaults.%s'", file, e->line, e->key);
  return g_strdup_printf ("%s:%u: key 'cameras[%d].%s'", file, e->line,
      e->scope, e->key);
}

static gboolean
apply_entry (void *base, const char *file, const RtsYamlEntry *e, Scope scope,
    GError **error)
{
  const RtsSetting *s = find_key (e->key, scope);
  g_autofree char *where = file_source (file, e);

  if (e->section && !s) {
    /* An empty map: fine if settings live under it ("http: {}"). */
    g_autofree char *dotted = g_strconcat (e->key, ".", NULL);
    for (gsize i = 0; i < N_SETTINGS; i++) {
      if (rts_settings[i].scope == scope && rts_settings[i].key
          && !(rts_settings[i].flags & NO_FILE)
          && g_str_has_prefix (rts_settings[i].key, dotted))
        return TRUE;
    }
  }
  if (!s) {
    g_autofree char *shown = e->scope == RTS_YAML_SERVER ? g_strdup (e->key)
        : e->scope == RTS_YAML_DEFAULTS
        ? g_strdup_printf ("defaults.%s", e->key)
        : g_strdup_printf ("cameras[%d].%s", e->scope, e->key);
    g_autofree char *what = unknown_key_message (e->key, shown, scope);
    g_set_error (error, RTS_CONFIG_ERROR, 0, "%s:%u: %s", file, e->line, what);
    return FALSE;
  }
  if (e->shape_error || e->section) {
    g_set_error (error, RTS_CONFIG_ERROR, 0, "%s: %s", where,
        e->shape_error ? e->shape_error : "expects a value, not a map");
    return FALSE;
  }
  if (e->list && s->type != SET_LIST) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: expects one value, not a list", where);
    return FALSE;
  }
  /* A path in the file is the file's neighbour, wherever the server was
   * started from (an image's WORKDIR, a unit's /): as compose files and
   * kubeconfigs take theirs. */
  if (s->flags & PATH && e->value[0] && !g_path_is_absolute (e->value)
      && !((s->flags & EMPTY_OK) && g_str_equal (e->value, "none"))) {
    g_autofree char *dir = g_path_get_dirname (file);
    g_autofree char *path = g_build_filename (dir, e->value, NULL);
    return apply (base, s, path, where, error);
  }
  return apply (base, s, e->value, where, error);
}

#define MAX_CONFIG_BYTES (1024 * 1024)

/* The file's server settings, defaults and cameras. */
static gboolean
load_file (RtsConfig *cfg, const char *source, RtsCameraConfig *defaults,
    gboolean *has_cameras, GError **error)
{
  const char *file = cfg->config_file;
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  guint n = 0;
  GStatBuf st;
  /* Looked at before it is read: a FIFO would block for good (SIGTERM is
   * not taken yet), /dev/zero would be read until memory ran out. */
  gboolean stat_ok = g_stat (file, &st) == 0;

  if (stat_ok && !S_ISREG (st.st_mode)) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: '%s' is not a regular file (a YAML file)", source, file);
    return FALSE;
  }
  if (stat_ok && st.st_size > MAX_CONFIG_BYTES) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: '%s' is %jd bytes; a configuration is at most 1 MiB", source, file,
        (intmax_t) st.st_size);
    return FALSE;
  }
  if (!g_file_get_contents (file, &text, &len, &err)) {
    g_set_error (error, RTS_CONFIG_ERROR, 0, "%s: %s", source, err->message);
    return FALSE;
  }
  /* Again: it may have grown since. */
  if (len > MAX_CONFIG_BYTES) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: '%s' is %zu bytes; a configuration is at most 1 MiB", source, file,
        len);
    return FALSE;
  }
  entries = rts_yaml_read (file, text, len, &n, has_cameras, error);
  if (!entries)
    return FALSE;
  if (*has_cameras && n == 0) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: key 'cameras': needs at least one camera", file);
    return FALSE;
  }
  for (guint i = 0; i < entries->len; i++) {
    const RtsYamlEntry *e = entries->pdata[i];
    if (e->scope == RTS_YAML_SERVER
        && !apply_entry (cfg, file, e, SCOPE_SERVER, error))
      return FALSE;
    if (e->scope == RTS_YAML_DEFAULTS) {
      const RtsSetting *s = find_key (e->key, SCOPE_CAMERA);
      /* A name or port for every camera is no camera's: without a cameras
       * list it was dropped in silence, with one it made every camera
       * clash with the others. */
      if (s && s->flags & FILE_ONLY) {
        g_set_error (error, RTS_CONFIG_ERROR, 0,
            "%s:%u: key 'defaults.%s': a camera's %s is its own: set it per "
            "camera, under cameras (- %s: ...)",
            file, e->line, e->key, e->key, e->key);
        return FALSE;
      }
      if (!apply_entry (defaults, file, e, SCOPE_CAMERA, error))
        return FALSE;
    }
  }
  if (*has_cameras) {
    cfg->n_cameras = n;
    for (guint c = 0; c < n; c++)
      camera_copy (&cfg->cameras[c], defaults);
    for (guint i = 0; i < entries->len; i++) {
      const RtsYamlEntry *e = entries->pdata[i];
      if (e->scope >= 0
          && !apply_entry (&cfg->cameras[e->scope], file, e, SCOPE_CAMERA,
              error))
        return FALSE;
    }
  }
  return TRUE;
}

/* A flag or variable: TEXT for setting S, to the server or every camera. */
static gboolean
apply_everywhere (RtsConfig *cfg, const RtsSetting *s, const char *text,
    const char *source, GError **error)
{
  if (s->type == SET_PORT_LIST) {
    guint ports[RTS_MAX_CAMERAS];
    guint n = 0;
    g_autofree char *why = NULL;
    if (!parse_port_list (text, ports, &n, &why)) {
      g_autofree char *shown = shorten (text);
      g_set_error (error, RTS_CONFIG_ERROR, 0, "%s: bad value '%s': %s", source,
          shown, why);
      return FALSE;
    }
    if (cfg->config_file && n != cfg->n_cameras) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "%s: lists %u port(s) but %s has %u camera(s)", source, n,
          cfg->config_file, cfg->n_cameras);
      return FALSE;
    }
    for (guint i = 0; i < n; i++) {
      cfg->cameras[i].port = ports[i];
      set_origin (&cfg->cameras[i].port, source);
    }
    return TRUE;
  }
  if (s->scope == SCOPE_SERVER)
    return apply (cfg, s, text, source, error);
  for (guint i = 0; i < cfg->n_cameras; i++) {
    if (!apply (&cfg->cameras[i], s, text, source, error))
      return FALSE;
  }
  return TRUE;
}

typedef struct {
  const RtsSetting *setting;
  const char *value;
  char *flag; /* "--fps" */
} Flag;

/* Why "--NAME" is no option: the option meant when one is near, or that
 * a switch takes no value. */
static char *
unknown_option (const char *name)
{
  static const char *const switches[] = { "help", "version", "help-markdown",
    "check-config", "prepare-cache" };
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dashed = g_strconcat ("--", name, NULL);
  g_autofree char *hint = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (switches); i++) {
    if (g_str_equal (name, switches[i]))
      return g_strdup_printf ("--%s takes no value (give it alone)", name);
    g_ptr_array_add (names, g_strconcat ("--", switches[i], NULL));
  }
  for (gsize i = 0; i < N_SETTINGS; i++) {
    if (!(rts_settings[i].flags & FILE_ONLY))
      g_ptr_array_add (names, g_strconcat ("--", rts_settings[i].name, NULL));
  }
  hint = did_you_mean (dashed, names);
  return g_strdup_printf ("unknown option '%s'%s (try --help)", dashed, hint);
}

/* The first flag in FLAGS that gives S, or NULL. */
static const Flag *
flag_of (GArray *flags, const RtsSetting *s)
{
  for (guint i = 0; i < flags->len; i++) {
    if (g_array_index (flags, Flag, i).setting == s)
      return &g_array_index (flags, Flag, i);
  }
  return NULL;
}

/* The command line, checked before anything is applied (--config must be
 * known first, and a flag must win over the file). */
static gboolean
parse_argv (RtsConfig *cfg, char **argv, GArray *flags, GError **error)
{
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
    if (strcmp (arg, "--check-config") == 0) {
      cfg->check_config = TRUE;
      continue;
    }
    if (strcmp (arg, "--prepare-cache") == 0) {
      cfg->prepare_cache = TRUE;
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
    if (!s || (s->flags & FILE_ONLY)) {
      g_autofree char *why = unknown_option (name);
      g_set_error (error, RTS_CONFIG_ERROR, 0, "%s", why);
      return FALSE;
    }
    if (value) {
      value++;
    } else if (argv[i + 1] && g_str_has_prefix (argv[i + 1], "--")) {
      /* "--clip-cache --check-config": the next option is not the value
       * (the check would silently not run, and the server start). */
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "--%s: needs a value (%s), not the option '%s' (a value that "
          "starts with -- goes as --%s=VALUE)",
          name, s->metavar, argv[i + 1], name);
      return FALSE;
    } else if (argv[i + 1]) {
      value = argv[++i];
    } else {
      g_set_error (error, RTS_CONFIG_ERROR, 0, "--%s: needs a value (%s)", name,
          s->metavar);
      return FALSE;
    }
    /* Two files were not read as one: the first was left out unread. */
    if (s == &rts_settings[0] && flag_of (flags, s)) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "--config given twice ('%s', then '%s'): the server reads one "
          "file; put the cameras of both in one",
          flag_of (flags, s)->value, value);
      return FALSE;
    }
    Flag f = { s, value, g_strconcat ("--", name, NULL) };
    g_array_append_val (flags, f);
  }
  if (cfg->check_config && cfg->prepare_cache) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "--check-config and --prepare-cache: give one (the check alone "
        "would run)");
    return FALSE;
  }
  return TRUE;
}

static void
flag_clear (gpointer data)
{
  g_free (((Flag *) data)->flag);
}

/* Whether S can be set for one camera by
 * RTSP_TEST_SERVER_CAMERA_<NAME>_<SETTING>. */
static gboolean
per_camera_var (const RtsSetting *s)
{
  return s->scope == SCOPE_CAMERA
      && (!(s->flags & FILE_ONLY) || (s->flags & CAMERA_VAR));
}

/* Every RTSP_TEST_SERVER_ variable must mean something: a typo would
 * otherwise be ignored in silence, in a task definition nobody reads. */
static gboolean
check_env_names (const RtsConfig *cfg, char **envp, GError **error)
{
  for (guint i = 0; envp && envp[i]; i++) {
    g_autofree char *var = g_strndup (envp[i], strcspn (envp[i], "="));
    gboolean known = FALSE;
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

    if (!g_str_has_prefix (var, RTS_ENV_PREFIX))
      continue;
    for (gsize j = 0; j < N_SETTINGS && !known; j++) {
      const RtsSetting *s = &rts_settings[j];
      if (s->flags & FILE_ONLY)
        continue;
      char *name = env_name (s->name);
      known = strcmp (name, var) == 0;
      g_ptr_array_add (names, name);
    }
    for (guint c = 0; c < cfg->n_cameras && !known; c++) {
      g_autofree char *prefix = camera_env_prefix (cfg->cameras[c].name);
      if (!g_str_has_prefix (var, prefix))
        continue;
      for (gsize j = 0; j < N_SETTINGS && !known; j++) {
        const RtsSetting *s = &rts_settings[j];
        g_autofree char *name = env_name (s->name);
        known = per_camera_var (s)
            && strcmp (name + strlen (RTS_ENV_PREFIX), var + strlen (prefix))
                == 0;
      }
    }
    if (!known) {
      /* The per-camera names too: a misspelt camera or setting in one
       * (RTSP_TEST_SERVER_CAMERA_LOBY_FPS) is the likelier mistake. */
      g_autofree char *hint = NULL;
      for (guint c = 0; c < cfg->n_cameras; c++) {
        g_autofree char *prefix = camera_env_prefix (cfg->cameras[c].name);
        for (gsize j = 0; j < N_SETTINGS; j++) {
          const RtsSetting *s = &rts_settings[j];
          g_autofree char *name = NULL;
          if (!per_camera_var (s))
            continue;
          name = env_name (s->name);
          g_ptr_array_add (names,
              g_strconcat (prefix, name + strlen (RTS_ENV_PREFIX), NULL));
          /* Named after the setting's file key rather than its global
           * variable (..._CAMERA_LOBBY_AUTH_TYPE for auth.type, whose
           * variable is ..._AUTH): the spelling distance alone pointed
           * elsewhere (..._AUTH_USER). */
          if (!hint && s->key && g_str_has_prefix (var, prefix)) {
            g_autofree char *by_key = env_name (s->key);
            if (!strcmp (by_key + strlen (RTS_ENV_PREFIX),
                    var + strlen (prefix)))
              hint = g_strdup_printf (" (did you mean '%s%s'? a camera's "
                                      "variable is named after the global "
                                      "one, %s, not after the file key %s)",
                  prefix, name + strlen (RTS_ENV_PREFIX), name, s->key);
          }
        }
      }
      if (!hint)
        hint = did_you_mean (var, names);
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "environment: unknown variable %s%s (per-camera settings are "
          "RTSP_TEST_SERVER_CAMERA_<NAME>_<SETTING>, SETTING as in the "
          "global RTSP_TEST_SERVER_<SETTING>)",
          var, hint);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
flag_given (GArray *flags, const RtsSetting *s)
{
  return flag_of (flags, s) != NULL;
}

/* PORTS_DONE: the cameras were made from --rtsp-ports already. A variable
 * whose setting a flag gives is not read: the flag wins, so a bad value
 * there is one the flag was given to replace (as --config and
 * --rtsp-ports always did). */
static gboolean
apply_env (RtsConfig *cfg, char **envp, GArray *flags, gboolean ports_done,
    GError **error)
{
  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    g_autofree char *var = env_name (s->name);
    const char *value = g_environ_getenv (envp, var);
    if (s->flags & FILE_ONLY || s == &rts_settings[0]
        || (ports_done && s->type == SET_PORT_LIST) || flag_given (flags, s))
      continue;
    if (value && !apply_everywhere (cfg, s, value, var, error))
      return FALSE;
  }
  /* Per camera, above the global variables: a password for one camera. */
  for (guint c = 0; c < cfg->n_cameras; c++) {
    g_autofree char *prefix = camera_env_prefix (cfg->cameras[c].name);
    for (gsize i = 0; i < N_SETTINGS; i++) {
      const RtsSetting *s = &rts_settings[i];
      /* --rtsp-ports numbers every camera, above any variable. */
      if (!per_camera_var (s) || flag_given (flags, s)
          || (s == find_setting ("port")
              && flag_given (flags, find_setting ("rtsp-ports"))))
        continue;
      g_autofree char *name = env_name (s->name);
      g_autofree char *var =
          g_strconcat (prefix, name + strlen (RTS_ENV_PREFIX), NULL);
      const char *value = g_environ_getenv (envp, var);
      if (value && !apply (&cfg->cameras[c], s, value, var, error))
        return FALSE;
    }
  }
  return TRUE;
}

static gboolean
valid_name (const char *name)
{
  if (!name || !name[0] || strlen (name) > 32)
    return FALSE;
  for (const char *c = name; *c; c++) {
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return FALSE;
  }
  return TRUE;
}

/* NULL if PATH can be a mount path, else why not. */
static const char *
path_problem (const char *path)
{
  g_auto (GStrv) segments = NULL;

  if (!path || path[0] != '/')
    return "must start with /";
  if (strlen (path) > 128)
    return "is over 128 characters";
  for (const char *c = path; *c; c++) {
    if (!g_ascii_isalnum (*c) && !strchr ("/-_.", *c))
      return "may hold only letters, digits, /, -, _ and .";
  }
  /* An empty segment, or one a client's URL handling removes ("." and
   * "..": /a/./b is requested as /a/b), names a path no reader asks for. */
  segments = g_strsplit (path + 1, "/", -1);
  for (guint i = 0; segments[i]; i++) {
    gboolean last = !segments[i + 1];
    if ((!*segments[i] && !(last && i > 0)) || !strcmp (segments[i], ".")
        || !strcmp (segments[i], ".."))
      return "may hold no empty, '.' or '..' segment (//, /./, /../)";
  }
  return NULL;
}

static guint
transport_mask (const char *list)
{
  g_auto (GStrv) items = g_strsplit (list, ",", -1);
  guint mask = 0;

  for (guint i = 0; items[i]; i++) {
    g_strstrip (items[i]);
    if (strcmp (items[i], "tcp") == 0)
      mask |= RTS_TRANSPORT_TCP;
    else if (strcmp (items[i], "udp") == 0)
      mask |= RTS_TRANSPORT_UDP;
    else if (strcmp (items[i], "multicast") == 0)
      mask |= RTS_TRANSPORT_MULTICAST;
  }
  return mask;
}

/* One camera's settings taken together. */
/* How high the layer FIELD's value came from stands: a default 0, the
 * file's defaults 1, the file's own key 2, a variable 3, a camera's
 * variable 4, a flag 5. */
static guint
layer (const void *field)
{
  const char *o = origins ? g_hash_table_lookup (origins, field) : NULL;

  if (!o || g_str_has_prefix (o, "the default name"))
    return 0;
  /* First: a file's name may start with anything. */
  if (strstr (o, ": key 'defaults."))
    return 1;
  if (strstr (o, ": key '"))
    return 2;
  if (g_str_has_prefix (o, RTS_ENV_PREFIX "CAMERA_"))
    return 4;
  return g_str_has_prefix (o, RTS_ENV_PREFIX) ? 3 : 5;
}

static void
unset (char **field)
{
  g_clear_pointer (field, g_free);
  g_hash_table_remove (origins, field);
}

/* FIELD back to setting NAME's default. */
static void
unset_uint (guint *field, const char *name)
{
  *field =
      (guint) g_ascii_strtoull (find_setting (name)->default_value, NULL, 10);
  g_hash_table_remove (origins, field);
}

/* Values a higher layer made moot go: "--auth none" over a file's
 * credentials, "--source loop" over its file, "--codec h265" over its
 * profile, a camera's "auth: {type: none}" over the defaults' user, as
 * precedence promises. From one layer both were meant, and the checks
 * after this say which does not fit. */
static void
drop_moot (RtsCameraConfig *cam)
{
  if (g_str_equal (cam->auth, "none")) {
    if (layer (&cam->auth) > layer (&cam->user))
      unset (&cam->user);
    if (layer (&cam->auth) > layer (&cam->password))
      unset (&cam->password);
  }
  if (!g_str_equal (cam->source, "file")
      && layer (&cam->source) > layer (&cam->file))
    unset (&cam->file);
  if (!g_str_equal (cam->source, "live")
      && layer (&cam->source) > layer (&cam->overlay)) {
    cam->overlay = FALSE;
    g_hash_table_remove (origins, &cam->overlay);
  }
  if (!g_str_equal (cam->codec, "h264")
      && layer (&cam->codec) > layer (&cam->profile))
    unset (&cam->profile);
  /* Every MJPEG frame is a whole picture, a JPEG of fixed quality. */
  if (g_str_equal (cam->codec, "mjpeg")) {
    if (layer (&cam->codec) > layer (&cam->bitrate))
      unset_uint (&cam->bitrate, "bitrate");
    if (layer (&cam->codec) > layer (&cam->gop))
      unset_uint (&cam->gop, "gop");
  }
}

/* Ports a multicast camera sends on: an RTP/RTCP pair per stream, video
 * then audio, from the start of its range (the rest stays unused). */
static guint
mcast_ports_needed (const RtsCameraConfig *cam)
{
  return strcmp (cam->audio, "none") ? 4 : 2;
}

guint
rts_config_mcast_last_port (const RtsCameraConfig *cam)
{
  return cam->mcast_port_min + mcast_ports_needed (cam) - 1;
}

static gboolean
validate_camera (RtsConfig *cfg, guint i, GError **error)
{
  RtsCameraConfig *cam = &cfg->cameras[i];
  const char *n = cam->name;

#define MAX_CREDENTIAL_BYTES 1024

/* A message about FIELD's value, and where that value came from. */
#define CAM_ERROR(field, ...)                                                  \
  G_STMT_START                                                                 \
  {                                                                            \
    g_autofree char *msg_ = g_strdup_printf (__VA_ARGS__);                     \
    g_set_error (error, RTS_CONFIG_ERROR, 0, "camera '%s' (%s): %s", n,        \
        origin (field), msg_);                                                 \
    return FALSE;                                                              \
  }                                                                            \
  G_STMT_END

  if (!valid_name (n)) {
    g_autofree char *shown = shorten (n ? n : "");
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "cameras[%u] (%s): name '%s' must be 1-32 letters, digits, - or _", i,
        origin (&cam->name), shown);
    return FALSE;
  }
  g_autofree char *mine = camera_env_prefix (n);
  for (guint j = 0; j < i; j++) {
    const RtsCameraConfig *o = &cfg->cameras[j];
    g_autofree char *theirs = camera_env_prefix (o->name);
    if (strcmp (o->name, n) == 0)
      CAM_ERROR (&cam->name, "the name is used twice (first: %s)",
          origin (&o->name));
    /* Lobby and lobby, a-b and a_b: one set of variables for both. */
    if (strcmp (mine, theirs) == 0)
      CAM_ERROR (&cam->name,
          "the name differs from camera '%s''s only in case or - and _, "
          "so both would read the same variables (%s...)",
          o->name, mine);
    if (cam->port && o->port == cam->port)
      CAM_ERROR (&cam->port, "port %u is also camera '%s''s (%s)", cam->port,
          o->name, origin (&o->port));
  }
  if (cam->port && cam->port == cfg->http_port)
    CAM_ERROR (&cam->port, "port %u is also the HTTP API's (%s%s)", cam->port,
        origin (&cfg->http_port),
        g_hash_table_contains (origins, &cfg->http_port)
            ? ""
            : " http port: move it with --http-port or http.port, or give "
              "the camera another");
  drop_moot (cam);
  const char *path_why = path_problem (cam->path);
  if (path_why) {
    g_autofree char *shown = shorten (cam->path);
    CAM_ERROR (&cam->path, "path '%s' %s", shown, path_why);
  }
  /* gst-rtsp-server matches "/x" and answers 404 to both /x and /x/. */
  if (strlen (cam->path) > 1 && g_str_has_suffix (cam->path, "/")) {
    g_autofree char *shown = shorten (cam->path);
    CAM_ERROR (&cam->path, "path '%s' must not end with /", shown);
  }
  if (cam->width % 2 || cam->height % 2)
    CAM_ERROR (cam->width % 2 ? (void *) &cam->width : (void *) &cam->height,
        "%ux%u: width and height must be even for 4:2:0 video", cam->width,
        cam->height);
  /* RFC 2435 carries the size in units of 8 pixels, at most 2040. */
  if (strcmp (cam->codec, "mjpeg") == 0
      && (cam->width % 8 || cam->height % 8 || cam->width > 2040
          || cam->height > 2040))
    /* The size is what is out of range, so its origin comes first; the
     * codec's second, since changing it is the other way out. */
    CAM_ERROR (cam->width % 8 || cam->width > 2040 ? (void *) &cam->width
                                                   : (void *) &cam->height,
        "%ux%u: codec mjpeg (%s) over RTP needs width and height in "
        "multiples of 8 up to 2040",
        cam->width, cam->height, origin (&cam->codec));
  if (strcmp (cam->codec, "mjpeg") == 0 && layer (&cam->bitrate))
    CAM_ERROR (&cam->bitrate,
        "bitrate applies to codec h264 and h265, not mjpeg (%s), whose "
        "frames are each a JPEG of fixed quality (%d), as large as the "
        "picture makes them",
        origin (&cam->codec), RTS_MJPEG_QUALITY);
  if (strcmp (cam->codec, "mjpeg") == 0 && layer (&cam->gop))
    CAM_ERROR (&cam->gop,
        "gop applies to codec h264 and h265, not mjpeg (%s), whose "
        "frames are each a whole picture",
        origin (&cam->codec));
  if (cam->profile && strcmp (cam->codec, "h264") != 0)
    CAM_ERROR (&cam->profile, "profile '%s' applies to codec h264, not %s (%s)",
        cam->profile, cam->codec, origin (&cam->codec));
  if (strcmp (cam->source, "file") == 0 && !cam->file)
    CAM_ERROR (&cam->source,
        "source file needs 'file' (the MP4 or MKV to loop)");
  if (cam->file && strcmp (cam->source, "file") != 0)
    CAM_ERROR (&cam->file, "'file' is set but source is %s (set source: file)",
        cam->source);
  if (cam->file && !g_file_test (cam->file, G_FILE_TEST_IS_REGULAR)) {
    g_autofree char *shown = shorten (cam->file);
    CAM_ERROR (&cam->file, "file '%s' %s", shown,
        g_file_test (cam->file, G_FILE_TEST_EXISTS)
            ? "is not a regular file (an MP4 or MKV)"
            : "does not exist");
  }
  if (strcmp (cam->source, "file") == 0 && strcmp (cam->codec, "mjpeg") == 0)
    CAM_ERROR (&cam->codec,
        "source file (%s) is remuxed, not re-encoded: codec h264 or h265",
        origin (&cam->source));
  if (cam->overlay && strcmp (cam->source, "live") != 0)
    CAM_ERROR (&cam->overlay,
        "overlay (frame counter and wall clock) needs source live; a %s "
        "source (%s) replays frames made before",
        cam->source, origin (&cam->source));
  /* Credentials with no check asking for them: the camera would play to
   * anyone, which whoever wrote them did not mean. */
  if (strcmp (cam->auth, "none") == 0 && (cam->user || cam->password))
    CAM_ERROR (cam->user ? (void *) &cam->user : (void *) &cam->password,
        "auth.%s is set but auth.type is none: set auth.type to basic or "
        "digest, or leave the credentials out",
        cam->user ? "user" : "password");
  if (strcmp (cam->auth, "none") != 0 && (!cam->user || !cam->password))
    CAM_ERROR (&cam->auth, "auth %s needs auth.user and auth.password",
        cam->auth);
  /* A client sends them in one header line (Basic: both, in base64),
   * which gst-rtsp-server reads up to 4 KiB: a longer one never got
   * past 401. */
  if (cam->user && strlen (cam->user) > MAX_CREDENTIAL_BYTES)
    CAM_ERROR (&cam->user,
        "auth.user is %zu bytes; at most %d (a client sends it in a header "
        "line, which the server reads up to 4 KiB)",
        strlen (cam->user), MAX_CREDENTIAL_BYTES);
  if (cam->password && strlen (cam->password) > MAX_CREDENTIAL_BYTES)
    CAM_ERROR (&cam->password,
        "auth.password is %zu bytes; at most %d (a client sends it in a "
        "header line, which the server reads up to 4 KiB)",
        strlen (cam->password), MAX_CREDENTIAL_BYTES);
  if (strcmp (cam->auth, "none") != 0 && strchr (cam->user, ':'))
    CAM_ERROR (&cam->user, "auth.user must not contain ':'");
  /* Digest sends the name as a quoted string (username="..."): with a " or
   * \ in it, neither ffmpeg nor GStreamer's rtspsrc got past 401. Basic
   * sends it base64-encoded, and ffmpeg gets in with either. */
  if (strcmp (cam->auth, "digest") == 0 && strpbrk (cam->user, "\"\\")) {
    g_autofree char *shown = shorten (cam->user);
    CAM_ERROR (&cam->user,
        "auth.user '%s' must not contain '\"' or '\\' with auth digest "
        "(%s): the name travels as a quoted string, and no client tried "
        "(ffmpeg, GStreamer) authenticates with one",
        shown, origin (&cam->auth));
  }
  cam->transport_mask = transport_mask (cam->transports);
  if (cam->transport_mask & RTS_TRANSPORT_MULTICAST) {
    guint need = mcast_ports_needed (cam);
    g_autofree char *why = NULL;
    const RtsSetting *ports = find_setting ("multicast-ports");
    if (!parse_port_range (cam->mcast_ports, ports->min, ports->max,
            &cam->mcast_port_min, &cam->mcast_port_max, &why))
      g_assert_not_reached (); /* checked when it was set */
    if (cam->mcast_port_max - cam->mcast_port_min + 1 < need)
      CAM_ERROR (&cam->mcast_ports,
          "multicast.ports '%s' holds %u ports; video%s needs %u (an "
          "RTP/RTCP pair per stream), e.g. %u-%u",
          cam->mcast_ports, cam->mcast_port_max - cam->mcast_port_min + 1,
          need > 2 ? " and audio" : "", need, cam->mcast_port_min,
          cam->mcast_port_min + need - 1);
  }
  if (!cam->pattern)
    cam->pattern = g_strdup (patterns[i % G_N_ELEMENTS (patterns)]);
  if (cam->gop == 0)
    cam->gop = cam->fps;
#undef CAM_ERROR
  return TRUE;
}

/* Each multicast camera gets a group of its own: the k-th camera using a
 * range takes its k-th address, so the defaults (one range for all) give
 * every camera its own group with the same ports. Cameras whose ranges
 * overlap must not end up sending to the same group and port. */
static gboolean
assign_groups (RtsConfig *cfg, GError **error)
{
  for (guint i = 0; i < cfg->n_cameras; i++) {
    RtsCameraConfig *cam = &cfg->cameras[i];
    guint32 first, last, k = 0;
    g_autofree char *why = NULL;
    struct in_addr a;

    if (!(cam->transport_mask & RTS_TRANSPORT_MULTICAST))
      continue;
    if (!parse_mcast_range (cam->mcast_addresses, &first, &last, &why))
      g_assert_not_reached (); /* checked when it was set */
    for (guint j = 0; j < i; j++) {
      guint32 f, l;
      const RtsCameraConfig *o = &cfg->cameras[j];
      if (o->transport_mask & RTS_TRANSPORT_MULTICAST
          && parse_mcast_range (o->mcast_addresses, &f, &l, &why) && f == first
          && l == last)
        k++;
    }
    if (k > last - first) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "camera '%s' (%s): multicast.addresses '%s' holds %u group(s), "
          "but %u multicast camera(s) before it use the same range: each "
          "camera needs a group of its own (widen the range, or give cameras "
          "ranges of their own)",
          cam->name, origin (&cam->mcast_addresses), cam->mcast_addresses,
          last - first + 1, k);
      return FALSE;
    }
    a.s_addr = htonl (first + k);
    inet_ntop (AF_INET, &a, cam->mcast_group, sizeof cam->mcast_group);
    for (guint j = 0; j < i; j++) {
      const RtsCameraConfig *o = &cfg->cameras[j];
      if (!(o->transport_mask & RTS_TRANSPORT_MULTICAST)
          || strcmp (o->mcast_group, cam->mcast_group) != 0
          || rts_config_mcast_last_port (o) < cam->mcast_port_min
          || rts_config_mcast_last_port (cam) < o->mcast_port_min)
        continue;
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "camera '%s': multicast group %s and ports %u-%u overlap "
          "camera '%s''s (%s, ports %u-%u): their multicast.addresses '%s' "
          "(%s) and '%s' (%s) overlap",
          cam->name, cam->mcast_group, cam->mcast_port_min,
          rts_config_mcast_last_port (cam), o->name, o->mcast_group,
          o->mcast_port_min, rts_config_mcast_last_port (o),
          cam->mcast_addresses, origin (&cam->mcast_addresses),
          o->mcast_addresses, origin (&o->mcast_addresses));
      return FALSE;
    }
  }
  return TRUE;
}

/* Camera I's frames come often enough for the stall threshold. Health
 * looks every RTS_STALL_WATCH_MS whether a camera sent video since its
 * last look, and calls it stalled when the last look that saw some is
 * the threshold ago: between two frames that is up to a frame interval,
 * late by up to a look. A shorter threshold flapped readiness at every
 * frame (--fps 1 --stall-threshold 0.5). A file camera's rate is the
 * file's, unknown until it is read: not checked here. */
double
rts_config_stall_need (const RtsConfig *cfg, double gap, gboolean *fits)
{
  double need = gap + RTS_STALL_WATCH_MS / 1000.0;

  if (fits)
    *fits = cfg->stall_threshold >= need - 1e-9;
  return ceil (need * 100 - 1e-9) / 100;
}

static gboolean
stall_fits (const RtsConfig *cfg, guint i, GError **error)
{
  const RtsCameraConfig *cam = &cfg->cameras[i];
  gboolean fits;
  double need = rts_config_stall_need (cfg, 1.0 / cam->fps, &fits);

  if (cam->file || fits)
    return TRUE;
  g_set_error (error, RTS_CONFIG_ERROR, 0,
      "%s: stall threshold %g s is too short for camera '%s' at %u fps (%s): "
      "it sends a frame every %.3g s and is looked at every %.2g s, so it "
      "would be called stalled between frames; use at least %.2f s",
      origin (&cfg->stall_threshold), cfg->stall_threshold, cam->name, cam->fps,
      origin (&cam->fps), 1.0 / cam->fps, RTS_STALL_WATCH_MS / 1000.0, need);
  return FALSE;
}

/* A host name readers can resolve: at most 253 characters, labels of 1 to
 * 63 letters, digits, '-' or '_', none starting or ending with '-', a
 * final dot allowed; one of digits and dots only is an IPv4 address. */
gboolean
rts_config_host_name_ok (const char *name, gsize len)
{
  gsize label = 0;
  gboolean digits_only = TRUE;

  if (len && name[len - 1] == '.')
    len--;
  if (len == 0 || len > 253)
    return FALSE;
  for (gsize i = 0; i <= len; i++) {
    char c = i < len ? name[i] : '.';
    if (c == '.') {
      if (label == 0 || label > 63 || name[i - label] == '-'
          || name[i - 1] == '-')
        return FALSE;
      label = 0;
      continue;
    }
    if (!g_ascii_isalnum (c) && c != '-' && c != '_')
      return FALSE;
    digits_only &= g_ascii_isdigit (c);
    label++;
  }
  if (digits_only) {
    g_autofree char *v4 = g_strndup (name, len);
    return g_hostname_is_ip_address (v4) && !strchr (v4, ':');
  }
  return TRUE;
}

#define MAX_TOKEN_BYTES 4096

/* Checks that concern more than one setting. */
static gboolean
validate (RtsConfig *cfg, GError **error)
{
  /* The test the listeners make (rtsp_servers.c, http_api.c): one
   * g_hostname_is_ip_address accepts ("::1%lo", a scope) passed the check
   * and failed the start. */
  g_autoptr (GInetAddress) bind = g_inet_address_new_from_string (cfg->bind);
  if (!bind) {
    g_autofree char *shown = shorten (cfg->bind);
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: '%s' is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)%s",
        origin (&cfg->bind), shown,
        strchr (cfg->bind, '%') ? "; a scope (%NAME) is not taken" : "");
    return FALSE;
  }
  /* Nothing connects to a group or the broadcast address: the server
   * listened there, and was unhealthy for good. */
  if (g_inet_address_get_is_multicast (bind)
      || g_str_equal (cfg->bind, "255.255.255.255")) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: '%s' is a %s address: the server listens on one of the host's "
        "own (e.g. 0.0.0.0 for all, 127.0.0.1, ::)",
        origin (&cfg->bind), cfg->bind,
        g_inet_address_get_is_multicast (bind) ? "multicast" : "broadcast");
    return FALSE;
  }
  /* It goes verbatim into every URL we hand out: a name readers can
   * resolve, or an address (an IPv6 one is the only place a ':' may be;
   * a port is not, and a scope means nothing on another host). */
  if (cfg->public_host) {
    const char *h = cfg->public_host;
    gsize len = strlen (h);
    gboolean v6 = strchr (h, ':') != NULL;

    /* An IPv6 address as a URL writes it: the URLs add the brackets. */
    if (len > 2 && h[0] == '[' && h[len - 1] == ']') {
      g_autofree char *inner = g_strndup (h + 1, len - 2);
      if (strchr (inner, ':') && g_hostname_is_ip_address (inner)
          && !strchr (inner, '%')) {
        g_free (cfg->public_host);
        cfg->public_host = g_steal_pointer (&inner);
        h = cfg->public_host;
      }
    }
    if (v6 ? !g_hostname_is_ip_address (h) || strchr (h, '%')
           : !rts_config_host_name_ok (h, strlen (h))) {
      g_autofree char *shown = shorten (h);
      /* Its length, unless shorten() cut it and said so. */
      g_autofree char *length = g_str_has_suffix (shown, "bytes)")
          ? g_strdup ("")
          : g_strdup_printf (" (%zu bytes)", strlen (h));
      const char *why = h[0] == '[' ? "brackets hold an IPv6 address alone"
          : v6 && !strchr (h, '%')  ? "no port: each URL has its camera's"
          : v6                      ? "no scope: it means nothing to a reader"
          : strlen (h) > 253        ? "a host name is at most 253 characters"
          : !g_str_is_ascii (h)
          ? "ASCII only: an internationalized name goes in its xn-- form"
          : strspn (h, "0123456789.") == strlen (h)
          ? "digits and dots alone must be an IPv4 address"
          : "labels of 1 to 63 letters, digits, - or _, not starting or "
            "ending with -";
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "%s: '%s'%s is not a host name or IP address (%s)",
          origin (&cfg->public_host), shown, length, why);
      return FALSE;
    }
  }
  /* It travels in a header ("Authorization: Bearer TOKEN"), which HTTP
   * trims and may not carry beyond ASCII: such a token could never match,
   * and the control API would answer 401 to everyone. */
  if (cfg->control_token) {
    const char *t = cfg->control_token;
    gsize n = strlen (t);
    gboolean ascii = TRUE;
    for (gsize i = 0; i < n; i++)
      ascii = ascii && (guchar) t[i] >= 0x20 && (guchar) t[i] < 0x7f;
    if (!ascii || g_ascii_isspace (t[0]) || g_ascii_isspace (t[n - 1])) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "%s: must be ASCII with no space at either end: it is sent as "
          "\"Authorization: Bearer TOKEN\", which HTTP trims",
          origin (&cfg->control_token));
      return FALSE;
    }
    /* libsoup drops a request whose headers pass 64 KiB unanswered: from
     * about that length on, every control request got no answer at all.
     * Far above any real token, far below that limit. */
    if (n > MAX_TOKEN_BYTES) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "%s: is %zu bytes; at most %d (it travels in an HTTP header, and "
          "the HTTP server leaves a request with headers near 64 KiB "
          "unanswered)",
          origin (&cfg->control_token), n, MAX_TOKEN_BYTES);
      return FALSE;
    }
  }
  if (cfg->healthy_threshold > cfg->n_cameras) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: %u is more than the %u RTSP ports configured",
        origin (&cfg->healthy_threshold), cfg->healthy_threshold,
        cfg->n_cameras);
    return FALSE;
  }
  for (guint i = 0; i < cfg->n_cameras; i++) {
    if (!validate_camera (cfg, i, error) || !stall_fits (cfg, i, error))
      return FALSE;
  }
  return assign_groups (cfg, error);
}

static void
set_defaults (void *base, Scope scope)
{
  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    if (s->scope == scope && s->default_value && s->type != SET_PORT_LIST
        && !apply (base, s, s->default_value, s->name, NULL))
      g_error ("settings table: bad default for %s", s->name);
  }
}

gboolean
rts_config_load (RtsConfig *cfg, char **argv, char **envp, GError **error)
{
  g_autoptr (GArray) flags = g_array_new (FALSE, TRUE, sizeof (Flag));
  RtsCameraConfig defaults = { 0 };
  gboolean has_cameras = FALSE;
  gboolean ok = FALSE;
  const char *config_source = "--config";

  memset (cfg, 0, sizeof *cfg);
  /* --help, --version and --help-markdown answer whatever the rest says: a
   * bad variable or a missing file is what the help is read to fix. An
   * argument that is exactly one of them is the option: a value starting
   * with -- goes as --NAME=VALUE (parse_argv). */
  for (int i = 1; argv && argv[i]; i++) {
    cfg->show_help |=
        strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0;
    cfg->show_version |= strcmp (argv[i], "--version") == 0;
    cfg->show_help_markdown |= strcmp (argv[i], "--help-markdown") == 0;
  }
  if (cfg->show_help || cfg->show_version || cfg->show_help_markdown)
    return TRUE;
  g_array_set_clear_func (flags, flag_clear);
  set_defaults (cfg, SCOPE_SERVER);
  set_defaults (&defaults, SCOPE_CAMERA);
  /* After the defaults: a value with no origin is a default, and says so
   * ("default"), not the setting's name as if a flag had set it. */
  origins = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  if (!parse_argv (cfg, argv, flags, error))
    goto out;

  /* The file first: flags and variables then override what it says. */
  for (guint i = 0; i < flags->len; i++) {
    Flag *f = &g_array_index (flags, Flag, i);
    if (f->setting == &rts_settings[0]
        && !apply (cfg, f->setting, f->value, f->flag, error))
      goto out;
  }
  if (!cfg->config_file) {
    const char *file = g_environ_getenv (envp, RTS_ENV_PREFIX "CONFIG");
    config_source = RTS_ENV_PREFIX "CONFIG";
    if (file
        && !apply (cfg, &rts_settings[0], file, RTS_ENV_PREFIX "CONFIG", error))
      goto out;
  }
  if (cfg->config_file
      && !load_file (cfg, config_source, &defaults, &has_cameras, error))
    goto out;
  if (!has_cameras) {
    /* No cameras in a file: --rtsp-ports (or its default) makes them. */
    const RtsSetting *ports = find_setting ("rtsp-ports");
    const char *list = NULL;
    g_autofree char *var = env_name (ports->name);
    const char *source = var;
    for (guint i = 0; i < flags->len; i++) {
      Flag *f = &g_array_index (flags, Flag, i);
      if (f->setting == ports) {
        list = f->value;
        source = f->flag;
      }
    }
    if (!list)
      list = g_environ_getenv (envp, var);
    if (!list) {
      list = ports->default_value;
      source = ports->name;
    }
    guint p[RTS_MAX_CAMERAS], n = 0;
    g_autofree char *why = NULL;
    if (!parse_port_list (list, p, &n, &why)) {
      g_autofree char *shown = shorten (list);
      g_set_error (error, RTS_CONFIG_ERROR, 0, "%s: bad value '%s': %s", source,
          shown, why);
      goto out;
    }
    cfg->n_cameras = n;
    for (guint i = 0; i < n; i++) {
      camera_copy (&cfg->cameras[i], &defaults);
      cfg->cameras[i].port = p[i];
      if (source != ports->name)
        set_origin (&cfg->cameras[i].port, source);
    }
  }
  for (guint i = 0; i < cfg->n_cameras; i++) {
    if (cfg->cameras[i].name)
      continue;
    cfg->cameras[i].name = g_strdup_printf ("cam%u", i + 1);
    /* A message about it says which camera has it, and why. */
    if (has_cameras) {
      g_autofree char *why =
          g_strdup_printf ("the default name of cameras[%u], which has none",
              i);
      set_origin (&cfg->cameras[i].name, why);
    }
  }

  if (!check_env_names (cfg, envp, error)
      || !apply_env (cfg, envp, flags, !has_cameras, error))
    goto out;
  for (guint i = 0; i < flags->len; i++) {
    Flag *f = &g_array_index (flags, Flag, i);
    if (f->setting != &rts_settings[0]
        && !(!has_cameras && f->setting->type == SET_PORT_LIST)
        && !apply_everywhere (cfg, f->setting, f->value, f->flag, error))
      goto out;
  }
  ok = validate (cfg, error);

out:
  camera_clear (&defaults);
  /* Kept for messages after the load (rts_config_origin). */
  cfg->origins = g_steal_pointer (&origins);
  return ok;
}

gboolean
rts_config_error_json (const RtsConfig *cfg, char **argv, char **envp)
{
  static const char flag[] = "--log-format";
  const char *format = NULL;

  /* As parse_argv() reads them: "--log-format=F", or "--log-format F" with
   * F no option; the last one counts, as the last flag wins. */
  for (int i = 1; argv && argv[i]; i++) {
    if (g_str_has_prefix (argv[i], flag) && argv[i][strlen (flag)] == '=')
      format = argv[i] + strlen (flag) + 1;
    else if (strcmp (argv[i], flag) == 0 && argv[i + 1]
        && !g_str_has_prefix (argv[i + 1], "--"))
      format = argv[++i];
  }
  if (!format) {
    g_autofree char *var = env_name ("log-format");
    format = g_environ_getenv (envp, var);
  }
  if (!format)
    format = cfg->log_format;
  return g_strcmp0 (format, "json") == 0;
}

const char *
rts_config_origin (const RtsConfig *cfg, const void *field)
{
  const char *o =
      cfg->origins ? g_hash_table_lookup (cfg->origins, field) : NULL;
  return o ? o : "default";
}

void
rts_config_clear (RtsConfig *cfg)
{
  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    if (s->scope == SCOPE_SERVER && s->type != SET_UINT && s->type != SET_BOOL
        && s->type != SET_DOUBLE && s->type != SET_PORT_LIST)
      g_clear_pointer ((char **) ((char *) cfg + s->offset), g_free);
  }
  for (guint i = 0; i < cfg->n_cameras; i++)
    camera_clear (&cfg->cameras[i]);
  cfg->n_cameras = 0;
  g_clear_pointer (&cfg->origins, g_hash_table_unref);
}

char *
rts_config_clip_cache_dir (const RtsConfig *cfg)
{
  if (!cfg->clip_cache)
    return g_build_filename (g_get_user_cache_dir (), "rtsp-test-server", NULL);
  if (cfg->clip_cache[0] == '\0' || g_str_equal (cfg->clip_cache, "none"))
    return NULL;
  return g_strdup (cfg->clip_cache);
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
      "Fake IP cameras: one RTSP server per port, each a test stream at "
      "/stream,\nand an HTTP API with an honest /health.\n\n"
      "Options (each also read from the environment variable shown):\n");

  gboolean camera_heading = FALSE;

  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    if (s->flags & FILE_ONLY)
      continue;
    /* Before the first camera setting shown (name and port, the first
     * in the table, are the file's only). */
    if (s->scope == SCOPE_CAMERA && !camera_heading) {
      camera_heading = TRUE;
      g_string_append (out,
          "\nCamera settings (for every camera; per camera in the file, or "
          "as\nRTSP_TEST_SERVER_CAMERA_<NAME>_<SETTING>, which also takes "
          "PORT):\n");
    }
    g_autofree char *flag = g_strdup_printf ("--%s %s", s->name, s->metavar);
    g_autofree char *var = env_name (s->name);
    g_autofree char *choices = s->choices ? choices_text (s->choices) : NULL;
    g_string_append_printf (out, "  %-30s %s%s%s\n  %-30s [%s%s%s]\n", flag,
        s->help, choices ? "; one of " : "", choices ? choices : "", "", var,
        s->default_value ? ", default " : "",
        s->default_value ? s->default_value : "");
  }
  g_string_append (out,
      "  --check-config                 check the configuration, print it and "
      "exit\n"
      "  --prepare-cache                encode the loop cameras' clips into "
      "the\n"
      "                                 clip cache and exit (when building an "
      "image)\n"
      "  --help                         show this help and exit\n"
      "  --version                      show the version and exit\n\n"
      "Precedence: flag > environment > file > default. Exit status: 0 after "
      "a clean\nshutdown (SIGTERM/SIGINT), 1 when a port cannot be bound, 2 "
      "for a bad\noption, value or file.\n");
  return g_string_free (out, FALSE);
}

char *
rts_config_help_markdown (void)
{
  GString *out = g_string_new (
      "| flag | environment variable | file key | default | meaning |\n"
      "|---|---|---|---|---|\n");

  for (gsize i = 0; i < N_SETTINGS; i++) {
    const RtsSetting *s = &rts_settings[i];
    g_autofree char *var = env_name (s->name);
    g_autofree char *key = !s->key || (s->flags & NO_FILE) ? g_strdup ("")
        : s->scope == SCOPE_CAMERA ? g_strdup_printf ("`cameras[].%s`", s->key)
                                   : g_strdup_printf ("`%s`", s->key);
    g_autofree char *choices = s->choices ? choices_text (s->choices) : NULL;
    if (s->flags & FILE_ONLY) {
      g_autofree char *camera_var = s->flags & CAMERA_VAR
          ? g_strdup_printf ("`" RTS_ENV_PREFIX "CAMERA_<NAME>_%s` ",
              var + strlen (RTS_ENV_PREFIX))
          : g_strdup ("");
      g_string_append_printf (out, "| | %s| %s | %s | %s |\n", camera_var, key,
          s->default_value ? s->default_value : "(none)", s->help);
    } else
      g_string_append_printf (out, "| `--%s %s` | `%s` | %s | %s | %s%s%s |\n",
          s->name, s->metavar, var, key,
          s->default_value ? s->default_value : "(none)", s->help,
          choices ? "; one of " : "", choices ? choices : "");
  }
  return g_string_free (out, FALSE);
}

char **
rts_config_file_keys (void)
{
  GPtrArray *keys = g_ptr_array_new ();

  for (gsize i = 0; i < N_SETTINGS; i++) {
    if (rts_settings[i].key && !(rts_settings[i].flags & NO_FILE))
      g_ptr_array_add (keys, g_strdup (rts_settings[i].key));
  }
  g_ptr_array_add (keys, NULL);
  return (char **) g_ptr_array_free (keys, FALSE);
}

char *
rts_config_summary (const RtsConfig *cfg, const char *const *notes)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out,
      "configuration OK%s%s: HTTP port %u on %s, %u camera(s), healthy at %u "
      "answering port(s)\n",
      cfg->config_file ? " in " : "", cfg->config_file ? cfg->config_file : "",
      cfg->http_port, cfg->bind, cfg->n_cameras, rts_config_threshold (cfg));
  for (guint i = 0; i < cfg->n_cameras; i++) {
    const RtsCameraConfig *c = &cfg->cameras[i];
    g_autofree char *mcast = c->transport_mask & RTS_TRANSPORT_MULTICAST
        /* The ports it sends on, as the start-up log says: a pair per
         * stream from the range's first. */
        ? g_strdup_printf (", multicast group %s ports %u-%u ttl %u",
            c->mcast_group, c->mcast_port_min, rts_config_mcast_last_port (c),
            c->mcast_ttl)
        : g_strdup ("");
    /* A file camera's codec, size and rate are the file's: the settings
     * would only mislead here. */
    g_autofree char *video = c->file ? g_strdup_printf ("file %s", c->file)
        : g_str_equal (c->codec, "mjpeg")
        ? g_strdup_printf ("%s mjpeg %ux%u@%u JPEG quality %d, pattern %s%s",
            c->source, c->width, c->height, c->fps, RTS_MJPEG_QUALITY,
            c->pattern, c->overlay ? ", overlay" : "")
        : g_strdup_printf ("%s %s%s%s %ux%u@%u gop %u %u kbit/s, pattern %s%s",
            c->source, c->codec, c->profile ? " " : "",
            c->profile ? c->profile : "", c->width, c->height, c->fps, c->gop,
            c->bitrate, c->pattern, c->overlay ? ", overlay" : "");
    g_string_append_printf (out,
        "  %s: port %u%s, %s, audio %s, auth %s%s%s, transports %s%s\n",
        c->name, c->port, c->path, video, c->audio, c->auth,
        c->user ? " user " : "", c->user ? c->user : "", c->transports, mcast);
    if (notes && notes[i])
      g_string_append_printf (out, "    %s\n", notes[i]);
  }
  {
    g_autofree char *cache = rts_config_clip_cache_dir (cfg);
    g_string_append_printf (out, "clip cache for loop cameras: %s\n",
        cache ? cache : "off");
  }
  return g_string_free (out, FALSE);
}
