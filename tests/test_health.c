/* Unit tests of health: aggregation and threshold, and the module's probe
 * rounds against real sockets on loopback. */
#include "health.h"
#include "probe.h"

#include <string.h>

static RtsPortHealth
port (gboolean probed, gboolean up)
{
  RtsPortHealth p = { 0 };
  p.probed = probed;
  p.up = up;
  return p;
}

static void
test_aggregate (void)
{
  RtsPortHealth four[4] = { port (1, 1), port (1, 1), port (1, 1),
    port (1, 1) };
  RtsHealthSummary s;

  s = rts_health_aggregate (four, 4, 3, FALSE);
  g_assert_true (s.healthy);
  g_assert_cmpuint (s.open_ports, ==, 4);
  g_assert_cmpuint (s.total_ports, ==, 4);
  g_assert_cmpuint (s.threshold, ==, 3);
  g_assert_nonnull (strstr (s.reason, "4 of 4"));

  four[1].up = FALSE;
  s = rts_health_aggregate (four, 4, 3, FALSE);
  g_assert_true (s.healthy);
  g_assert_cmpuint (s.open_ports, ==, 3);

  four[2].up = FALSE;
  s = rts_health_aggregate (four, 4, 3, FALSE);
  g_assert_false (s.healthy);
  g_assert_cmpuint (s.open_ports, ==, 2);
  g_assert_nonnull (strstr (s.reason, "2 of 4"));
  g_assert_nonnull (strstr (s.reason, "3 needed"));

  s = rts_health_aggregate (four, 4, 2, FALSE);
  g_assert_true (s.healthy);

  for (guint i = 0; i < 4; i++)
    four[i].up = FALSE;
  s = rts_health_aggregate (four, 4, 1, FALSE);
  g_assert_false (s.healthy);
  g_assert_cmpuint (s.open_ports, ==, 0);
}

static void
test_starting_and_stopping (void)
{
  RtsPortHealth four[4] = { port (1, 1), port (1, 1), port (1, 1),
    port (0, 0) };
  RtsHealthSummary s;

  /* Not every port probed yet: not healthy, whatever the others say. */
  s = rts_health_aggregate (four, 4, 3, FALSE);
  g_assert_false (s.healthy);
  g_assert_nonnull (strstr (s.reason, "starting"));
  g_assert_cmpuint (s.open_ports, ==, 3);

  four[3].probed = four[3].up = TRUE;
  s = rts_health_aggregate (four, 4, 3, TRUE);
  g_assert_false (s.healthy);
  g_assert_nonnull (strstr (s.reason, "shutting down"));
}

static void
test_ready (void)
{
  RtsPortHealth two[2] = { port (1, 1), port (1, 1) };
  char reason[160];

  two[0].streaming = two[1].streaming = TRUE;
  g_assert_true (
      rts_health_aggregate_ready (two, 2, FALSE, reason, sizeof reason));
  g_assert_nonnull (strstr (reason, "2 of 2 cameras stream"));
  g_assert_false (
      rts_health_aggregate_ready (two, 2, TRUE, reason, sizeof reason));
  g_assert_nonnull (strstr (reason, "shutting down"));

  /* Ready needs every camera: one stalled or one port down is enough. */
  two[1].streaming = FALSE;
  g_assert_false (
      rts_health_aggregate_ready (two, 2, FALSE, reason, sizeof reason));
  g_assert_nonnull (strstr (reason, "1 of 2 cameras stream"));
  two[1].streaming = TRUE;
  two[0].up = FALSE;
  g_assert_false (
      rts_health_aggregate_ready (two, 2, FALSE, reason, sizeof reason));
  g_assert_nonnull (strstr (reason, "1 of 2 ports answer"));
  two[0].up = TRUE;
  two[0].probed = FALSE;
  g_assert_false (
      rts_health_aggregate_ready (two, 2, FALSE, reason, sizeof reason));
  g_assert_nonnull (strstr (reason, "starting"));
}

/* A fake RTSP peer: answers ANSWER to whatever comes, or nothing. */
typedef struct {
  GSocketService *service;
  guint port;
  const char *answer;
  const char *describe;
} Peer;

/* Runs in the service's own thread: the probe under test shares the main
 * context with nothing but itself. */
/* Runs in the service's own thread: the probe under test shares the main
 * context with nothing but itself. Answers OPTIONS with the peer's answer
 * and DESCRIBE with the peer's SDP reply, until the probe hangs up. */
static gboolean
on_run (GThreadedSocketService *svc, GSocketConnection *conn, GObject *src,
    gpointer data)
{
  Peer *peer = data;
  char buf[1024];
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  gssize n;

  if (!peer->answer) {
    /* Hold the connection open, answer nothing: a hung server. */
    g_usleep (G_USEC_PER_SEC);
    return TRUE;
  }
  /* Each request fits one read on loopback. */
  while ((n = g_input_stream_read (in, buf, sizeof buf - 1, NULL, NULL)) > 0) {
    const char *reply;
    buf[n] = '\0';
    reply = g_str_has_prefix (buf, "DESCRIBE ") ? peer->describe : peer->answer;
    if (!reply)
      g_usleep (G_USEC_PER_SEC); /* answers OPTIONS, hangs on DESCRIBE */
    else
      g_output_stream_write_all (out, reply, strlen (reply), NULL, NULL, NULL);
  }
  return TRUE;
}

#define SDP_REPLY                                                              \
  "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n"            \
  "Content-Length: 46\r\n\r\nv=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\n"           \
  "a=x:yyyyyyyy\r\n"

