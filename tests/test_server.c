/* Integration tests: the real rtsp-test-server binary on loopback, played
 * by real clients (ffmpeg, gst-launch-1.0), probed by the real
 * rtsp-health-check. */
#include "procstat.h"
#include "rtsp_reader.h"
#include "testutil.h"

#include <glib/gstdio.h>

#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "test-token-123"

static const char *const control_args[] = { "--control-token=" TOKEN, NULL };

/* One server shared by the read-only tests; tests that change it start
 * their own. */
static TsServer *shared;

static void
test_health_ok (void)
{
  g_autoptr (JsonObject) h = ts_wait_health (shared->http_port, 200, 4, 5);
  JsonArray *ports;
  double ts;

  g_assert_nonnull (h);
  g_assert_cmpstr (json_object_get_string_member (h, "status"), ==, "healthy");
  g_assert_cmpint (json_object_get_int_member (h, "open_ports"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (h, "total_ports"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (h, "healthy_threshold"), ==, 3);
  ts = json_object_get_double_member (h, "timestamp");
  g_assert_cmpfloat (ts, >, g_get_real_time () / 1e6 - 5);
  g_assert_cmpfloat (ts, <, g_get_real_time () / 1e6 + 1);
  g_assert_cmpfloat (json_object_get_double_member (h, "probe_age_seconds"), <,
      2);
  ports = json_object_get_array_member (h, "ports");
  g_assert_cmpuint (json_array_get_length (ports), ==, 4);
  for (guint i = 0; i < 4; i++) {
    JsonObject *p = json_array_get_object_element (ports, i);
    g_autofree char *name = g_strdup_printf ("cam%u", i + 1);
    g_assert_cmpint (json_object_get_int_member (p, "port"), ==,
        shared->rtsp_ports[i]);
    g_assert_cmpstr (json_object_get_string_member (p, "camera"), ==, name);
    g_assert_true (json_object_get_boolean_member (p, "healthy"));
    g_assert_cmpint (json_object_get_int_member (p, "rtsp_status"), ==, 200);
    g_assert_true (json_object_get_null_member (p, "error"));
  }
}

static void
test_rtsp_urls (void)
{
  guint status;
  g_autoptr (JsonObject) u =
      ts_http_json (shared->http_port, "/rtsp-urls", &status);
  JsonArray *streams;

  g_assert_cmpuint (status, ==, 200);
  streams = json_object_get_array_member (u, "streams");
  g_assert_cmpuint (json_array_get_length (streams), ==, 4);
  for (guint i = 0; i < 4; i++) {
    JsonObject *s = json_array_get_object_element (streams, i);
    g_autofree char *name = g_strdup_printf ("cam%u", i + 1);
    g_autofree char *url = ts_rtsp_url (shared, i);
    g_assert_cmpstr (json_object_get_string_member (s, "name"), ==, name);
    g_assert_cmpstr (json_object_get_string_member (s, "url"), ==, url);
    g_assert_cmpint (json_object_get_int_member (s, "port"), ==,
        shared->rtsp_ports[i]);
    g_assert_cmpstr (json_object_get_string_member (s, "path"), ==, "/stream");
    g_assert_cmpstr (json_object_get_string_member (s, "codec"), ==, "h264");
    g_assert_cmpstr (json_object_get_string_member (s, "resolution"), ==,
        "640x480");
    g_assert_cmpint (json_object_get_int_member (s, "fps"), ==, 30);
    g_assert_true (json_object_has_member (s, "readers"));
  }
}

static void
test_rtsp_urls_host (void)
{
  const char *hdr[] = { "Host", "cams.example.test:8080", NULL };
  g_autofree char *body = NULL;
  g_autofree char *want = g_strdup_printf ("rtsp://cams.example.test:%u/stream",
      shared->rtsp_ports[2]);
  guint status =
      ts_http (shared->http_port, "GET", "/rtsp-urls", hdr, NULL, &body, NULL);

  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (body, want));
}

/* The host in the URLs is the one the request was for: an absolute-form
 * target's, not its Host header's (RFC 9112 3.2.2); a Host that is no
 * host gives the address the request reached; two Host headers get 400.
 * libsoup's own pick was the last Host header, whatever the target. */
static void
test_rtsp_urls_request_host (void)
{
  struct {
    const char *request, *want;
  } cases[] = {
    { "GET http://a.example.test/rtsp-urls HTTP/1.1\r\nHost: b.example.test"
      "\r\n\r\n",
        "200 rtsp://a.example.test:" },
    { "GET http://a.example.test:99/rtsp-urls HTTP/1.1\r\n\r\n",
        "200 rtsp://a.example.test:" },
    { "GET http://[::1]:80/rtsp-urls HTTP/1.1\r\nHost: b\r\n\r\n",
        "200 rtsp://[::1]:" },
    { "GET /rtsp-urls HTTP/1.1\r\nHost: b.example.test:80\r\n\r\n",
        "200 rtsp://b.example.test:" },
    { "GET /rtsp-urls HTTP/1.1\r\nHost: a@b\r\n\r\n", "200 rtsp://127.0.0.1:" },
    { "GET /rtsp-urls HTTP/1.0\r\n\r\n", "200 rtsp://127.0.0.1:" },
    { "GET /rtsp-urls HTTP/1.1\r\nHost: a.example.test\r\nHost: "
      "b.example.test\r\n\r\n",
        "400 more than one Host header" },
    { "GET /health HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "400 more than one Host header" },
    /* libsoup then read the path as "/" and answered with the index. */
    { "GET /health HTTP/1.1\r\nHost: 127.0.0.1?\r\n\r\n",
        "400 the Host header is no host" },
    { "GET /rtsp-urls HTTP/1.1\r\nHost: a#b\r\n\r\n",
        "400 the Host header is no host" },
    /* Not a host: the address the request reached. */
    { "GET /rtsp-urls HTTP/1.1\r\nHost: a.example:80@evil.example\r\n\r\n",
        "200 rtsp://127.0.0.1:" },
    { "GET /rtsp-urls HTTP/1.1\r\nHost: ..\r\n\r\n", "200 rtsp://127.0.0.1:" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *answer = ts_http_raw (shared->http_port, cases[i].request);
    g_autofree char *got = NULL;
    const char *body, *found;

    g_assert_nonnull (answer);
    g_assert_true (g_str_has_prefix (answer, "HTTP/1."));
    body = strstr (answer, "\r\n\r\n");
    g_assert_nonnull (body);
    found = strstr (body, "rtsp://");
    if (!found)
      found = strstr (body, "more than");
    if (!found)
      found = strstr (body, "the Host");
    got = g_strdup_printf ("%.3s %.*s", answer + 9,
        found ? (int) strlen (cases[i].want) - 4 : 0, found ? found : "");
    g_test_message ("%s -> %s", cases[i].request, got);
    g_assert_cmpstr (got, ==, cases[i].want);
  }
}

static void
test_public_host (void)
{
  const char *args[] = { "--public-host=nlb.example.test", NULL };
  TsServer *s = ts_server_start (args);
  const char *hdr[] = { "Host", "10.0.0.1:8080", NULL };
  g_autofree char *body = NULL;
  g_autofree char *want = NULL;

  g_assert_nonnull (s);
  want =
      g_strdup_printf ("rtsp://nlb.example.test:%u/stream", s->rtsp_ports[0]);
  g_assert_cmpuint (ts_http (s->http_port, "GET", "/rtsp-urls", hdr, NULL,
                        &body, NULL),
      ==, 200);
  g_assert_nonnull (strstr (body, want));
  g_assert_null (strstr (body, "10.0.0.1"));
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* The rtsp-urls JSON must hand out URLs that play. */
static void
play_all (const char *transport)
{
  g_autoptr (JsonObject) u = NULL;
  JsonArray *streams;

  if (!ts_have_program ("ffmpeg"))
    return;
  u = ts_http_json (shared->http_port, "/rtsp-urls", NULL);
  streams = json_object_get_array_member (u, "streams");
  g_assert_cmpuint (json_array_get_length (streams), ==, 4);
  for (guint i = 0; i < 4; i++) {
    JsonObject *s = json_array_get_object_element (streams, i);
    const char *url = json_object_get_string_member (s, "url");
    guint frames = ts_ffmpeg_frames (url, transport, 30, 640, 480);
    g_test_message ("%s over %s: %u frames of 640x480", url, transport, frames);
    if (frames != 30) {
      g_autofree char *tail = ts_server_log_tail (shared, 40);
      g_test_message ("the server's last log lines:\n%s", tail);
    }
    g_assert_cmpuint (frames, ==, 30);
  }
}

static void
test_play_tcp (void)
{
  play_all ("tcp");
}

static void
test_play_udp (void)
{
  play_all ("udp");
}

static void
gst_play (const char *protocols)
{
  if (!ts_have_program ("gst-launch-1.0"))
    return;
  for (guint i = 0; i < 4; i++) {
    g_autofree char *url = ts_rtsp_url (shared, i);
    g_autofree char *location = g_strdup_printf ("location=%s", url);
    const char *argv[] = { "gst-launch-1.0", "rtspsrc", location, protocols,
      "!", "rtph264depay", "!", "h264parse", "!", "avdec_h264", "!",
      "video/x-raw,width=640,height=480", "!", "fakesink", "num-buffers=30",
      NULL };
    g_autoptr (GBytes) out = NULL;
    g_autofree char *err = NULL, *text = NULL;
    int status = ts_run (argv, 30, &out, &err, NULL);

    text = ts_bytes_text (out);
    /* The same known UDP bug as in play_all: one loud retry. */
    if (strstr (protocols, "udp") && !ts_gst_played (text, err)) {
      g_autofree char *tail = ts_server_log_tail (shared, 40);
      g_test_message ("RETRY: gst-launch %s over udp got no 30 frames; the "
                      "server's last log lines:\n%s",
          url, tail);
      g_clear_pointer (&out, g_bytes_unref);
      g_clear_pointer (&err, g_free);
      g_free (text);
      status = ts_run (argv, 30, &out, &err, NULL);
      text = ts_bytes_text (out);
    }
    /* EOS reaches the pipeline once the sink has taken 30 decoded 640x480
     * frames (the caps before it let no other size through). */
    if (!ts_gst_played (text, err))
      g_error ("gst-launch %s (%s) exited %d without 30 frames: %s%s", url,
          protocols, status, err, text);
  }
}

static void
test_gst_tcp (void)
{
  gst_play ("protocols=tcp");
}

static void
test_gst_udp (void)
{
  gst_play ("protocols=udp");
}

/* Readers that join the same camera at the same moment, over both
 * transports, each get every frame they asked for; and the server lives.
 * (A stock gst-rtsp-server can abort here: a PLAY before its media's first
 * buffer trips an assertion in gst_rtsp_media_get_rates.) */
static void
test_concurrent_readers (void)
{
  TsServer *s = ts_server_start (NULL);
  GSubprocess *readers[6];
  g_autofree char *url = NULL;
  g_autofree char *local_url = NULL;
  g_autoptr (JsonObject) h = NULL;

  if (!ts_have_program ("ffmpeg")) {
    ts_server_free (s);
    return;
  }
  g_assert_nonnull (s);
  url = ts_rtsp_url (s, 0);
  /* Another spelling of the same camera must share its media. */
  local_url = g_strdup_printf ("rtsp://localhost:%u/stream", s->rtsp_ports[0]);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++) {
    const char *argv[] = { "timeout", "-s", "KILL", "30", "ffmpeg", "-nostdin",
      "-v", "error", "-rtsp_transport", i % 2 ? "udp" : "tcp", "-i",
      i % 3 ? url : local_url, "-frames:v", "30", "-f", "rawvideo", "-pix_fmt",
      "gray", "-", NULL };
    readers[i] = ts_spawn (argv,
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
        NULL);
    g_assert_nonnull (readers[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++) {
    g_autoptr (GBytes) out = NULL;
    g_subprocess_communicate (readers[i], NULL, NULL, &out, NULL, NULL);
    g_test_message ("reader %u (%s): %zu bytes", i, i % 2 ? "udp" : "tcp",
        g_bytes_get_size (out));
    g_assert_cmpuint (g_bytes_get_size (out), ==, 30 * 640 * 480);
    g_object_unref (readers[i]);
  }
  h = ts_wait_health (s->http_port, 200, 4, 5);
  g_assert_cmpstr (json_object_get_string_member (h, "status"), ==, "healthy");
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* One RTSP request on a fresh connection; returns the status code, and
 * in HEAD (may be NULL) the answer's head. */
static int
rtsp_request_head (guint port, const char *method, char **head)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree char *req = g_strdup_printf ("%s rtsp://127.0.0.1:%u/stream "
                                          "RTSP/1.0\r\nCSeq: 1\r\n\r\n",
      method, port);
  char buf[4096];
  gsize got = 0;
  gssize n;

  g_socket_client_set_timeout (client, 5);
  conn =
      g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (!conn)
    return -1;
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (
                                      G_IO_STREAM (conn)),
          req, strlen (req), NULL, NULL, NULL))
    return -1;
  buf[0] = '\0';
  while (!strstr (buf, "\r\n\r\n") && got < sizeof buf - 1
      && (n = g_input_stream_read (g_io_stream_get_input_stream (
                                       G_IO_STREAM (conn)),
              buf + got, sizeof buf - 1 - got, NULL, NULL))
          > 0) {
    got += n;
    buf[got] = '\0';
  }
  if (head)
    *head = g_strdup (buf);
  return g_str_has_prefix (buf, "RTSP/1.0 ") ? atoi (buf + 9) : -1;
}

static int
rtsp_request (guint port, const char *method)
{
  return rtsp_request_head (port, method, NULL);
}

/* What the server says it does is what it does: OPTIONS lists the
 * methods a camera answers, and ANNOUNCE and RECORD get 405 with the same
 * list (gst-rtsp-server listed them in Public, and its 405 had no Allow,
 * which RFC 2326 asks for). */
static void
test_methods (void)
{
  TsServer *s = ts_server_start (NULL);
  const char *list = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, "
                     "GET_PARAMETER, SET_PARAMETER\r\n";
  g_autofree char *public = g_strconcat ("Public: ", list, NULL);
  g_autofree char *allow = g_strconcat ("Allow: ", list, NULL);

  g_assert_nonnull (s);
  {
    g_autofree char *head = NULL;
    g_assert_cmpint (rtsp_request_head (s->rtsp_ports[0], "OPTIONS", &head), ==,
        200);
    g_assert_nonnull (strstr (head, public));
  }
  for (guint i = 0; i < 2; i++) {
    g_autofree char *head = NULL;
    g_assert_cmpint (rtsp_request_head (s->rtsp_ports[0],
                         i ? "RECORD" : "ANNOUNCE", &head),
        ==, 405);
    g_assert_nonnull (strstr (head, allow));
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Health probes (OPTIONS and DESCRIBE every 100 ms here) never disturb
 * readers: a stock gst-rtsp-server answers 503 to a DESCRIBE that lands
 * while the shared media a probe's DESCRIBE created is torn down. */
static void
test_probes_never_disturb (void)
{
  const char *args[] = { "--probe-interval=0.1", NULL };
  TsServer *s = ts_server_start (args);
  guint bad = 0;

  g_assert_nonnull (s);
  g_assert_true (ts_server_wait_log (s, "readiness: ready", 1, 5));
  for (guint i = 0; i < 300; i++) {
    int status = rtsp_request (s->rtsp_ports[i % 4], "DESCRIBE");
    if (status != 200) {
      g_test_message ("DESCRIBE %u got %d", i, status);
      bad++;
    }
    g_usleep ((i % 7) * 3000);
  }
  g_assert_cmpuint (bad, ==, 0);
  if (ts_have_program ("ffmpeg")) {
    for (guint i = 0; i < 4; i++) {
      g_autofree char *url = ts_rtsp_url (s, i);
      g_assert_cmpuint (ts_ffmpeg_frames (url, "tcp", 5, 640, 480), ==, 5);
    }
  }
  g_assert_cmpuint (ts_server_log_count (s, "is down"), ==, 0);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static JsonObject *
stream_entry (TsServer *s, guint index)
{
  g_autoptr (JsonObject) u = ts_http_json (s->http_port, "/rtsp-urls", NULL);
  JsonArray *streams = json_object_get_array_member (u, "streams");
  return json_object_ref (json_array_get_object_element (streams, index));
}

static void
test_readers (void)
{
  g_autofree char *url = ts_rtsp_url (shared, 1);
  const char *argv[] = { "timeout", "-s", "KILL", "20", "ffmpeg", "-nostdin",
    "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-frames:v", "150",
    "-f", "null", "-", NULL };
  g_autoptr (GSubprocess) reader = NULL;
  g_autoptr (JsonObject) during = NULL, after = NULL;
  guint connected =
      ts_server_log_count (shared, "reader connected: camera cam2");
  guint gone = ts_server_log_count (shared, "reader disconnected: camera cam2");

  if (!ts_have_program ("ffmpeg"))
    return;
  reader = ts_spawn (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
  g_assert_nonnull (reader);
  g_assert_true (ts_server_wait_log (shared, "reader connected: camera cam2",
      connected + 1, 10));
  during = stream_entry (shared, 1);
  g_assert_cmpint (json_object_get_int_member (during, "readers"), ==, 1);

  g_subprocess_force_exit (reader);
  g_subprocess_wait (reader, NULL, NULL);
  g_assert_true (ts_server_wait_log (shared, "reader disconnected: camera cam2",
      gone + 1, 10));
  after = stream_entry (shared, 1);
  g_assert_cmpint (json_object_get_int_member (after, "readers"), ==, 0);
}

static GHashTable *
scrape (TsServer *s)
{
  g_autofree char *body = NULL;
  g_autofree char *err = NULL;
  SoupMessageHeaders *hdrs = NULL;
  GHashTable *samples =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_assert_cmpuint (ts_http (s->http_port, "GET", "/metrics", NULL, NULL, &body,
                        &hdrs),
      ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (hdrs, NULL), ==,
      "text/plain");
  soup_message_headers_unref (hdrs);
  if (ts_prom_parse (body, samples, &err) < 0)
    g_error ("/metrics does not parse: %s", err);
  return samples;
}

static double
metric (GHashTable *samples, const char *name, TsServer *s, guint cam)
{
  g_autofree char *key =
      g_strdup_printf ("rtsp_test_server_%s{camera=\"cam%u\",port=\"%u\"}",
          name, cam + 1, s->rtsp_ports[cam]);
  double *v = g_hash_table_lookup (samples, key);
  if (!v)
    g_error ("no sample %s", key);
  return *v;
}

/* /metrics parses strictly, and its counters move as video flows and
 * readers come and go. */
static void
test_metrics (void)
{
  g_autoptr (GHashTable) before = NULL, during = NULL, after = NULL;
  g_autoptr (JsonObject) health = NULL;
  g_autofree char *url = ts_rtsp_url (shared, 2);
  /* Killed by the test (and with it, by ts_spawn's death signal). */
  const char *argv[] = { "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport",
    "tcp", "-i", url, "-t", "20", "-f", "null", "-", NULL };
  g_autoptr (GSubprocess) reader = NULL;
  guint connected =
      ts_server_log_count (shared, "reader connected: camera cam3");
  guint gone = ts_server_log_count (shared, "reader disconnected: camera cam3");

  /* "started in" comes before the first probe round has answered. */
  health = ts_wait_health (shared->http_port, 200, 4, 10);
  g_assert_nonnull (health);
  before = scrape (shared);
  g_assert_cmpfloat (*(double *) g_hash_table_lookup (before,
                         "rtsp_test_server_healthy"),
      ==, 1);
  if (!ts_have_program ("ffmpeg"))
    return;
  reader = ts_spawn (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
  g_assert_true (ts_server_wait_log (shared, "reader connected: camera cam3",
      connected + 1, 10));
  g_usleep (G_USEC_PER_SEC);
  during = scrape (shared);
  g_assert_cmpfloat (metric (during, "readers", shared, 2), ==, 1);
  g_assert_cmpfloat (metric (during, "sessions_total", shared, 2), ==,
      metric (before, "sessions_total", shared, 2) + 1);
  /* About 30 frames a second flowed meanwhile; at least 15 of them. */
  g_assert_cmpfloat (metric (during, "frames_sent_total", shared, 2), >=,
      metric (before, "frames_sent_total", shared, 2) + 15);
  g_assert_cmpfloat (metric (during, "bytes_sent_total", shared, 2), >,
      metric (before, "bytes_sent_total", shared, 2));
  g_assert_cmpfloat (metric (during, "streaming", shared, 2), ==, 1);
  g_assert_cmpfloat (metric (during, "last_frame_age_seconds", shared, 2), <,
      1);
  g_subprocess_force_exit (reader);
  g_subprocess_wait (reader, NULL, NULL);
  g_assert_true (ts_server_wait_log (shared, "reader disconnected: camera cam3",
      gone + 1, 10));
  after = scrape (shared);
  g_assert_cmpfloat (metric (after, "readers", shared, 2), ==, 0);
  g_assert_cmpfloat (metric (after, "sessions_total", shared, 2), ==,
      metric (during, "sessions_total", shared, 2));
}

static void
test_http_errors (void)
{
  g_autofree char *body = NULL;
  g_autofree char *head_body = NULL;
  SoupMessageHeaders *hdrs = NULL;

  g_assert_cmpuint (ts_http (shared->http_port, "GET", "/nope", NULL, NULL,
                        &body, &hdrs),
      ==, 404);
  g_assert_cmpstr (soup_message_headers_get_content_type (hdrs, NULL), ==,
      "application/json");
  g_assert_nonnull (strstr (body, "\"error\""));
  soup_message_headers_unref (hdrs);
  g_clear_pointer (&body, g_free);

  g_assert_cmpuint (ts_http (shared->http_port, "POST", "/health", NULL, "{}",
                        &body, &hdrs),
      ==, 405);
  g_assert_cmpstr (soup_message_headers_get_one (hdrs, "Allow"), ==,
      "GET, HEAD");
  soup_message_headers_unref (hdrs);
  g_assert_cmpuint (ts_http (shared->http_port, "DELETE", "/rtsp-urls", NULL,
                        NULL, NULL, NULL),
      ==, 405);

  g_assert_cmpuint (ts_http (shared->http_port, "HEAD", "/health", NULL, NULL,
                        &head_body, NULL),
      ==, 200);
  g_assert_cmpstr (head_body, ==, "");

  /* Without a token the control API does not exist. */
  g_assert_cmpuint (ts_http (shared->http_port, "POST",
                        "/control/cameras/cam1/faults", NULL,
                        "{\"type\":\"close-port\"}", NULL, NULL),
      ==, 404);
}

/* A browser or curl pointed at an RTSP port: a complete answer (503, with
 * its length) that says which rtsp:// URL to play there, at once, not a
 * connection held open until the idle timeout (a client waiting for the
 * end of a body of no stated length). A real RTSP-over-HTTP tunnel still
 * plays: ffmpeg's -rtsp_transport http. */
static void
test_http_on_rtsp_port (void)
{
  g_autofree char *body = NULL;
  g_autofree char *want =
      g_strdup_printf ("rtsp://127.0.0.1:%u/stream", shared->rtsp_ports[1]);
  SoupMessageHeaders *hdrs = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_assert_cmpuint (ts_http (shared->rtsp_ports[1], "GET", "/", NULL, NULL,
                        &body, &hdrs),
      ==, 503);
  g_test_message ("GET on an RTSP port: 503 in %.1f ms: %s",
      (g_get_monotonic_time () - t0) / 1e3, body);
  g_assert_nonnull (strstr (body, want));
  g_assert_nonnull (strstr (body, "camera cam2"));
  g_assert_cmpstr (soup_message_headers_get_content_type (hdrs, NULL), ==,
      "text/plain");
  soup_message_headers_unref (hdrs);
  if (ts_have_program ("ffprobe")) {
    g_autofree char *url = ts_rtsp_url (shared, 1);
    const char *argv[] = { "ffprobe", "-v", "error", "-rtsp_transport", "http",
      "-show_entries", "stream=codec_name,width", "-of", "csv=p=0", url, NULL };
    g_autoptr (GBytes) out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (ts_run (argv, 30, &out, &err, NULL), ==, 0);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (out, NULL),
        g_bytes_get_size (out), "h264,640"));
  }
}

static void
test_index (void)
{
  const char *json[] = { "Accept", "application/json", NULL };
  g_autofree char *html = NULL;
  g_autofree char *body = NULL;
  SoupMessageHeaders *hdrs = NULL;
  g_autofree char *url = ts_rtsp_url (shared, 3);

  g_assert_cmpuint (ts_http (shared->http_port, "GET", "/", NULL, NULL, &html,
                        &hdrs),
      ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (hdrs, NULL), ==,
      "text/html");
  soup_message_headers_unref (hdrs);
  g_assert_nonnull (strstr (html, "<html"));
  g_assert_nonnull (strstr (html, "cam4"));
  g_assert_nonnull (strstr (html, url));
  g_assert_nonnull (strstr (html, "healthy"));

  g_assert_cmpuint (ts_http (shared->http_port, "GET", "/", json, NULL, &body,
                        NULL),
      ==, 200);
  g_assert_nonnull (strstr (body, "\"health\""));
  g_assert_nonnull (strstr (body, url));
}

/* Each camera's snapshot is a fresh JPEG of its picture; an unknown
 * camera is 404. */
static void
test_snapshots (void)
{
  for (guint i = 0; i < 4; i++) {
    g_autofree char *url =
        g_strdup_printf ("http://127.0.0.1:%u/cameras/cam%u/snapshot.jpg",
            shared->http_port, i + 1);
    const char *argv[] = { "curl", "-sf", "-D", "/dev/stderr", url, NULL };
    g_autoptr (GBytes) jpeg = NULL;
    g_autofree char *headers = NULL;
    gsize n = 0;
    const guint8 *b;

    g_assert_cmpint (ts_run (argv, 10, &jpeg, &headers, NULL), ==, 0);
    b = g_bytes_get_data (jpeg, &n);
    g_assert_cmpuint (n, >, 1000);
    g_assert_true (b[0] == 0xFF && b[1] == 0xD8);         /* SOI */
    g_assert_true (b[n - 2] == 0xFF && b[n - 1] == 0xD9); /* EOI */
    g_assert_nonnull (strstr (headers, "image/jpeg"));
    {
      const char *age = strstr (headers, "X-Snapshot-Age-Seconds: ");
      g_assert_nonnull (age);
      /* One picture a second is taken; allow a busy machine twice that. */
      g_assert_cmpfloat (g_ascii_strtod (age + 24, NULL), <, 2.5);
    }
    if (i == 0 && ts_have_program ("ffprobe")) {
      g_autofree char *path = NULL;
      int fd = g_file_open_tmp ("rts-snap-XXXXXX.jpg", &path, NULL);
      close (fd);
      g_assert_true (g_file_set_contents (path, (const char *) b, n, NULL));
      const char *probe[] = { "ffprobe", "-v", "error", "-show_entries",
        "stream=width,height", "-of", "csv=p=0", path, NULL };
      g_autoptr (GBytes) size = NULL;
      g_assert_cmpint (ts_run (probe, 10, &size, NULL, NULL), ==, 0);
      g_assert_true (
          g_str_has_prefix (g_bytes_get_data (size, NULL), "640,480"));
      /* Full-range, as a JPEG is read: cam1's bars' whites are white
       * (before: 235, washed out). */
      g_assert_cmpfloat (ts_picture_white_share (path), >, 0.08);
      g_unlink (path);
    }
  }
  /* A byte range is not served: the next request's picture is another
   * one, and the pieces would not fit together. */
  {
    const char *range[] = { "Range", "bytes=0-10", NULL };
    g_autoptr (SoupMessageHeaders) h = NULL;
    g_assert_cmpuint (ts_http (shared->http_port, "GET",
                          "/cameras/cam1/snapshot.jpg", range, NULL, NULL, &h),
        ==, 200);
    g_assert_cmpint (soup_message_headers_get_content_length (h), >, 1000);
    g_assert_cmpuint (ts_http (shared->http_port, "GET", "/health", range, NULL,
                          NULL, NULL),
        ==, 200);
  }
  g_assert_cmpuint (ts_http (shared->http_port, "GET",
                        "/cameras/nope/snapshot.jpg", NULL, NULL, NULL, NULL),
      ==, 404);
  g_assert_cmpuint (ts_http (shared->http_port, "POST",
                        "/cameras/cam1/snapshot.jpg", NULL, "", NULL, NULL),
      ==, 405);
}

/* The index page in a real browser: every camera's picture shows (the page
 * counts them on its body), and a screenshot is left for a person. */
static void
test_index_browser (void)
{
  g_autofree char *url =
      g_strdup_printf ("http://127.0.0.1:%u/", shared->http_port);
  g_autofree char *shot =
      g_build_filename (g_get_tmp_dir (), "rtsp-test-server-index.png", NULL);
  g_autofree char *shot_flag = g_strconcat ("--screenshot=", shot, NULL);
  const char *dom[] = { "chromium", "--headless", "--no-sandbox",
    "--disable-gpu", "--virtual-time-budget=8000", "--dump-dom", url, NULL };
  const char *png[] = { "chromium", "--headless", "--no-sandbox",
    "--disable-gpu", "--hide-scrollbars", "--window-size=1500,900",
    "--virtual-time-budget=5000", shot_flag, url, NULL };
  g_autoptr (GBytes) out = NULL;
  g_autofree char *text = NULL;

  if (!ts_have_program ("chromium"))
    return;
  /* Every camera has its first picture (a loop camera's stills are made in
   * the background at start-up): what the page shows is then up to it. */
  for (guint i = 0; i < 4; i++) {
    g_autofree char *cam = g_strdup_printf ("cam%u", i + 1);
    ts_wait_snapshot (shared->http_port, cam, 10);
  }
  g_assert_cmpint (ts_run (dom, 60, &out, NULL, NULL), ==, 0);
  text = ts_bytes_text (out);
  /* Chromium's virtual time runs ahead of real fetches: on a loaded
   * machine (seen once, with the other tests running beside this one) the
   * page was dumped with 2 of 4 pictures loaded. One loud retry. */
  if (!strstr (text, "<body data-snapshots=\"4\">")) {
    g_test_message ("RETRY: chromium dumped the page with fewer than 4 "
                    "pictures loaded");
    g_clear_pointer (&out, g_bytes_unref);
    g_clear_pointer (&text, g_free);
    g_assert_cmpint (ts_run (dom, 60, &out, NULL, NULL), ==, 0);
    text = ts_bytes_text (out);
  }
  if (!strstr (text, "<body data-snapshots=\"4\">"))
    g_error ("the page did not show 4 pictures: %.300s",
        strstr (text, "<body") ? strstr (text, "<body") : text);
  g_assert_cmpint (ts_run (png, 60, NULL, NULL, NULL), ==, 0);
  g_assert_true (g_file_test (shot, G_FILE_TEST_EXISTS));
  g_test_message ("screenshot of the index page: %s", shot);
}

static guint
fault (TsServer *s, const char *method, const char *camera, const char *body,
    const char *token)
{
  g_autofree char *path =
      g_strdup_printf ("/control/cameras/%s/faults", camera);
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", token);
  const char *hdr[] = { "Authorization", bearer, NULL };
  return ts_http (s->http_port, method, path, token ? hdr : NULL, body, NULL,
      NULL);
}

static int
health_check (const char *const *extra, double timeout, double *elapsed)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GBytes) o = NULL;
  int status;

  g_ptr_array_add (argv, (gpointer) ts_health_check_path ());
  for (guint i = 0; extra[i]; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);
  status =
      ts_run ((const char *const *) argv->pdata, timeout, &o, NULL, elapsed);
  g_test_message ("rtsp-health-check: %.*s", (int) g_bytes_get_size (o),
      (const char *) g_bytes_get_data (o, NULL));
  return status;
}

static int
health_check_http (TsServer *s)
{
  g_autofree char *url =
      g_strdup_printf ("--url=http://127.0.0.1:%u/health", s->http_port);
  const char *argv[] = { url, "--timeout=3", NULL };
  return health_check (argv, 10, NULL);
}

static int
health_check_rtsp (TsServer *s, guint min_healthy, double *elapsed)
{
  g_autofree char *ports = g_strdup_printf ("--rtsp-ports=%u,%u,%u,%u",
      s->rtsp_ports[0], s->rtsp_ports[1], s->rtsp_ports[2], s->rtsp_ports[3]);
  g_autofree char *min = g_strdup_printf ("--min-healthy=%u", min_healthy);
  const char *argv[] = { ports, min, "--timeout=1", NULL };
  return health_check (argv, 10, elapsed);
}

static JsonObject *
port_entry (JsonObject *health, guint index)
{
  return json_array_get_object_element (json_object_get_array_member (health,
                                            "ports"),
      index);
}

/* 3 of 4 is healthy, 2 of 4 is not, and it comes back: through real
 * probes of ports that are really closed or really hung. */
static void
test_health_follows_ports (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autoptr (JsonObject) h = NULL;
  double elapsed = 0;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;

  g_assert_nonnull (s);
  h = ts_wait_health (s->http_port, 200, 4, 5);
  g_assert_cmpstr (json_object_get_string_member (h, "status"), ==, "healthy");
  g_assert_cmpint (health_check_http (s), ==, 0);
  g_assert_cmpint (health_check_rtsp (s, 3, NULL), ==, 0);

  /* A port that accepts TCP but never answers is down. */
  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"hang-port\"}",
                        TOKEN),
      ==, 200);
  g_clear_pointer (&h, json_object_unref);
  h = ts_wait_health (s->http_port, 200, 3, 6);
  g_assert_cmpint (json_object_get_int_member (h, "open_ports"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (h, "status"), ==, "healthy");
  g_assert_false (
      json_object_get_boolean_member (port_entry (h, 0), "healthy"));
  g_assert_cmpstr (json_object_get_string_member (port_entry (h, 0), "fault"),
      ==, "hang-port");
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", s->rtsp_ports[0],
      NULL, NULL);
  g_assert_nonnull (conn); /* TCP still connects */
  g_assert_cmpint (health_check_http (s), ==, 0);
  g_assert_cmpint (health_check_rtsp (s, 3, NULL), ==, 0);
  g_assert_cmpint (health_check_rtsp (s, 4, &elapsed), ==, 1);
  g_assert_cmpfloat (elapsed, <, 1.5);

  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"close-port\"}",
                        TOKEN),
      ==, 200);
  g_clear_pointer (&h, json_object_unref);
  h = ts_wait_health (s->http_port, 503, 2, 6);
  g_assert_cmpstr (json_object_get_string_member (h, "status"), ==,
      "unhealthy");
  g_assert_cmpint (json_object_get_int_member (h, "open_ports"), ==, 2);
  g_assert_cmpint (health_check_http (s), ==, 1);
  g_assert_cmpint (health_check_rtsp (s, 3, &elapsed), ==, 1);
  g_assert_cmpfloat (elapsed, <, 1.5);
  g_assert_true (ts_server_wait_log (s, "health: unhealthy", 1, 1));

  g_assert_cmpuint (fault (s, "DELETE", "cam1", NULL, TOKEN), ==, 200);
  g_assert_cmpuint (fault (s, "DELETE", "cam2", NULL, TOKEN), ==, 200);
  g_clear_pointer (&h, json_object_unref);
  h = ts_wait_health (s->http_port, 200, 4, 6);
  g_assert_cmpint (json_object_get_int_member (h, "open_ports"), ==, 4);
  g_assert_cmpint (health_check_http (s), ==, 0);
  g_assert_cmpint (health_check_rtsp (s, 4, NULL), ==, 0);
  if (ts_have_program ("ffmpeg")) {
    g_autofree char *url = ts_rtsp_url (s, 1);
    g_assert_cmpuint (ts_ffmpeg_frames (url, "tcp", 30, 640, 480), ==, 30);
  }

  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static int
health_check_path (TsServer *s, const char *flag, double *elapsed)
{
  g_autofree char *url =
      g_strdup_printf ("--url=http://127.0.0.1:%u/", s->http_port);
  const char *argv[] = { url, flag, "--timeout=2", NULL };
  return health_check (argv, 10, elapsed);
}

static guint
get_status (TsServer *s, const char *path)
{
  return ts_http (s->http_port, "GET", path, NULL, NULL, NULL, NULL);
}

/* Waits up to TIMEOUT s for PATH to answer WANT. */
static gboolean
wait_status (TsServer *s, const char *path, guint want, double timeout)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout * 1e6);

  do {
    if (get_status (s, path) == want)
      return TRUE;
    g_usleep (50 * 1000);
  } while (g_get_monotonic_time () < end);
  return FALSE;
}

