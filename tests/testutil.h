/* testutil: the real server binary and real clients, for integration tests.
 *
 * Starts rtsp-test-server on loopback with free ports, reads its log to learn
 * the ports it bound, speaks HTTP to it with libsoup, and runs external
 * clients (ffmpeg, gst-launch-1.0, rtsp-health-check) with hard time bounds. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

typedef struct {
  GSubprocess *proc;
  GThread *reader;
  GMutex lock;
  GCond cond;
  GString *log;
  gboolean eof;
  guint http_port;
  guint rtsp_ports[32];
  guint n_ports;
} TsServer;

/* Starts the server with ARGS (NULL-terminated, may be NULL) after the
 * test defaults (--bind 127.0.0.1 --http-port 0 --rtsp-ports 0,0,0,0
 * --probe-interval 0.5; no --rtsp-ports when ARGS hold --config); later
 * flags win. Waits for the "started" line (at most 60 s: loop cameras'
 * clips are made first); NULL, with its last log lines as a test message,
 * if it exits first or does not start. */
TsServer *ts_server_start (const char *const *args);

/* The same, run by WRAPPER (NULL-terminated argv put before the server's:
 * ts_netns_wrapper() starts it in a network namespace of its own). */
TsServer *
ts_server_start_in (const char *const *wrapper, const char *const *args);

/* Multicast stays on this machine: a server started with ts_server_start_in
 * (ts_netns_wrapper (), ...) runs in a new network namespace (unshare
 * --net) whose loopback is up, multicast-capable and the route for
 * 224.0.0.0/4; clients join it with ts_netns_argv(). Nothing in the
 * host's network changes. ts_netns_usable() skips the test, loudly, when
 * unshare, nsenter or ip is missing or the namespace cannot be made. */
const char *const *ts_netns_wrapper (void);
gboolean ts_netns_usable (void);
/* ARGV run inside S's network namespace (nsenter); g_strfreev() it. */
char **ts_netns_argv (TsServer *s, const char *const *argv);

/* Waits until the log holds NEEDLE COUNT times (>= 1). */
/* The last LINES lines the server logged: for a failure's message. */
char *ts_server_log_tail (TsServer *s, guint lines);

gboolean ts_server_wait_log (TsServer *s, const char *needle, guint count,
    double timeout);
guint ts_server_log_count (TsServer *s, const char *needle);

/* SIGTERM, then waits up to TIMEOUT seconds. Returns the exit status, -1 if
 * still running (then killed). ELAPSED gets the seconds it took. */
int ts_server_stop (TsServer *s, double timeout, double *elapsed);
void ts_server_free (TsServer *s);

char *ts_rtsp_url (TsServer *s, guint index);

/* One HTTP request with libsoup. Returns the status; BODY (may be NULL) gets
 * the body; HEADERS (may be NULL) the response headers, ref'd. */
guint ts_http (guint port, const char *method, const char *path,
    const char *const *req_headers, const char *req_body, char **body,
    SoupMessageHeaders **headers);

/* REQUEST's bytes as they are, on a new connection to PORT; the whole
 * answer, read until the server closes (at most 5 s), or NULL. For what a
 * client library will not send: two Host headers, absolute-form targets. */
char *ts_http_raw (guint port, const char *request);

/* GET PATH and parse the JSON body; STATUS gets the status. */
JsonObject *ts_http_json (guint port, const char *path, guint *status);

/* Polls GET /health until it answers WANT_STATUS with OPEN_PORTS open
 * (-1 = any), up to TIMEOUT seconds. Returns the last body parsed. */
JsonObject *
ts_wait_health (guint port, guint want_status, int open_ports, double timeout);

/* The clip cache directory of this test process (made on first use,
 * removed at exit), which ts_spawn() gives every child as
 * RTSP_TEST_SERVER_CLIP_CACHE unless the environment already sets it. */
const char *ts_clip_cache (void);

/* Spawns ARGV, which dies with the test process: an aborted test leaves no
 * server or client behind. Its environment: see ts_clip_cache(). */
GSubprocess *
ts_spawn (const char *const *argv, GSubprocessFlags flags, GError **error);

/* BYTES as a string; "" for NULL or none (an empty GBytes has no data,
 * and g_strndup (NULL, 0) would be NULL). */
char *ts_bytes_text (GBytes *bytes);

/* Whether a gst-launch-1.0 run whose stdout is OUT and stderr ERR (either
 * may be NULL) played to its end: its pipeline reached EOS (its sinks took
 * their num-buffers) and not because the server closed the connection,
 * which rtspsrc also ends with EOS (and exit 0), after a warning. The
 * exit status is not the verdict: rtspsrc races its own PAUSE against its
 * TEARDOWN while stopping and loses now and then ("Could not send
 * message", exit 1), whatever the server. */
gboolean ts_gst_played (const char *out, const char *err);

/* Runs ARGV with a hard limit of TIMEOUT seconds. Returns the exit status
 * (-1 killed by signal/timeout); OUT/ERR get stdout/stderr if not NULL;
 * OUT_LEN the stdout length. ELAPSED gets the run time. */
int ts_run (const char *const *argv, double timeout, GBytes **out, char **err,
    double *elapsed);

/* Byte-exact: how many whole WIDTHxHEIGHT gray frames ffmpeg decoded from
 * URL over TRANSPORT ("tcp" or "udp"), asking for FRAMES. A UDP read that
 * got nothing is tried once more, loudly (README: known issues). */
guint ts_ffmpeg_frames (const char *url, const char *transport, guint frames,
    guint width, guint height);

/* The share of pixels near white (grey level 250 or more) in the first
 * frame ffmpeg decodes from INPUT (a file, or an rtsp:// URL over TCP), as
 * a viewer sees it (full-range grey); -1 when nothing decoded. A JPEG of
 * video-range samples shows its whites at 235: none there. */
double ts_picture_white_share (const char *input);

/* CAMERA's snapshot from the HTTP API on PORT (curl; its Content-Type
 * must be image/jpeg), and its X-Snapshot-Age-Seconds in *AGE (may be
 * NULL). */
GBytes *ts_snapshot (guint port, const char *camera, double *age);

/* Waits up to TIMEOUT seconds for CAMERA to have a snapshot (its stills
 * are made in the background); whether it has. */
gboolean ts_wait_snapshot (guint port, const char *camera, double timeout);

/* DIR and the files in it, gone. */
void ts_remove_dir (const char *dir);

/* A listening TCP socket on 127.0.0.1 that never accepts: a hung server. */
GSocket *ts_silent_listener (guint *port);

const char *ts_health_check_path (void);

/* Skips the test when PROGRAM is missing, saying so. */
gboolean ts_have_program (const char *program);

/* A strict reader of the Prometheus text exposition format (0.0.4), as
 * promtool checks it: HELP/TYPE once per family and before its samples,
 * valid names and label syntax with escapes, float values, counters named
 * _total, no duplicate series. Returns the number of samples, or -1 with
 * ERROR set to the line and what is wrong. SAMPLES (may be NULL) maps
 * "name{labels}" to its value (gdouble*). */
int ts_prom_parse (const char *text, GHashTable *samples, char **error);

/* The sum of every /metrics sample whose name (with labels) starts with
 * PREFIX; -1 if /metrics does not answer 200. A body that does not parse
 * ends the test. */
double ts_metric_sum (TsServer *s, const char *prefix);
