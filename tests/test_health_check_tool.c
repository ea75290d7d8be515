/* Tests of rtsp-health-check against peers this test plays itself: answers
 * the real server never gives on purpose (200 without "healthy", silence,
 * garbage), and how the tool leaves a connection. The real server's states
 * are covered in test_server.c. */
#include <gio/gio.h>
#include <string.h>

typedef struct {
  GSocket *listener;
  guint port;
  const char *answer;           /* NULL: accept and stay silent */
  GThread *thread;
  gboolean clean_close;         /* peer saw EOF, not a reset */
  gboolean saw_request;
} Peer;

static gpointer
serve_one (gpointer data)
{
  Peer *p = data;
  g_autoptr (GSocket) conn = g_socket_accept (p->listener, NULL, NULL);
  char buf[4096];
  gssize n;

  if (!conn)
    return NULL;
  g_socket_set_timeout (conn, 5);
  if (!p->answer) {
    g_usleep (3 * G_USEC_PER_SEC);
    return NULL;
  }
  n = g_socket_receive (conn, buf, sizeof buf, NULL, NULL);
  p->saw_request = n > 0;
  g_socket_send (conn, p->answer, strlen (p->answer), NULL, NULL);
  /* For HTTP the tool reads to the end, then closes: EOF here (0), never
   * ECONNRESET (-1). */
  n = g_socket_receive (conn, buf, sizeof buf, NULL, NULL);
  p->clean_close = n == 0;
  return NULL;
}

static Peer *
peer_new (const char *answer)
{
  Peer *p = g_new0 (Peer, 1);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) local = NULL;

  p->answer = answer;
  p->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (p->listener, sa, TRUE, NULL));
  g_assert_true (g_socket_listen (p->listener, NULL));
  local = g_socket_get_local_address (p->listener, NULL);
  p->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  p->thread = g_thread_new ("peer", serve_one, p);
  return p;
}

static void
peer_free (Peer *p)
{
  g_socket_shutdown (p->listener, TRUE, TRUE, NULL);
  g_socket_close (p->listener, NULL);
  if (p->thread)
    g_thread_join (p->thread);
  g_object_unref (p->listener);
  g_free (p);
}

static int
tool (const char *const *args, char **out, char **err, double *elapsed)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_ptr_array_add (argv, (gpointer) g_getenv ("RTS_HEALTH_CHECK"));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
  g_assert_nonnull (proc);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, out, err, NULL);
  if (elapsed)
    *elapsed = (g_get_monotonic_time () - t0) / 1e6;
  g_assert_true (g_subprocess_get_if_exited (proc));
  return g_subprocess_get_exit_status (proc);
}

static int
http_check (const char *answer, char **line, gboolean *clean)
{
  Peer *p = peer_new (answer);
  g_autofree char *url = g_strdup_printf ("--url=http://127.0.0.1:%u/health",
      p->port);
  const char *args[] = { url, "--timeout=2", NULL };
  int status = tool (args, line, NULL, NULL);

  /* The peer thread records the close only after the tool is gone. */
  g_thread_join (p->thread);
  p->thread = NULL;
  if (clean)
    *clean = p->clean_close;
  peer_free (p);
  return status;
}

#define BODY_OK "{\"status\":\"healthy\",\"open_ports\":4}"
#define BODY_BAD "{\"status\":\"unhealthy\",\"open_ports\":2}"

static void
test_http_answers (void)
{
  g_autofree char *line = NULL;
  gboolean clean = FALSE;
  g_autofree char *ok = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: "
      "%zu\r\n\r\n%s", strlen (BODY_OK), BODY_OK);
  g_autofree char *down = g_strdup_printf ("HTTP/1.1 503 Service Unavailable"
      "\r\nContent-Length: %zu\r\n\r\n%s", strlen (BODY_BAD), BODY_BAD);
  g_autofree char *liar = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: "
      "%zu\r\n\r\n%s", strlen (BODY_BAD), BODY_BAD);

  g_assert_cmpint (http_check (ok, &line, &clean), ==, 0);
  g_assert_true (g_str_has_prefix (line, "healthy: "));
  g_assert_true (clean);
  g_clear_pointer (&line, g_free);

  g_assert_cmpint (http_check (down, &line, &clean), ==, 1);
  g_assert_nonnull (strstr (line, "503"));
  g_assert_true (clean);
  g_clear_pointer (&line, g_free);

  g_assert_cmpint (http_check (liar, &line, NULL), ==, 1);
  g_assert_nonnull (strstr (line, "without"));
  g_clear_pointer (&line, g_free);

  g_assert_cmpint (http_check ("garbage\r\n\r\n", &line, NULL), ==, 1);
  g_clear_pointer (&line, g_free);
}