/* Liveness, readiness and one port's truth each answer their own question:
 * a closed port fails its own /health/PORT and readiness while /health (3
 * of 4) and liveness stay 200; a stalled camera still answers RTSP but is
 * not ready; and everything comes back without a restart. */
static void
test_live_ready_port (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autofree char *p1 = NULL, *p2 = NULL, *port2 = NULL, *port3 = NULL;
  g_autofree char *body = NULL;

  g_assert_nonnull (s);
  p1 = g_strdup_printf ("/health/%u", s->rtsp_ports[0]);
  p2 = g_strdup_printf ("/health/%u", s->rtsp_ports[1]);
  port2 = g_strdup_printf ("--port=%u", s->rtsp_ports[1]);
  port3 = g_strdup_printf ("--port=%u", s->rtsp_ports[2]);
  g_assert_true (wait_status (s, "/health/ready", 200, 5));
  g_assert_cmpuint (get_status (s, "/health/live"), ==, 200);
  g_assert_cmpuint (ts_http (s->http_port, "GET", p2, NULL, NULL, &body, NULL),
      ==, 200);
  g_assert_nonnull (strstr (body, "\"status\":\"healthy\""));
  g_assert_nonnull (strstr (body, "\"streaming\":true"));
  g_assert_cmpuint (get_status (s, "/health/1"), ==, 404);
  g_assert_cmpuint (get_status (s, "/health/nope"), ==, 404);
  g_assert_cmpint (health_check_path (s, "--live", NULL), ==, 0);
  g_assert_cmpint (health_check_path (s, "--ready", NULL), ==, 0);
  g_assert_cmpint (health_check_path (s, port2, NULL), ==, 0);

  /* One port closed. */
  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"close-port\"}",
                        TOKEN),
      ==, 200);
  g_assert_true (wait_status (s, p2, 503, 5));
  g_assert_true (wait_status (s, "/health/ready", 503, 5));
  g_assert_cmpuint (get_status (s, "/health"), ==, 200);
  g_assert_cmpuint (get_status (s, "/health/live"), ==, 200);
  g_assert_cmpuint (get_status (s, p1), ==, 200);
  g_assert_cmpint (health_check_path (s, port2, NULL), ==, 1);
  g_assert_cmpint (health_check_path (s, port3, NULL), ==, 0);
  g_assert_cmpint (health_check_path (s, "--ready", NULL), ==, 1);
  g_assert_cmpint (health_check_path (s, "--live", NULL), ==, 0);
  g_assert_cmpuint (fault (s, "DELETE", "cam2", NULL, TOKEN), ==, 200);
  g_assert_true (wait_status (s, "/health/ready", 200, 5));

  /* A frozen camera: its port still answers, its video does not flow. */
  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"stall\"}", TOKEN),
      ==, 200);
  g_assert_true (wait_status (s, "/health/ready", 503, 5));
  g_assert_true (wait_status (s, p2, 503, 1));
  g_assert_cmpuint (get_status (s, "/health"), ==, 200);
  g_assert_cmpuint (get_status (s, "/health/live"), ==, 200);
  g_assert_true (ts_server_wait_log (s, "camera cam2 stalled", 1, 1));
  g_assert_true (ts_server_wait_log (s, "readiness: not ready", 1, 1));
  if (ts_have_program ("ffmpeg")) {
    g_autofree char *url = ts_rtsp_url (s, 1);
    const char *argv[] = { "ffmpeg", "-nostdin", "-v", "error",
      "-rtsp_transport", "tcp", "-i", url, "-frames:v", "1", "-f", "null", "-",
      NULL };
    /* A reader gets no frame from a stalled camera. */
    g_assert_cmpint (ts_run (argv, 4, NULL, NULL, NULL), !=, 0);
  }
  {
    /* Nor does its picture change (it did, 2026-12-06: the status page
     * showed a moving camera that readers got nothing from); it ages. */
    double age1, age2;
    g_autoptr (GBytes) a = ts_snapshot (s->http_port, "cam2", &age1);
    g_usleep (1500 * 1000);
    g_autoptr (GBytes) b = ts_snapshot (s->http_port, "cam2", &age2);
    g_assert_true (g_bytes_equal (a, b));
    g_assert_cmpfloat (age2, >, age1 + 1.0);
  }
  g_assert_cmpuint (fault (s, "DELETE", "cam2", NULL, TOKEN), ==, 200);
  /* Generous: the reader above PLAYed into the frozen camera, and the seek
   * gst-rtsp-server does for its Range finishes only once video flows
   * again; on a loaded machine that took over 6 s once. */
  g_assert_true (wait_status (s, "/health/ready", 200, 20));
  g_assert_true (
      ts_server_wait_log (s, "camera cam2 streams video again", 1, 1));
  if (ts_have_program ("ffmpeg")) {
    g_autofree char *url = ts_rtsp_url (s, 1);
    g_assert_cmpuint (ts_ffmpeg_frames (url, "tcp", 30, 640, 480), ==, 30);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static void
test_fault_expires (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autoptr (JsonObject) h = NULL;

  g_assert_nonnull (s);
  g_assert_cmpuint (fault (s, "POST", "cam3",
                        "{\"type\":\"close-port\",\"seconds\":1}", TOKEN),
      ==, 200);
  h = ts_wait_health (s->http_port, 200, 3, 5);
  g_assert_cmpint (json_object_get_int_member (h, "open_ports"), ==, 3);
  g_clear_pointer (&h, json_object_unref);
  h = ts_wait_health (s->http_port, 200, 4, 6);
  g_assert_cmpint (json_object_get_int_member (h, "open_ports"), ==, 4);
  g_assert_true (ts_server_wait_log (s, "fault cleared: camera cam3", 1, 1));
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Polls /health/PORT until it answers WANT; the seconds it took, or -1
 * after TIMEOUT. */
static double
wait_port_status (TsServer *s, guint port, guint want, double timeout)
{
  g_autofree char *path = g_strdup_printf ("/health/%u", port);
  gint64 t0 = g_get_monotonic_time ();

  while (g_get_monotonic_time () - t0 < timeout * G_USEC_PER_SEC) {
    if (ts_http (s->http_port, "GET", path, NULL, NULL, NULL, NULL) == want)
      return (g_get_monotonic_time () - t0) / 1e6;
    g_usleep (10 * 1000);
  }
  return -1;
}

/* Each port is probed on its own, and a fault is probed at once: with
 * rounds 30 s apart, cam3 hung (each of its probes waits the 2 s
 * timeout), a fault on cam2 and its clearing each show within a second.
 * A round used to wait for every port's probe, and a fault that came
 * while one was running was not probed at all: it showed at the next
 * round (here 30 s), and a hung port made every round as slow as its
 * timeout. A fault cleared while its own probe is on the way is probed
 * again once that probe ends. */
static void
test_fault_probed_at_once (void)
{
  const char *args[] = { "--control-token=" TOKEN, "--probe-interval=30",
    "--probe-timeout=2", NULL };
  TsServer *s = ts_server_start (args);
  double t;

  g_assert_nonnull (s);
  g_assert_nonnull (ts_wait_health (s->http_port, 200, 4, 10));
  g_assert_cmpuint (fault (s, "POST", "cam3", "{\"type\":\"hang-port\"}",
                        TOKEN),
      ==, 200);
  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"close-port\"}",
                        TOKEN),
      ==, 200);
  t = wait_port_status (s, s->rtsp_ports[1], 503, 1.0);
  g_test_message ("cam2 closed while cam3's probe hangs: down after %.3f s", t);
  g_assert_cmpfloat (t, >=, 0);
  g_assert_cmpuint (fault (s, "DELETE", "cam2", NULL, TOKEN), ==, 200);
  t = wait_port_status (s, s->rtsp_ports[1], 200, 1.0);
  g_test_message ("cam2 cleared: up after %.3f s", t);
  g_assert_cmpfloat (t, >=, 0);
  /* Closed and cleared at once: the first probe may see it closed; the
   * second is made after it. */
  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"close-port\"}",
                        TOKEN),
      ==, 200);
  g_assert_cmpuint (fault (s, "DELETE", "cam2", NULL, TOKEN), ==, 200);
  g_usleep (300 * 1000);
  t = wait_port_status (s, s->rtsp_ports[1], 200, 1.0);
  g_test_message ("cam2 closed and cleared at once: up %.3f s later", t);
  g_assert_cmpfloat (t, >=, 0);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* A fault that cannot be applied changes nothing: a camera whose closed
 * port someone else bound meanwhile answers a stall with 409 and stays as
 * it was (closed, streaming); the stall was once applied behind the 409.
 * Clearing it works again once the port is free. */