static void
peer_start (Peer *peer, const char *answer)
{
  peer->answer = answer;
  if (!peer->describe)
    peer->describe = SDP_REPLY;
  peer->service = g_threaded_socket_service_new (4);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_assert_true (
      g_socket_listener_add_address (G_SOCKET_LISTENER (peer->service), sa,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound, NULL));
  peer->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (peer->service, "run", G_CALLBACK (on_run), peer);
  g_socket_service_start (peer->service);
}

static void
peer_stop (Peer *peer)
{
  g_socket_service_stop (peer->service);
  g_socket_listener_close (G_SOCKET_LISTENER (peer->service));
  g_clear_object (&peer->service);
}

typedef struct {
  gboolean done;
  gboolean ok;
  int status;
  double latency;
  char *error;
} Verdict;

static void
on_done (const RtsProbeResult *r, gpointer data)
{
  Verdict *v = data;
  g_assert_false (v->done); /* exactly once */
  v->done = TRUE;
  v->ok = r->ok;
  v->status = r->status;
  v->latency = r->latency;
  v->error = g_strdup (r->error);
}

static Verdict
probe (guint port, double timeout)
{
  Verdict v = { 0 };
  rts_probe_port ("127.0.0.1", port, "/stream", NULL, timeout, NULL, on_done,
      &v);
  while (!v.done)
    g_main_context_iteration (NULL, TRUE);
  /* Let the probe's last callbacks run: nothing may fire twice. */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  return v;
}

static void
test_probe_ok (void)
{
  Peer peer = { 0 };
  Verdict v;

  peer_start (&peer,
      "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, "
      "DESCRIBE\r\n\r\n");
  v = probe (peer.port, 2);
  g_assert_true (v.ok);
  g_assert_cmpint (v.status, ==, 200);
  g_assert_null (v.error);
  g_assert_cmpfloat (v.latency, <, 1);
  peer_stop (&peer);
}

static void
test_probe_not_200 (void)
{
  Peer peer = { 0 };
  Verdict v;

  peer_start (&peer, "RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n");
  v = probe (peer.port, 2);
  g_assert_false (v.ok);
  g_assert_cmpint (v.status, ==, 503);
  g_assert_nonnull (strstr (v.error, "503"));
  g_free (v.error);
  peer_stop (&peer);

  /* An HTTP server on an RTSP port is not a camera. */
  peer_start (&peer, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  v = probe (peer.port, 2);
  g_assert_false (v.ok);
  g_assert_cmpint (v.status, ==, -1);
  g_free (v.error);
  peer_stop (&peer);
}

/* OPTIONS alone is not enough: the mount and its video must be there. */
static void
test_probe_describe (void)
{
  const char *ok = "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n";
  Peer peer = { 0 };
  Verdict v;

  peer.describe = "RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n";
  peer_start (&peer, ok);
  v = probe (peer.port, 2);
  g_assert_false (v.ok);
  g_assert_cmpint (v.status, ==, 404);
  g_assert_nonnull (strstr (v.error, "DESCRIBE answered RTSP 404"));
  g_free (v.error);
  peer_stop (&peer);

  peer = (Peer){ 0 };
  peer.describe = "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 10\r\n\r\n"
                  "v=0\r\ns=x\r\n";
  peer_start (&peer, ok);
  v = probe (peer.port, 2);
  g_assert_false (v.ok);
  g_assert_nonnull (strstr (v.error, "no video"));
  g_free (v.error);
  peer_stop (&peer);

  /* Answers OPTIONS, then hangs on DESCRIBE: a stuck media. */
  peer = (Peer){ 0 };
  peer.describe = NULL;
  peer_start (&peer, ok);
  peer.describe = NULL;
  v = probe (peer.port, 0.3);
  g_assert_false (v.ok);
  g_assert_nonnull (strstr (v.error, "DESCRIBE"));
  g_assert_cmpfloat (v.latency, <, 1);
  g_free (v.error);
  peer_stop (&peer);
}

static void
test_probe_silent (void)
{
  Peer peer = { 0 };
  Verdict v;

  peer_start (&peer, NULL);
  v = probe (peer.port, 0.3);
  g_assert_false (v.ok);
  g_assert_cmpfloat (v.latency, >=, 0.29);
  g_assert_cmpfloat (v.latency, <, 1.0);
  g_assert_nonnull (strstr (v.error, "timeout"));
  g_free (v.error);
  peer_stop (&peer);
}

static void
test_probe_refused (void)
{
  Peer peer = { 0 };
  guint port;
  Verdict v;

  peer_start (&peer, NULL);
  port = peer.port;
  peer_stop (&peer);
  v = probe (port, 2);
  g_assert_false (v.ok);
  g_assert_cmpfloat (v.latency, <, 1);
  g_assert_nonnull (v.error);
  g_free (v.error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/health/aggregate", test_aggregate);
  g_test_add_func ("/health/starting-and-stopping", test_starting_and_stopping);
  g_test_add_func ("/health/ready", test_ready);
  g_test_add_func ("/health/probe-ok", test_probe_ok);
  g_test_add_func ("/health/probe-not-200", test_probe_not_200);
  g_test_add_func ("/health/probe-describe", test_probe_describe);
  g_test_add_func ("/health/probe-silent", test_probe_silent);
  g_test_add_func ("/health/probe-refused", test_probe_refused);
  return g_test_run ();
}