static void
test_refused (void)
{
  Peer *p = peer_new ("x");
  guint port = p->port;
  g_autofree char *url = NULL;
  g_autofree char *line = NULL;

  peer_free (p);
  url = g_strdup_printf ("--url=http://127.0.0.1:%u/health", port);
  const char *args[] = { url, NULL };
  g_assert_cmpint (tool (args, &line, NULL, NULL), ==, 1);
  g_assert_nonnull (strstr (line, "refused"));
}

/* A port that accepts and never answers: the timeout bounds the run. */
static void
test_silent_http (void)
{
  Peer *p = peer_new (NULL);
  g_autofree char *url = g_strdup_printf ("--url=http://127.0.0.1:%u/health",
      p->port);
  const char *args[] = { url, "--timeout=0.5", NULL };
  g_autofree char *line = NULL;
  double elapsed;

  g_assert_cmpint (tool (args, &line, NULL, &elapsed), ==, 1);
  g_assert_nonnull (strstr (line, "timed out"));
  g_assert_cmpfloat (elapsed, >=, 0.45);
  g_assert_cmpfloat (elapsed, <, 1.0);
  peer_free (p);
}

static void
test_rtsp_ports (void)
{
  Peer *a = peer_new ("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
  Peer *b = peer_new ("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
  Peer *silent = peer_new (NULL);
  Peer *sick = peer_new ("RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n");
  g_autofree char *ports = g_strdup_printf ("--rtsp-ports=%u,%u,%u,%u",
      a->port, b->port, silent->port, sick->port);
  const char *two[] = { ports, "--min-healthy=2", "--timeout=0.5", NULL };
  const char *three[] = { ports, "--min-healthy=3", "--timeout=0.5", NULL };
  g_autofree char *line = NULL;
  double elapsed;

  g_assert_cmpint (tool (two, &line, NULL, &elapsed), ==, 0);
  g_assert_nonnull (strstr (line, "2 of 4"));
  g_assert_cmpfloat (elapsed, <, 1.0);
  g_assert_true (a->saw_request && b->saw_request);
  peer_free (a);
  peer_free (b);
  peer_free (silent);
  peer_free (sick);
  g_clear_pointer (&line, g_free);

  a = peer_new ("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
  b = peer_new ("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
  silent = peer_new (NULL);
  sick = peer_new ("RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n");
  g_free (ports);
  ports = g_strdup_printf ("--rtsp-ports=%u,%u,%u,%u", a->port, b->port,
      silent->port, sick->port);
  three[0] = ports;
  g_assert_cmpint (tool (three, &line, NULL, &elapsed), ==, 1);
  g_assert_nonnull (strstr (line, "unhealthy: 2 of 4"));
  g_assert_nonnull (strstr (line, "timed out"));
  g_assert_nonnull (strstr (line, "answered 503"));
  g_assert_cmpfloat (elapsed, <, 1.0);
  peer_free (a);
  peer_free (b);
  peer_free (silent);
  peer_free (sick);
}

static void
test_bad_usage (void)
{
  struct {
    const char *args[4];
    const char *mention;
  } cases[] = {
    {{"--timeout=abc"}, "--timeout"},
    {{"--timeout=0"}, "--timeout"},
    {{"--timeout"}, "needs a value"},
    {{"--url=https://x/health"}, "https://x/health"},
    {{"--url=http://:80/"}, "--url"},
    {{"--url=http://h:99999/"}, "--url"},
    {{"--rtsp-ports=0"}, "--rtsp-ports"},
    {{"--rtsp-ports=1,x"}, "'x'"},
    {{"--rtsp-ports=1,2", "--min-healthy=3"}, "--min-healthy"},
    {{"--min-healthy=1"}, "--rtsp-ports"},
    {{"--bogus"}, "--bogus"},
    {{"stray"}, "stray"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *err = NULL;
    g_assert_cmpint (tool (cases[i].args, NULL, &err, NULL), ==, 2);
    if (!strstr (err, cases[i].mention))
      g_error ("%s: '%s' does not mention '%s'", cases[i].args[0], err,
          cases[i].mention);
  }
}

static void
test_help_version (void)
{
  const char *help[] = { "--help", NULL };
  const char *version[] = { "--version", NULL };
  g_autofree char *out = NULL;
  g_autofree char *vout = NULL;

  g_assert_cmpint (tool (help, &out, NULL, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "--rtsp-ports"));
  g_assert_cmpint (tool (version, &vout, NULL, NULL), ==, 0);
  g_assert_true (g_str_has_prefix (vout, "rtsp-health-check "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/health-check/http-answers", test_http_answers);
  g_test_add_func ("/health-check/refused", test_refused);
  g_test_add_func ("/health-check/silent-http", test_silent_http);
  g_test_add_func ("/health-check/rtsp-ports", test_rtsp_ports);
  g_test_add_func ("/health-check/bad-usage", test_bad_usage);
  g_test_add_func ("/health-check/help-version", test_help_version);
  return g_test_run ();
}