static void
test_fault_conflict (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autoptr (GError) err = NULL;
  g_autoptr (GSocket) squatter = NULL;
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) at = NULL;
  g_autofree char *body = NULL;
  g_autofree char *port_path = NULL;
  guint status;

  g_assert_nonnull (s);
  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"close-port\"}",
                        TOKEN),
      ==, 200);
  at = g_inet_socket_address_new (lo, (guint16) s->rtsp_ports[1]);
  squatter = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);
  g_assert_no_error (err);
  g_socket_bind (squatter, at, TRUE, &err);
  g_assert_no_error (err);
  g_socket_listen (squatter, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"stall\"}", TOKEN),
      ==, 409);
  /* A stall stops the camera's video at once: a second later its last
   * frame would be a second old. */
  g_usleep (G_USEC_PER_SEC);
  port_path = g_strdup_printf ("/health/%u", s->rtsp_ports[1]);
  status = ts_http (s->http_port, "GET", port_path, NULL, NULL, &body, NULL);
  g_test_message ("after the 409: %s %u %s", port_path, status, body);
  g_assert_nonnull (strstr (body, "\"fault\":\"close-port\""));
  {
    g_autoptr (JsonNode) node = json_from_string (body, &err);
    JsonObject *detail;
    g_assert_no_error (err);
    detail =
        json_object_get_object_member (json_node_get_object (node), "detail");
    g_assert_true (json_object_get_boolean_member (detail, "streaming"));
    g_assert_cmpfloat (json_object_get_double_member (detail,
                           "video_age_seconds"),
        <, 0.5);
  }
  g_clear_object (&squatter);
  g_assert_cmpuint (fault (s, "DELETE", "cam2", NULL, TOKEN), ==, 200);
  g_assert_nonnull (ts_wait_health (s->http_port, 200, 4, 5));
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static void
test_control_auth (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autoptr (JsonObject) h = NULL;

  g_assert_nonnull (s);
  h = ts_wait_health (s->http_port, 200, 4, 5);
  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"close-port\"}",
                        NULL),
      ==, 401);
  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"close-port\"}",
                        "wrong-token-123"),
      ==, 401);
  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"close-port\"}",
                        TOKEN "x"),
      ==, 401);
  g_assert_cmpuint (fault (s, "POST", "cam9", "{\"type\":\"close-port\"}",
                        TOKEN),
      ==, 404);
  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"explode\"}", TOKEN),
      ==, 400);
  g_assert_cmpuint (fault (s, "POST", "cam1", "not json", TOKEN), ==, 400);
  g_assert_cmpuint (fault (s, "GET", "cam1", NULL, TOKEN), ==, 405);
  /* The scheme's name in any case (RFC 7235); a camera named by bytes
   * that are not UTF-8 is not found, and the answer quoting it is JSON
   * still (the bytes once went into it raw). */
  {
    const char *lower[] = { "Authorization", "bearer " TOKEN, NULL };
    g_autofree char *body = NULL;
    g_autoptr (JsonNode) node = NULL;
    g_autoptr (GError) err = NULL;
    g_assert_cmpuint (ts_http (s->http_port, "DELETE",
                          "/control/cameras/cam1/faults", lower, NULL, NULL,
                          NULL),
        ==, 200);
    g_assert_cmpuint (ts_http (s->http_port, "DELETE",
                          "/control/cameras/%ff%fe/faults", lower, NULL, &body,
                          NULL),
        ==, 404);
    g_test_message ("a camera named by bytes not UTF-8: 404 %s", body);
    g_assert_true (g_utf8_validate (body, -1, NULL));
    node = json_from_string (body, &err);
    g_assert_no_error (err);
  }
  /* None of that changed anything, and the token never reached the log. */
  g_usleep (700 * 1000);
  g_clear_pointer (&h, json_object_unref);
  h = ts_wait_health (s->http_port, 200, 4, 1);
  g_assert_cmpint (json_object_get_int_member (h, "open_ports"), ==, 4);
  g_assert_cmpuint (ts_server_log_count (s, "fault injected"), ==, 0);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  g_assert_cmpuint (ts_server_log_count (s, TOKEN), ==, 0);
  ts_server_free (s);
}

static void
test_sigterm_with_readers (void)
{
  TsServer *s = ts_server_start (NULL);
  g_autoptr (GSubprocess) tcp = NULL, udp = NULL;
  g_autofree char *url1 = NULL, *url2 = NULL;
  double elapsed = 0;

  if (!ts_have_program ("ffmpeg")) {
    ts_server_free (s);
    return;
  }
  g_assert_nonnull (s);
  url1 = ts_rtsp_url (s, 0);
  url2 = ts_rtsp_url (s, 1);
  const char *tcp_argv[] = { "timeout", "-s", "KILL", "30", "ffmpeg",
    "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url1, "-f",
    "null", "-", NULL };
  const char *udp_argv[] = { "timeout", "-s", "KILL", "30", "ffmpeg",
    "-nostdin", "-v", "error", "-rtsp_transport", "udp", "-i", url2, "-f",
    "null", "-", NULL };
  tcp = ts_spawn (tcp_argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
  udp = ts_spawn (udp_argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
  g_assert_true (ts_server_wait_log (s, "reader connected", 2, 15));
  g_usleep (500 * 1000); /* frames flowing */

  g_assert_cmpint (ts_server_stop (s, 5, &elapsed), ==, 0);
  g_test_message ("exit after SIGTERM with 2 readers: %.3f s", elapsed);
  g_assert_cmpfloat (elapsed, <, 2.0);
  g_assert_true (
      ts_server_wait_log (s, "health: unhealthy: shutting down", 1, 0));
  g_assert_true (ts_server_wait_log (s, "shutdown: done", 1, 0));
  /* Clients closed from the main thread once made their watches spin,
   * logging a GLib critical per turn (rts_rtsp_server_stop). */
  if (ts_server_log_count (s, "assertion")) {
    g_autofree char *tail = ts_server_log_tail (s, 60);
    g_test_message ("the server's last log lines:\n%s", tail);
  }
  g_assert_cmpuint (ts_server_log_count (s, "assertion"), ==, 0);
  g_subprocess_force_exit (tcp);
  g_subprocess_force_exit (udp);
  ts_server_free (s);
}

/* SIGTERM while the cameras' client threads are busy: connections that
 * are not readers (shutdown does not wait for them) each sent 100
 * DESCRIBEs in one write, whose answers are still being made when the
 * server stops. The requests still read after the sockets were shut were
 * once handled by a camera already freed (a use-after-free in the auth
 * check, which the sanitizer build turned into an abort: 15 of 15 such
 * stops). The server must exit 0, whatever the build, every time. */
static void
test_sigterm_pipelined (void)
{
  guint busy = 0;

  for (guint round = 0; round < 3; round++) {
    TsServer *s = ts_server_start (NULL);
    GSocket *conns[12] = { NULL };
    double elapsed = 0;

    g_assert_nonnull (s);
    for (guint i = 0; i < G_N_ELEMENTS (conns); i++) {
      guint port = s->rtsp_ports[i % 4];
      g_autoptr (GInetAddress) lo =
          g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, port);
      g_autoptr (GString) req = g_string_new (NULL);
      g_autoptr (GError) err = NULL;

      for (guint k = 0; k < 100; k++)
        g_string_append_printf (req,
            "DESCRIBE rtsp://127.0.0.1:%u/stream RTSP/1.0\r\nCSeq: %u\r\n"
            "Accept: application/sdp\r\n\r\n",
            port, k + 1);
      conns[i] = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
          G_SOCKET_PROTOCOL_TCP, &err);
      g_assert_no_error (err);
      g_socket_connect (conns[i], to, NULL, &err);
      g_assert_no_error (err);
      g_assert_cmpint (g_socket_send (conns[i], req->str, req->len, NULL, &err),
          ==, (gssize) req->len);
    }
    /* Some answered, most not yet. */
    g_usleep ((10 + 10 * round) * 1000);
    g_assert_cmpint (ts_server_stop (s, 10, &elapsed), ==, 0);
    g_test_message ("round %u: exit 0 %.3f s after SIGTERM", round + 1,
        elapsed);
    g_assert_cmpuint (ts_server_log_count (s, "assertion"), ==, 0);
    /* Proof the stop met the clients still at work. */
    busy += ts_server_log_count (s, "connection(s) and") > 0;
    for (guint i = 0; i < G_N_ELEMENTS (conns); i++)
      g_object_unref (conns[i]);
    ts_server_free (s);
  }
  g_assert_cmpuint (busy, >, 0);
}

static int
ffmpeg_status (const char *url, const char *transport, char **err)
{
  const char *argv[] = { "ffmpeg", "-nostdin", "-v", "error",
    transport ? "-rtsp_transport" : "-nostats",
    transport ? transport : "-nostats", "-i", url, "-frames:v", "5", "-f",
    "null", "-", NULL };
  return ts_run (argv, 15, NULL, err, NULL);
}

/* refuse-udp: UDP readers get 461, and readers that may fall back to TCP
 * play; disconnect: the reader is dropped at once, by reset or by close;
 * each clears without a restart. */
static void
test_more_faults (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autofree char *url = NULL;
  g_autofree char *err = NULL;
  g_autofree char *p1 = NULL;
  g_autoptr (GSubprocess) reader = NULL;
  g_autofree char *body = NULL;

  if (!ts_have_program ("ffmpeg")) {
    ts_server_free (s);
    return;
  }
  g_assert_nonnull (s);
  url = ts_rtsp_url (s, 0);
  p1 = g_strdup_printf ("/health/%u", s->rtsp_ports[0]);

  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"refuse-udp\"}",
                        TOKEN),
      ==, 200);
  g_assert_cmpint (ffmpeg_status (url, "udp", &err), !=, 0);
  g_assert_nonnull (strstr (err, "461"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ffmpeg_status (url, "tcp", &err), ==, 0);
  g_clear_pointer (&err, g_free);
  /* ffmpeg's default: UDP first, TCP after a 461. */
  g_assert_cmpint (ffmpeg_status (url, NULL, &err), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (get_status (s, p1), ==, 200);
  g_assert_cmpuint (fault (s, "DELETE", "cam1", NULL, TOKEN), ==, 200);
  g_assert_cmpint (ffmpeg_status (url, "udp", &err), ==, 0);
  g_clear_pointer (&err, g_free);

  for (guint rst = 0; rst < 2; rst++) {
    /* Bounded both ways: 30 s of stream, and 10 s of silence (a reader
     * the fault failed to drop would otherwise wait for ever). */
    const char *argv[] = { "ffmpeg", "-nostdin", "-v", "error",
      "-rtsp_transport", "tcp", "-timeout", "10000000", "-i", url, "-t", "30",
      "-f", "null", "-", NULL };
    guint gone = ts_server_log_count (s, "reader disconnected: camera cam1");
    guint came = ts_server_log_count (s, "reader connected: camera cam1");
    gint64 t0;

    reader = ts_spawn (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
    g_assert_true (
        ts_server_wait_log (s, "reader connected: camera cam1", came + 1, 10));
    t0 = g_get_monotonic_time ();
    g_clear_pointer (&body, g_free);
    g_assert_cmpuint (ts_http (s->http_port, "POST",
                          "/control/cameras/cam1/faults",
                          (const char *[]){ "Authorization", "Bearer " TOKEN,
                              NULL },
                          rst ? "{\"type\":\"disconnect\",\"mode\":\"rst\"}"
                              : "{\"type\":\"disconnect\",\"mode\":\"close\"}",
                          &body, NULL),
        ==, 200);
    g_assert_nonnull (strstr (body, "\"dropped_readers\":1"));
    /* The reader notices and gives up long before its own 30 s. */
    g_assert_true (g_subprocess_wait (reader, NULL, NULL));
    g_test_message ("disconnect (%s): reader gone after %.2f s",
        rst ? "rst" : "close", (g_get_monotonic_time () - t0) / 1e6);
    g_assert_cmpfloat ((g_get_monotonic_time () - t0) / 1e6, <, 10);
    g_assert_true (ts_server_wait_log (s, "reader disconnected: camera cam1",
        gone + 1, 5));
    g_clear_object (&reader);
  }
  /* A new reader plays at once. */
  g_assert_cmpuint (ts_ffmpeg_frames (url, "tcp", 10, 640, 480), ==, 10);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Status of one HTTP GET's JSON member NAME of port entry INDEX. */
static char *
port_member (TsServer *s, guint index, const char *name)
{
  guint status = 0;
  g_autoptr (JsonObject) h = ts_http_json (s->http_port, "/health", &status);
  JsonObject *p = h ? port_entry (h, index) : NULL;
  return p && json_object_has_member (p, name)
      ? g_strdup_printf ("%" G_GINT64_FORMAT,
          json_object_get_int_member (p, name))
      : NULL;
}

/* reject: every new request gets 401 (with a challenge) or 503, the port's
 * health flips while liveness stays 200, a reader already playing goes on,
 * and clearing brings the camera back without a restart. */
static void
test_reject_fault (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autofree char *url1 = NULL, *url2 = NULL;
  g_autofree char *err = NULL;
  g_autofree char *p1 = NULL, *p2 = NULL, *code = NULL;
  RtsReader *reader = NULL;
  g_autoptr (JsonObject) h = NULL;

  g_assert_nonnull (s);
  if (!ts_have_program ("ffmpeg")) {
    g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
    ts_server_free (s);
    return;
  }
  url1 = ts_rtsp_url (s, 0);
  url2 = ts_rtsp_url (s, 1);
  p1 = g_strdup_printf ("/health/%u", s->rtsp_ports[0]);
  p2 = g_strdup_printf ("/health/%u", s->rtsp_ports[1]);
  g_assert_true (wait_status (s, "/health/ready", 200, 5));

  /* Playing before the faults: its PLAY answered (an ffmpeg reader was
   * counted at its SETUP, and on a busy machine its PLAY came after the
   * fault, which answered it 503). */
  {
    g_autoptr (GError) error = NULL;
    reader = rts_reader_play (s->rtsp_ports[2], "/stream", RTS_READER_TCP, 10,
        &error);
    g_assert_no_error (error);
    rts_reader_start_thread (reader);
  }

  g_assert_cmpuint (fault (s, "POST", "cam1",
                        "{\"type\":\"reject\",\"status\":401}", TOKEN),
      ==, 200);
  g_assert_cmpuint (fault (s, "POST", "cam2", "{\"type\":\"reject\"}", TOKEN),
      ==, 200);
  g_assert_cmpuint (fault (s, "POST", "cam3", "{\"type\":\"reject\"}", TOKEN),
      ==, 200);
  g_assert_true (ts_server_wait_log (s, "reject (401 Unauthorized)", 1, 1));
  g_assert_true (
      ts_server_wait_log (s, "reject (503 Service Unavailable)", 2, 1));

  /* Within one probe interval (0.5 s) and then some for a busy machine. */
  g_assert_true (wait_status (s, p1, 503, 3));
  g_assert_true (wait_status (s, p2, 503, 3));
  g_assert_true (wait_status (s, "/health", 503, 3));
  g_assert_cmpuint (get_status (s, "/health/live"), ==, 200);
  g_assert_cmpuint (get_status (s, "/health/ready"), ==, 503);
  code = port_member (s, 0, "rtsp_status");
  g_assert_cmpstr (code, ==, "401");
  g_clear_pointer (&code, g_free);
  code = port_member (s, 1, "rtsp_status");
  g_assert_cmpstr (code, ==, "503");
  h = ts_http_json (s->http_port, "/health", NULL);
  g_assert_cmpstr (json_object_get_string_member (port_entry (h, 0), "fault"),
      ==, "reject");

  g_assert_cmpint (ffmpeg_status (url1, "tcp", &err), !=, 0);
  g_assert_nonnull (strstr (err, "401"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ffmpeg_status (url2, "tcp", &err), !=, 0);
  g_assert_nonnull (strstr (err, "503"));
  g_clear_pointer (&err, g_free);

  /* The reader that was playing before goes on receiving. */
  {
    RtsReaderStats st0, st1;
    g_clear_pointer (&h, json_object_unref);
    h = ts_http_json (s->http_port, "/health", NULL);
    g_assert_cmpint (json_object_get_int_member (port_entry (h, 2), "readers"),
        ==, 1);
    rts_reader_stats (reader, &st0);
    g_usleep (G_USEC_PER_SEC);
    rts_reader_stats (reader, &st1);
    g_assert_null (rts_reader_error (reader));
    g_assert_cmpuint (st1.frames, >=, st0.frames + 15);
    g_clear_pointer (&h, json_object_unref);
    h = ts_http_json (s->http_port, "/health", NULL);
    g_assert_cmpint (json_object_get_int_member (port_entry (h, 2), "readers"),
        ==, 1);
  }

  for (guint i = 1; i <= 3; i++) {
    g_autofree char *cam = g_strdup_printf ("cam%u", i);
    g_assert_cmpuint (fault (s, "DELETE", cam, NULL, TOKEN), ==, 200);
  }
  g_assert_true (wait_status (s, "/health/ready", 200, 5));
  g_assert_cmpuint (ts_ffmpeg_frames (url1, "tcp", 10, 640, 480), ==, 10);
  g_assert_cmpuint (ts_ffmpeg_frames (url2, "udp", 10, 640, 480), ==, 10);
  rts_reader_close (reader, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* The slow fault: a client's requests are answered that much late, one
 * at a time, and it plays; /health/PORT stays 200 while the probe's
 * answer comes within the probe timeout, turns 503 once it does not, and
 * is back as soon as the fault is cleared (the held answer goes then, not
 * at its time). A reader already playing goes on receiving every frame
 * meanwhile: packets do not wait on answers. */
static void
test_slow_fault (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autoptr (GError) err = NULL;
  g_autofree char *p1 = NULL, *error = NULL;
  RtsReader *playing, *late;
  RtsReaderStats st;
  guint64 frames;
  gint64 t0;
  double took;

  g_assert_nonnull (s);
  p1 = g_strdup_printf ("/health/%u", s->rtsp_ports[0]);
  playing =
      rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
  g_assert_no_error (err);
  rts_reader_start_thread (playing);

  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"slow\",\"ms\":300}",
                        TOKEN),
      ==, 200);
  g_assert_true (
      ts_server_wait_log (s, "slow (every answer 300 ms late)", 1, 2));
  t0 = g_get_monotonic_time ();
  late =
      rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
  g_assert_no_error (err);
  took = (g_get_monotonic_time () - t0) / 1e6;
  g_test_message ("OPTIONS to PLAY with every answer 300 ms late: %.2f s",
      took);
  /* Four answers, each held; the probes' answers wait their turn too. */
  g_assert_cmpfloat (took, >=, 1.2);
  g_assert_true (rts_reader_receive (late, 30, 10));
  rts_reader_close (late, RTS_VANISH_CLOSE);
  g_assert_cmpuint (get_status (s, p1), ==, 200);

  /* Past the probe timeout (2 s). */
  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"slow\",\"ms\":8000}",
                        TOKEN),
      ==, 200);
  g_assert_true (wait_status (s, p1, 503, 5));
  {
    g_autoptr (JsonObject) h = ts_http_json (s->http_port, "/health", NULL);
    error =
        g_strdup (json_object_get_string_member (port_entry (h, 0), "error"));
    g_test_message ("cam1's probe: %s", error);
    g_assert_nonnull (strstr (error, "probe timeout"));
  }
  g_assert_cmpuint (get_status (s, "/health"), ==, 200); /* 3 of 4 answer */
  rts_reader_stats (playing, &st);
  frames = st.frames;
  g_usleep (500 * 1000);
  rts_reader_stats (playing, &st);
  g_assert_cmpuint (st.frames, >=, frames + 10);
  g_assert_cmpuint (st.lost, ==, 0);

  t0 = g_get_monotonic_time ();
  g_assert_cmpuint (fault (s, "DELETE", "cam1", NULL, TOKEN), ==, 200);
  g_assert_true (wait_status (s, p1, 200, 5));
  took = (g_get_monotonic_time () - t0) / 1e6;
  g_test_message ("cleared; /health/PORT 200 again after %.3f s", took);
  g_assert_cmpfloat (took, <, 2);
  rts_reader_close (playing, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* A slow fault past the probe timeout: each probe hangs up on its
 * request, whose answer then goes at once instead of in turn, so a
 * reader's request waits its own delay and at most one probe's, not one
 * per probe since the fault began (an OPTIONS 40 s into a 5,000 ms fault
 * took 25 s, before). Here probes give up after 0.5 s, about one a second,
 * and answers are 3 s late: after 6 s, holding every abandoned request
 * would keep a new OPTIONS waiting past the check's 8 s. */
static void
test_slow_fault_probes (void)
{
  const char *args[] = { "--control-token=" TOKEN, "--probe-timeout=0.5",
    NULL };
  TsServer *s = ts_server_start (args);
  g_autofree char *p1 = NULL, *port = NULL, *err = NULL, *said = NULL;
  double took = 0;
  int status;

  g_assert_nonnull (s);
  p1 = g_strdup_printf ("/health/%u", s->rtsp_ports[0]);
  port = g_strdup_printf ("%u", s->rtsp_ports[0]);
  g_assert_cmpuint (fault (s, "POST", "cam1", "{\"type\":\"slow\",\"ms\":3000}",
                        TOKEN),
      ==, 200);
  g_assert_true (wait_status (s, p1, 503, 5));
  g_usleep (6 * G_USEC_PER_SEC);
  {
    const char *argv[] = { ts_health_check_path (), "--rtsp-ports", port,
      "--timeout", "8", NULL };
    g_autoptr (GBytes) out = NULL;
    status = ts_run (argv, 20, &out, &err, &took);
    said = g_strstrip (ts_bytes_text (out));
  }
  g_test_message ("OPTIONS 6 s into a 3,000 ms fault, probes abandoning "
                  "theirs: answered in %.2f s (%s%s)",
      took, said, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpfloat (took, >=, 3);
  g_assert_cmpuint (fault (s, "DELETE", "cam1", NULL, TOKEN), ==, 200);
  g_assert_true (wait_status (s, p1, 200, 5));
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* The gst-launch verdict of these tests (ts_gst_played) fails a play the
 * server cut short: rtspsrc ends a stream whose connection the server
 * closed with EOS and exit 0, as if its sinks had their buffers. */
static void
test_gst_verdict (void)
{
  TsServer *s = ts_server_start (control_args);
  g_autofree char *url = NULL, *location = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GSubprocess) gst = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (s);
  if (!ts_have_program ("gst-launch-1.0")) {
    g_test_skip ("needs gst-launch-1.0");
    g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
    ts_server_free (s);
    return;
  }
  url = ts_rtsp_url (s, 0);
  location = g_strdup_printf ("location=%s", url);
  {
    /* 300 frames: 10 s, cut after the first second. */
    const char *argv[] = { "timeout", "-s", "KILL", "30", "gst-launch-1.0",
      "rtspsrc", location, "protocols=tcp", "!", "decodebin", "!", "fakesink",
      "num-buffers=300", NULL };
    gst = ts_spawn (argv,
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
        &error);
    g_assert_no_error (error);
  }
  g_assert_true (
      ts_server_wait_log (s, "reader connected: camera cam1", 1, 10));
  g_usleep (G_USEC_PER_SEC);
  g_assert_cmpuint (fault (s, "POST", "cam1",
                        "{\"type\":\"disconnect\",\"mode\":\"close\"}", TOKEN),
      ==, 200);
  g_assert_true (
      g_subprocess_communicate_utf8 (gst, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_test_message ("gst-launch, its connection closed by the server: exit %d; "
                  "%s",
      g_subprocess_get_exit_status (gst),
      strstr (out, "Got EOS") ? "EOS" : "no EOS");
  /* What an EOS-only verdict would have passed... */
  g_assert_nonnull (strstr (out, "Got EOS from element \"pipeline0\""));
  /* ...and this one does not. */
  g_assert_false (ts_gst_played (out, err));
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static double
camera_metric (TsServer *s, const char *name, guint cam)
{
  g_autoptr (GHashTable) samples = scrape (s);
  return metric (samples, name, s, cam);
}

/* Limits: one more reader than a camera (or the process) takes gets 453
 * and is counted; a connection that sets up nothing is closed after the
 * idle timeout, a reader is not. */
/* A reader is a connection holding a session: one that tore its session
 * down and stayed open is no reader any more, so a camera limited to one
 * reader takes the next, and the idle connection is closed after the
 * idle timeout. It once kept its reader's place for as long as it stayed
 * open, and the next reader got 453. */
static void
test_reader_ends_with_session (void)
{
  const char *args[] = { "--max-readers-per-camera=1", "--idle-timeout=1",
    NULL };
  TsServer *s = ts_server_start (args);
  g_autoptr (GError) err = NULL;
  RtsReader *a, *b;

  g_assert_nonnull (s);
  a = rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
  g_assert_no_error (err);
  g_assert_true (rts_reader_receive (a, 10, 10));
  b = rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
  g_assert_null (b);
  g_assert_nonnull (strstr (err->message, "453"));
  g_clear_error (&err);

  g_assert_cmpint (rts_reader_teardown (a, 10), ==, 200);
  g_assert_true (ts_server_wait_log (s, ": its session", 1, 5));
  g_assert_cmpfloat (camera_metric (s, "readers", 0), ==, 0);
  b = rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
  g_assert_no_error (err);
  g_assert_true (rts_reader_receive (b, 10, 10));
  g_assert_cmpfloat (camera_metric (s, "readers", 0), ==, 1);
  /* The connection that is no reader is idle again. */
  g_assert_true (rts_reader_wait_closed (a, 5));
  g_assert_true (ts_server_wait_log (s, "no session after 1 s", 1, 1));
  rts_reader_close (a, RTS_VANISH_CLOSE);
  rts_reader_close (b, RTS_VANISH_TEARDOWN);
  g_assert_true (ts_server_wait_log (s, "reader disconnected",
      ts_server_log_count (s, "reader connected"), 5));
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static void
test_limits (void)
{
  const char *args[] = { "--max-readers-per-camera=1", "--max-readers=2",
    "--idle-timeout=1", NULL };
  TsServer *s = ts_server_start (args);
  g_autoptr (GSubprocess) r1 = NULL, r2 = NULL;
  g_autofree char *url1 = NULL, *url2 = NULL, *url3 = NULL, *err = NULL;

  g_assert_nonnull (s);
  if (!ts_have_program ("ffmpeg"))
    goto out;
  url1 = ts_rtsp_url (s, 0);
  url2 = ts_rtsp_url (s, 1);
  url3 = ts_rtsp_url (s, 2);
  {
    const char *a1[] = { "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport",
      "tcp", "-i", url1, "-t", "30", "-f", "null", "-", NULL };
    const char *a2[] = { "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport",
      "udp", "-i", url2, "-t", "30", "-f", "null", "-", NULL };
    r1 = ts_spawn (a1, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
    g_assert_true (
        ts_server_wait_log (s, "reader connected: camera cam1", 1, 10));
    r2 = ts_spawn (a2, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
    g_assert_true (
        ts_server_wait_log (s, "reader connected: camera cam2", 1, 10));
  }
  /* cam1 has its one reader; the process has its two. */
  g_assert_cmpint (ffmpeg_status (url1, "tcp", &err), !=, 0);
  g_assert_nonnull (strstr (err, "453"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ffmpeg_status (url3, "udp", &err), !=, 0);
  g_assert_nonnull (strstr (err, "453"));
  g_assert_true (
      ts_server_wait_log (s, "refused: max-readers-per-camera (1)", 1, 2));
  g_assert_true (ts_server_wait_log (s, "refused: max-readers (2)", 1, 2));
  g_assert_cmpfloat (camera_metric (s, "refused_total", 0), ==, 1);
  g_assert_cmpfloat (camera_metric (s, "refused_total", 2), ==, 1);

  /* A silent connection is closed after about a second; the readers,
   * connected for longer than that, are not. */
  {
    g_autoptr (GSocketClient) c = g_socket_client_new ();
    g_autoptr (GSocketConnection) conn = g_socket_client_connect_to_host (c,
        "127.0.0.1", s->rtsp_ports[3], NULL, NULL);
    char byte;
    gint64 t0 = g_get_monotonic_time ();
    GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
    g_assert_nonnull (conn);
    g_assert_cmpint (g_input_stream_read (in, &byte, 1, NULL, NULL), ==, 0);
    g_test_message ("idle connection closed after %.2f s",
        (g_get_monotonic_time () - t0) / 1e6);
    g_assert_cmpfloat ((g_get_monotonic_time () - t0) / 1e6, <, 5);
  }
  g_assert_cmpfloat (camera_metric (s, "idle_closed_total", 3), >=, 1);
  g_assert_nonnull (g_subprocess_get_identifier (r1)); /* still playing */
  g_assert_nonnull (g_subprocess_get_identifier (r2));
  g_assert_cmpfloat (camera_metric (s, "readers", 0), ==, 1);
  g_subprocess_force_exit (r1);
  g_subprocess_force_exit (r2);
  g_subprocess_wait (r1, NULL, NULL);
  g_subprocess_wait (r2, NULL, NULL);
out:
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* A hung loop (the process stopped) fails the liveness check within the
 * check's own timeout, and passes again once it runs. */
static void
test_hung_loop (void)
{
  TsServer *s = ts_server_start (NULL);
  double elapsed = 0;
  g_autofree char *url = NULL;

  g_assert_nonnull (s);
  url = g_strdup_printf ("--url=http://127.0.0.1:%u/", s->http_port);
  {
    const char *argv[] = { url, "--live", "--timeout=1", NULL };
    g_assert_cmpint (health_check (argv, 10, NULL), ==, 0);
    g_subprocess_send_signal (s->proc, SIGSTOP);
    g_assert_cmpint (health_check (argv, 10, &elapsed), ==, 1);
    g_test_message ("--live against a stopped server: exit 1 after %.2f s",
        elapsed);
    g_assert_cmpfloat (elapsed, <, 1.5);
    g_subprocess_send_signal (s->proc, SIGCONT);
    g_assert_cmpint (health_check (argv, 10, NULL), ==, 0);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* --log-format json: every line one JSON object with time, level, msg;
 * health transitions included. */
static void
test_json_logs (void)
{
  const char *args[] = { "--log-format=json", "--control-token=" TOKEN, NULL };
  TsServer *s = ts_server_start (args);
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  g_assert_nonnull (s);
  g_assert_cmpuint (fault (s, "POST", "cam4", "{\"type\":\"close-port\"}",
                        TOKEN),
      ==, 200);
  g_assert_true (ts_server_wait_log (s, "is down", 1, 5));
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  g_mutex_lock (&s->lock);
  lines = g_strsplit (s->log->str, "\n", -1);
  g_mutex_unlock (&s->lock);
  for (guint i = 0; lines[i]; i++) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonObject *o;

    if (!*lines[i])
      continue;
    if (!json_parser_load_from_data (parser, lines[i], -1, NULL))
      g_error ("not JSON: line %u: '%s' (before it: '%s'; after it: '%s')",
          i + 1, lines[i], i ? lines[i - 1] : "",
          lines[i + 1] ? lines[i + 1] : "(the end)");
    o = json_node_get_object (json_parser_get_root (parser));
    g_assert_nonnull (json_object_get_string_member (o, "time"));
    g_assert_nonnull (json_object_get_string_member (o, "level"));
    g_assert_nonnull (json_object_get_string_member (o, "msg"));
    n++;
  }
  g_assert_cmpuint (n, >=, 8);
  g_assert_cmpuint (ts_server_log_count (s, "assertion"), ==, 0);
  g_assert_true (
      ts_server_wait_log (s, "\"msg\":\"readiness: not ready", 1, 0));
  ts_server_free (s);
}

static void
test_bad_flags (void)
{
  const char *bin = g_getenv ("RTS_SERVER");
  struct {
    const char *arg;
    const char *mention;
  } cases[] = {
    { "--http-port=abc", "--http-port" },
    { "--http-port=70000", "70000" },
    { "--rtsp-ports=8554,8554", "8554" },
    { "--rtsp-ports=8554,x", "'x'" },
    { "--no-such-flag", "--no-such-flag" },
    { "--bind=not-an-ip", "not-an-ip" },
    { "--probe-timeout=0", "--probe-timeout" },
    { "--healthy-threshold=5", "--healthy-threshold" },
    { "--width=641", "641" },
    { "--log-format=xml", "--log-format" },
    { "stray", "stray" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const char *argv[] = { bin, cases[i].arg, NULL };
    g_autofree char *err = NULL;
    int status = ts_run (argv, 10, NULL, &err, NULL);
    g_test_message ("%s -> %d: %s", cases[i].arg, status, err);
    g_assert_cmpint (status, ==, 2);
    g_assert_nonnull (strstr (err, cases[i].mention));
    /* One line, and it says who we are. */
    g_assert_true (g_str_has_prefix (err, "rtsp-test-server: "));
    g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
  }

  const char *missing[] = { bin, "--http-port", NULL };
  g_autofree char *err = NULL;
  g_assert_cmpint (ts_run (missing, 10, NULL, &err, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "needs a value"));

  /* With JSON logs asked for, the error is a JSON log line too: a
   * collector that parses every line files it as an error. */
  const char *json[] = { bin, "--log-format=json", "--http-port=abc", NULL };
  g_autofree char *jerr = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;
  g_assert_cmpint (ts_run (json, 10, NULL, &jerr, NULL), ==, 2);
  g_test_message ("JSON: %s", jerr);
  g_assert_true (strchr (jerr, '\n') == jerr + strlen (jerr) - 1);
  g_assert_true (json_parser_load_from_data (parser, jerr, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "level"), ==, "error");
  g_assert_nonnull (json_object_get_string_member (o, "time"));
  g_assert_cmpstr (json_object_get_string_member (o, "msg"), ==,
      "configuration: --http-port: bad value 'abc': expects a whole number "
      "from 0 to 65535");
}

static void
test_help_version (void)
{
  const char *bin = g_getenv ("RTS_SERVER");
  const char *help[] = { bin, "--help", NULL };
  const char *version[] = { bin, "--version", NULL };
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) vout = NULL;

  g_assert_cmpint (ts_run (help, 10, &out, NULL, NULL), ==, 0);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (out, NULL),
      g_bytes_get_size (out), "--rtsp-ports"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (out, NULL),
      g_bytes_get_size (out), "RTSP_TEST_SERVER_HTTP_PORT"));
  g_assert_cmpint (ts_run (version, 10, &vout, NULL, NULL), ==, 0);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (vout, NULL),
      g_bytes_get_size (vout), "rtsp-test-server " RTS_VERSION));
}

static void
check_port_in_use (gboolean http)
{
  guint busy;
  /* Held open for the test: the port stays taken. */
  G_GNUC_UNUSED g_autoptr (GSocket) sock = ts_silent_listener (&busy);
  g_autofree char *flag = http
      ? g_strdup_printf ("--http-port=%u", busy)
      : g_strdup_printf ("--rtsp-ports=0,%u,0,0", busy);
  const char *argv[] = { g_getenv ("RTS_SERVER"), "--bind=127.0.0.1",
    "--rtsp-ports=0,0,0,0", "--http-port=0", flag, NULL };
  g_autofree char *err = NULL;
  g_autofree char *port = g_strdup_printf ("port %u", busy);
  double elapsed;

  g_assert_cmpint (ts_run (argv, 10, NULL, &err, &elapsed), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, port));
  g_assert_nonnull (strstr (err, http ? "HTTP" : "camera cam2"));
  /* Nothing was served: no camera was announced. */
  g_assert_null (strstr (err, "ready on port"));
}

static void
test_port_in_use (void)
{
  check_port_in_use (FALSE);
  check_port_in_use (TRUE);
}

/* A loopback TCP port free now, for a server given it before it starts. */
static guint
free_tcp_port (void)
{
  g_autoptr (GSocket) probe =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  guint port;

  g_assert_true (g_socket_bind (probe, any, FALSE, NULL));
  bound = g_socket_get_local_address (probe, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (probe, NULL);
  return port;
}

/* Port entry I of a /health answer from PORT (NULL until it answers). */
static JsonObject *
health_port (guint port, guint i, guint *status)
{
  g_autoptr (JsonObject) h = ts_http_json (port, "/health", status);

  if (!h)
    return NULL;
  return json_object_ref (
      json_array_get_object_element (json_object_get_array_member (h, "ports"),
          i));
}

/* One start for test_fault_while_starting: a hang-port fault injected
 * into cam1 as soon as the API answers, and cleared from cam2 right after
 * one was injected there; TRUE if both landed while the cameras still
 * warmed up (cam2 without video after the clear), else FALSE, and the
 * caller tries again. 1080p loop clips made anew (no cache) keep the
 * cameras warming up for a second or so. */
static gboolean
fault_while_starting (void)
{
  guint http = free_tcp_port ();
  g_autofree char *port_arg = g_strdup_printf ("--http-port=%u", http);
  const char *argv[] = { g_getenv ("RTS_SERVER"), "--bind=127.0.0.1", port_arg,
    "--rtsp-ports=0,0", "--control-token=" TOKEN, "--clip-cache=none",
    "--width=1920", "--height=1080", "--probe-timeout=0.5",
    "--probe-interval=0.2", NULL };
  g_autoptr (GError) err = NULL;
  g_autoptr (GSubprocess) p =
      ts_spawn (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, &err);
  const char *hdr[] = { "Authorization", "Bearer " TOKEN, NULL };
  const char *path1 = "/control/cameras/cam1/faults";
  const char *path2 = "/control/cameras/cam2/faults";
  g_autoptr (JsonObject) cam2 = NULL;
  gboolean landed = FALSE;
  guint status = 0;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_assert_no_error (err);
  while (ts_http (http, "GET", "/health/live", NULL, NULL, NULL, NULL) != 200
      && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_assert_cmpuint (ts_http (http, "POST", path1, hdr,
                        "{\"type\":\"hang-port\"}", NULL, NULL),
      ==, 200);
  g_assert_cmpuint (ts_http (http, "POST", path2, hdr,
                        "{\"type\":\"close-port\"}", NULL, NULL),
      ==, 200);
  g_assert_cmpuint (ts_http (http, "DELETE", path2, hdr, NULL, NULL, NULL), ==,
      200);
  cam2 = health_port (http, 1, &status);
  g_assert_nonnull (cam2);
  /* No video yet: the clear came during the warm-up, and the port waits
   * for the start. Before the fix, it opened at once, video or not. */
  landed = json_object_get_null_member (cam2, "video_age_seconds");
  g_test_message ("cam2 after the clear: listen %s, %s",
      json_object_get_string_member (cam2, "listen"),
      landed ? "no video yet" : "video");
  if (landed)
    g_assert_cmpstr (json_object_get_string_member (cam2, "listen"), ==,
        "starting");

  /* Once started: cam1 hangs as asked (before the fix the start opened
   * it: listen "open" beside fault "hang-port", and it answered), cam2
   * answers. The server's own probes say which answer RTSP. */
  while (landed && g_get_monotonic_time () < end) {
    g_autoptr (JsonObject) c1 = health_port (http, 0, &status);
    g_autoptr (JsonObject) c2 = health_port (http, 1, &status);
    const char *l1 = c1 ? json_object_get_string_member (c1, "listen") : "";

    if (!c1 || !c2 || g_str_equal (l1, "starting")
        || g_str_equal (json_object_get_string_member (c2, "listen"),
            "starting")
        || json_object_get_null_member (c1, "checked_at")
        || json_object_get_null_member (c2, "checked_at")) {
      g_usleep (10000);
      continue;
    }
    g_test_message ("cam1: listen %s, error %s; cam2: listen %s, status %s", l1,
        json_object_get_string_member (c1, "error"),
        json_object_get_string_member (c2, "listen"),
        json_object_get_null_member (c2, "rtsp_status") ? "null" : "200");
    g_assert_cmpstr (l1, ==, "hung");
    g_assert_cmpstr (json_object_get_string_member (c1, "fault"), ==,
        "hang-port");
    g_assert_false (json_object_get_boolean_member (c1, "healthy"));
    g_assert_cmpstr (json_object_get_string_member (c2, "listen"), ==, "open");
    g_assert_true (json_object_get_null_member (c2, "fault"));
    if (json_object_get_boolean_member (c2, "healthy"))
      break;
    g_usleep (10000);
  }
  g_assert_cmpint (g_get_monotonic_time (), <, end);
  g_subprocess_send_signal (p, SIGTERM);
  g_assert_true (g_subprocess_wait (p, NULL, NULL));
  return landed;
}

/* A fault injected or cleared while the cameras warm up (the HTTP API
 * answers from the first moment) takes effect when the ports start.
 * Started again until the faults landed in the warm-up. */
static void
test_fault_while_starting (void)
{
  guint attempt = 0;

  while (!fault_while_starting ())
    g_assert_cmpuint (++attempt, <, 5);
}

/* One start of a server for test_health_while_starting: the port entries
 * seen "starting" are added to *STARTING. Returns when no port is starting
 * any more. */
static void
start_and_watch (guint *starting)
{
  guint port = free_tcp_port ();
  g_autofree char *port_arg = g_strdup_printf ("--http-port=%u", port);
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) err = NULL;
  guint answers = 0;
  gint64 end;

  {
    const char *argv[] = { g_getenv ("RTS_SERVER"), "--bind=127.0.0.1",
      port_arg, "--rtsp-ports=0,0", "--source=live", NULL };
    p = ts_spawn (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, &err);
  }
  g_assert_no_error (err);
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    guint status = 0, now_starting = 0;
    g_autoptr (JsonObject) h = ts_http_json (port, "/health", &status);
    JsonArray *ports;

    if (!h) {
      g_usleep (1000);
      continue;
    }
    answers++;
    ports = json_object_get_array_member (h, "ports");
    for (guint i = 0; i < json_array_get_length (ports); i++) {
      JsonObject *pt = json_array_get_object_element (ports, i);
      const char *listen = json_object_get_string_member (pt, "listen");

      /* "hung" is a hang-port fault's, and none is injected here. */
      g_assert_cmpstr (listen, !=, "hung");
      if (!g_str_equal (listen, "starting"))
        continue;
      now_starting++;
      g_assert_cmpuint (status, ==, 503);
      g_assert_false (json_object_get_boolean_member (pt, "streaming"));
      g_assert_true (json_object_get_null_member (pt, "video_age_seconds"));
      g_assert_true (json_object_get_null_member (pt, "probe_latency_ms"));
      g_assert_true (json_object_get_null_member (pt, "rtsp_status"));
    }
    *starting += now_starting;
    if (!now_starting)
      break;
  }
  g_assert_cmpuint (answers, >, 0);
  g_subprocess_send_signal (p, SIGTERM);
  g_assert_true (g_subprocess_wait (p, NULL, NULL));
}

/* /health while the cameras warm up (it answers from the first moment,
 * and must not make up what it has not seen): a port not yet answering
 * is "starting", not "hung" (that is a hang-port fault); no camera is
 * "streaming" before its first video, and what was not measured yet is
 * null; the status is 503 until every port answers. Polled as fast as it
 * answers from the spawn on; live cameras, whose encoders take the
 * longest to start, widen the window, and the start is tried again until
 * the window was seen, so that the checks above ran. Before the fix:
 * "hung", streaming true with a video age of a few ms, probe latency
 * 0.0. */
static void
test_health_while_starting (void)
{
  guint starting = 0;

  for (guint attempt = 0; attempt < 5 && !starting; attempt++)
    start_and_watch (&starting);
  g_test_message ("%u port entries seen starting", starting);
  g_assert_cmpuint (starting, >, 0);
}

static void
test_env_config (void)
{
  const char *argv[] = { g_getenv ("RTS_SERVER"), "--rtsp-ports=0,0", NULL };
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GBytes) err = NULL;

  /* A bad value from the environment names the variable. */
  g_subprocess_launcher_setenv (l, "RTSP_TEST_SERVER_HTTP_PORT", "eighty",
      TRUE);
  p = g_subprocess_launcher_spawnv (l, argv, NULL);
  g_subprocess_communicate (p, NULL, NULL, NULL, &err, NULL);
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 2);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (err, NULL),
      g_bytes_get_size (err), "RTSP_TEST_SERVER_HTTP_PORT"));
}

/* Sockets of PID in /proc/PID/net/FILE (tcp, tcp6, udp, udp6): for each,
 * "HEXADDR:HEXPORT STATE" is added to OUT when the inode is one of PID's. */
static void
proc_sockets (GPid pid, GHashTable *inodes, const char *file, GPtrArray *out)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/net/%s", (int) pid, file);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++) {
    g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
    g_autoptr (GPtrArray) col = g_ptr_array_new ();
    for (guint j = 0; f[j]; j++)
      if (*f[j])
        g_ptr_array_add (col, f[j]);
    /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
    if (col->len > 9 && g_hash_table_contains (inodes, col->pdata[9]))
      g_ptr_array_add (out,
          g_strdup_printf ("%s %s %s", file, (char *) col->pdata[1],
              (char *) col->pdata[3]));
  }
}

/* Every socket PID holds, as "FILE HEXADDR:HEXPORT STATE" lines. */
static GPtrArray *
sockets_of (GPid pid)
{
  g_autofree char *fds = g_strdup_printf ("/proc/%d/fd", (int) pid);
  g_autoptr (GDir) dir = g_dir_open (fds, 0, NULL);
  g_autoptr (GHashTable) inodes =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *link = g_build_filename (fds, name, NULL);
    g_autofree char *target = g_file_read_link (link, NULL);
    if (target && g_str_has_prefix (target, "socket:["))
      g_hash_table_add (inodes, g_strndup (target + 8, strlen (target) - 9));
  }
  proc_sockets (pid, inodes, "tcp", out);
  proc_sockets (pid, inodes, "tcp6", out);
  proc_sockets (pid, inodes, "udp", out);
  proc_sockets (pid, inodes, "udp6", out);
  return out;
}

/* Nothing listens that the configuration did not ask for: TCP listeners
 * are exactly the RTSP ports and the HTTP port, on the bind address
 * (127.0.0.1 = 0100007F); UDP sockets exist only for cameras that offer
 * UDP (two per family per stream: gst-rtsp-server binds them to every
 * address, for readers' RTCP; README, security). */
static void
test_listeners (void)
{
  for (guint round = 0; round < 2; round++) {
    const char *args[] = { round ? "--transports=tcp" : NULL, NULL };
    TsServer *s = ts_server_start (round ? args : NULL);
    g_autoptr (GPtrArray) socks = NULL;
    g_autoptr (GPtrArray) want = g_ptr_array_new_with_free_func (g_free);
    guint listening = 0, udp = 0;

    g_assert_nonnull (s);
    for (guint i = 0; i < 4; i++)
      g_ptr_array_add (want,
          g_strdup_printf ("tcp 0100007F:%04X 0A", s->rtsp_ports[i]));
    g_ptr_array_add (want,
        g_strdup_printf ("tcp 0100007F:%04X 0A", s->http_port));
    socks = sockets_of (ts_pid_of (s->proc));
    for (guint i = 0; i < socks->len; i++) {
      const char *line = socks->pdata[i];
      if (g_str_has_suffix (line, " 0A")) {
        listening++;
        if (!g_ptr_array_find_with_equal_func (want, line, g_str_equal, NULL))
          g_error ("listening, and not asked for: %s", line);
      }
      udp += g_str_has_prefix (line, "udp");
    }
    g_test_message ("%s: %u TCP listeners, %u UDP sockets",
        round ? "--transports=tcp" : "defaults", listening, udp);
    g_assert_cmpuint (listening, ==, 5);
    if (round)
      g_assert_cmpuint (udp, ==, 0);
    else
      g_assert_cmpuint (udp, <=, 4 * 2 * 2);
    g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
    ts_server_free (s);
  }
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/health-ok", test_health_ok);
  g_test_add_func ("/server/rtsp-urls", test_rtsp_urls);
  g_test_add_func ("/server/rtsp-urls-host", test_rtsp_urls_host);
  g_test_add_func ("/server/rtsp-urls-request-host",
      test_rtsp_urls_request_host);
  g_test_add_func ("/server/public-host", test_public_host);
  g_test_add_func ("/server/play-ffmpeg-tcp", test_play_tcp);
  g_test_add_func ("/server/play-ffmpeg-udp", test_play_udp);
  g_test_add_func ("/server/play-gst-tcp", test_gst_tcp);
  g_test_add_func ("/server/play-gst-udp", test_gst_udp);
  g_test_add_func ("/server/gst-verdict", test_gst_verdict);
  g_test_add_func ("/server/readers", test_readers);
  g_test_add_func ("/server/concurrent-readers", test_concurrent_readers);
  g_test_add_func ("/server/probes-never-disturb", test_probes_never_disturb);
  g_test_add_func ("/server/metrics", test_metrics);
  g_test_add_func ("/server/http-errors", test_http_errors);
  g_test_add_func ("/server/http-on-rtsp-port", test_http_on_rtsp_port);
  g_test_add_func ("/server/index", test_index);
  g_test_add_func ("/server/snapshots", test_snapshots);
  g_test_add_func ("/server/index-browser", test_index_browser);
  g_test_add_func ("/server/health-follows-ports", test_health_follows_ports);
  g_test_add_func ("/server/fault-expires", test_fault_expires);
  g_test_add_func ("/server/live-ready-port", test_live_ready_port);
  g_test_add_func ("/server/fault-conflict", test_fault_conflict);
  g_test_add_func ("/server/fault-probed-at-once", test_fault_probed_at_once);
  g_test_add_func ("/server/control-auth", test_control_auth);
  g_test_add_func ("/server/sigterm-with-readers", test_sigterm_with_readers);
  g_test_add_func ("/server/sigterm-pipelined", test_sigterm_pipelined);
  g_test_add_func ("/server/json-logs", test_json_logs);
  g_test_add_func ("/server/fault-while-starting", test_fault_while_starting);
  g_test_add_func ("/server/hung-loop", test_hung_loop);
  g_test_add_func ("/server/more-faults", test_more_faults);
  g_test_add_func ("/server/reject-fault", test_reject_fault);
  g_test_add_func ("/server/slow-fault", test_slow_fault);
  g_test_add_func ("/server/slow-fault-probes", test_slow_fault_probes);
  g_test_add_func ("/server/limits", test_limits);
  g_test_add_func ("/server/methods", test_methods);
  g_test_add_func ("/server/reader-ends-with-session",
      test_reader_ends_with_session);
  g_test_add_func ("/server/listeners", test_listeners);
  g_test_add_func ("/server/bad-flags", test_bad_flags);
  g_test_add_func ("/server/help-version", test_help_version);
  g_test_add_func ("/server/port-in-use", test_port_in_use);
  g_test_add_func ("/server/env-config", test_env_config);
  g_test_add_func ("/server/health-while-starting", test_health_while_starting);

  shared = ts_server_start (NULL);
  g_assert_nonnull (shared);
  rc = g_test_run ();
  g_assert_cmpint (ts_server_stop (shared, 10, NULL), ==, 0);
  ts_server_free (shared);
  return rc;
}
