/* test_health_check_tool: runs the built rtsp-health-check ($RTS_HEALTH_CHECK)
 * against fake HTTP and RTSP peers this test plays itself on 127.0.0.1.
 *
 * The fakes give the answers the real server never gives on purpose (200
 * without "healthy", silence, garbage, split or chunked bodies) and record
 * how the tool left each connection: after its answer a fake reads until
 * EOF, and a reset there means the tool closed with bytes unread. The real
 * server's own states are covered by test_server.c. */
#include <gio/gio.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The tool bounds itself; this only keeps a broken build from hanging. */
#define HARD_LIMIT_SECONDS 20

typedef enum {
  CLOSE_NONE,  /* no connection finished yet */
  CLOSE_CLEAN, /* read () gave 0: a FIN after everything was read */
  CLOSE_RESET, /* read () failed: ECONNRESET and friends */
  CLOSE_HUNG,  /* the peer stayed open for seconds after the answer */
} CloseKind;

typedef struct {
  const char *answer; /* NULL: read the request, then stay silent */
  gsize answer_len;
  gsize split_at;        /* > 0: send this much, pause, send the rest */
  gboolean close_after;  /* half-close after answering (EOF-framed body) */
  gboolean hang_up;      /* close without answering */
  gboolean never_accept; /* listen only; the kernel completes handshakes */

  int fd;
  guint port;
  int stop[2];
  GThread *thread;

  GMutex lock;
  GCond cond;
  guint handled;
  CloseKind close;
  int close_errno;
  GString *request; /* the first request, as received */
} Fake;

static const char *
tool_path (void)
{
  return g_getenv ("RTS_HEALTH_CHECK");
}

/* Skips the test unless meson told us where the tool is. */
static gboolean
have_tool (void)
{
  if (tool_path () && g_file_test (tool_path (), G_FILE_TEST_IS_EXECUTABLE))
    return TRUE;
  g_test_skip ("RTS_HEALTH_CHECK does not name the built rtsp-health-check");
  return FALSE;
}

/* Waits for FD to be readable, or for the stop pipe. FALSE on stop/timeout. */
static gboolean
wait_readable (Fake *f, int fd, int timeout_ms)
{
  struct pollfd p[2] = { { fd, POLLIN, 0 }, { f->stop[0], POLLIN, 0 } };
  int rc;

  do
    rc = poll (p, 2, timeout_ms);
  while (rc < 0 && errno == EINTR);
  return rc > 0 && !(p[1].revents & POLLIN);
}

static void
send_all (int fd, const char *data, gsize len)
{
  while (len > 0) {
    ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    data += n;
    len -= (gsize) n;
  }
}

static void
serve (Fake *f, int c)
{
  GString *req = g_string_new (NULL);
  CloseKind close_kind = CLOSE_HUNG;
  int close_errno = 0;
  char buf[4096];

  /* The request: up to its blank line. */
  while (!strstr (req->str, "\r\n\r\n") && wait_readable (f, c, 5000)) {
    ssize_t n = recv (c, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    g_string_append_len (req, buf, n);
  }

  if (f->hang_up) {
    close_kind = CLOSE_CLEAN;
  } else if (f->answer) {
    gsize first = f->split_at ? f->split_at : f->answer_len;
    send_all (c, f->answer, first);
    if (first < f->answer_len) {
      g_usleep (150 * 1000);
      send_all (c, f->answer + first, f->answer_len - first);
    }
    if (f->close_after)
      shutdown (c, SHUT_WR);
  }

  /* Whatever the tool does next, it must end in a FIN. Silent fakes wait
   * here until the tool gives up on them. */
  while (!f->hang_up && wait_readable (f, c, 5000)) {
    ssize_t n = recv (c, buf, sizeof buf, 0);
    if (n == 0) {
      close_kind = CLOSE_CLEAN;
      break;
    }
    if (n < 0) {
      close_kind = CLOSE_RESET;
      close_errno = errno;
      break;
    }
  }
  close (c);

  g_mutex_lock (&f->lock);
  if (!f->request)
    f->request = g_string_new (req->str);
  f->close = close_kind;
  f->close_errno = close_errno;
  f->handled++;
  g_cond_broadcast (&f->cond);
  g_mutex_unlock (&f->lock);
  g_string_free (req, TRUE);
}

static gpointer
fake_thread (gpointer data)
{
  Fake *f = data;

  while (wait_readable (f, f->fd, -1)) {
    int c = accept (f->fd, NULL, NULL);
    if (c >= 0)
      serve (f, c);
  }
  return NULL;
}

static int
listen_loopback (guint *port)
{
  struct sockaddr_in sa = { 0 };
  socklen_t len = sizeof sa;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (fd, 16), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sa, &len), ==, 0);
  *port = ntohs (sa.sin_port);
  return fd;
}

/* A loopback port nothing listens on (nothing that we know of, anyway). */
static guint
closed_port (void)
{
  guint port;
  int fd = listen_loopback (&port);

  close (fd);
  return port;
}

static Fake *
fake_start (Fake *f)
{
  Fake *copy = g_new (Fake, 1);

  *copy = *f;
  f = copy;
  if (f->answer && f->answer_len == 0)
    f->answer_len = strlen (f->answer);
  g_mutex_init (&f->lock);
  g_cond_init (&f->cond);
  f->fd = listen_loopback (&f->port);
  g_assert_cmpint (pipe (f->stop), ==, 0);
  if (!f->never_accept)
    f->thread = g_thread_new ("fake-peer", fake_thread, f);
  return f;
}

#define FAKE(...) fake_start (&(Fake){ __VA_ARGS__ })

/* Waits until the fake has finished COUNT connections. */
static gboolean
fake_wait (Fake *f, guint count)
{
  gint64 end = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  gboolean ok = TRUE;

  g_mutex_lock (&f->lock);
  while (f->handled < count && ok)
    ok = g_cond_wait_until (&f->cond, &f->lock, end);
  g_mutex_unlock (&f->lock);
  return f->handled >= count;
}

static void
fake_free (Fake *f)
{
  if (f->thread) {
    g_assert_cmpint (write (f->stop[1], "x", 1), ==, 1);
    g_thread_join (f->thread);
  }
  close (f->stop[0]);
  close (f->stop[1]);
  close (f->fd);
  g_mutex_clear (&f->lock);
  g_cond_clear (&f->cond);
  if (f->request)
    g_string_free (f->request, TRUE);
  g_free (f);
}

/* Asserts the fake's one connection ended with a FIN, not a reset. */
static void
assert_clean_close (Fake *f)
{
  g_assert_true (fake_wait (f, 1));
  if (f->close != CLOSE_CLEAN)
    g_error ("port %u: the tool left the connection %s (%s)", f->port,
        f->close == CLOSE_RESET ? "with a reset" : "open",
        g_strerror (f->close_errno));
}

typedef struct {
  int status; /* exit code; -1 when killed or signalled */
  char *out;
  char *err;
  double elapsed;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

typedef struct {
  GSubprocess *proc;
  gboolean done;
  gboolean killed;
  char *out;
  char *err;
} Pending;

static void
on_communicated (GObject *src, GAsyncResult *res, gpointer data)
{
  Pending *p = data;
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_communicate_utf8_finish (G_SUBPROCESS (src), res, &p->out,
          &p->err, &error))
    g_warning ("reading the tool's output: %s", error->message);
  p->done = TRUE;
}

static gboolean
on_hard_limit (gpointer data)
{
  Pending *p = data;

  p->killed = TRUE;
  g_subprocess_force_exit (p->proc);
  return G_SOURCE_REMOVE;
}

/* Runs the tool with ARGS (NULL-terminated), timing it from spawn to exit. */
static void
run_tool (Run *r, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  GSource *limit;
  Pending p = { 0 };
  gint64 start;

  g_ptr_array_add (argv, (gpointer) tool_path ());
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_main_context_push_thread_default (ctx);
  start = g_get_monotonic_time ();
  p.proc = g_subprocess_newv ((const char *const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (p.proc, NULL, NULL, on_communicated, &p);
  limit = g_timeout_source_new_seconds (HARD_LIMIT_SECONDS);
  g_source_set_callback (limit, on_hard_limit, &p, NULL);
  g_source_attach (limit, ctx);
  while (!p.done)
    g_main_context_iteration (ctx, TRUE);
  g_subprocess_wait (p.proc, NULL, NULL);
  r->elapsed = (g_get_monotonic_time () - start) / 1e6;
  g_source_destroy (limit);
  g_source_unref (limit);
  g_main_context_pop_thread_default (ctx);

  r->status = !p.killed && g_subprocess_get_if_exited (p.proc)
      ? g_subprocess_get_exit_status (p.proc)
      : -1;
  r->out = p.out ? p.out : g_strdup ("");
  r->err = p.err ? p.err : g_strdup ("");
  g_object_unref (p.proc);
  g_test_message ("exit %d after %.3f s; stdout: %s; stderr: %s", r->status,
      r->elapsed, r->out, r->err);
}

#define RUN(r, ...) run_tool (r, (const char *const[]){ __VA_ARGS__, NULL })

static guint
count_lines (const char *s)
{
  guint n = 0;

  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* A verdict is exactly one line on stdout and nothing on stderr. */
static void
assert_verdict (const Run *r, int status, const char *prefix)
{
  g_assert_cmpint (r->status, ==, status);
  if (!g_str_has_prefix (r->out, prefix))
    g_error ("\"%s\" does not start with \"%s\"", r->out, prefix);
  g_assert_true (g_str_has_suffix (r->out, "\n"));
  g_assert_cmpuint (count_lines (r->out), ==, 1);
  g_assert_cmpstr (r->err, ==, "");
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (!strstr (haystack, needle))
    g_error ("\"%s\" does not contain \"%s\"", haystack, needle);
}

#define HEALTHY_BODY                                                           \
  "{\"status\":\"healthy\",\"open_ports\":4,\"total_ports\":4,\"ports\":[{"    \
  "\"port\":8554,\"healthy\":true}]}"
#define UNHEALTHY_BODY                                                         \
  "{\"status\":\"unhealthy\",\"open_ports\":1,\"total_ports\":4,"              \
  "\"healthy_threshold\":3,\"timestamp\":1764072000.5,\"ports\":[{"            \
  "\"reason\":\"a port's\"}],\"reason\":\"1 of 4 ports answer RTSP (need "     \
  "3): port 8555 (cam2): refused\"}"

static char *
http_answer (const char *status_line, const char *body)
{
  return g_strdup_printf ("%s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
      status_line, strlen (body), body);
}

static char *
url_arg (Fake *f, const char *path)
{
  return g_strdup_printf ("--url=http://127.0.0.1:%u%s", f->port, path);
}

static void
test_http_healthy (void)
{
  g_autofree char *answer = http_answer ("HTTP/1.1 200 OK", HEALTHY_BODY);
  g_autofree char *url = NULL;
  g_autofree char *host = NULL;
  Fake *f;
  Run r;

  if (!have_tool ())
    return;
  f = FAKE (.answer = answer);
  url = url_arg (f, "/health");
  RUN (&r, url);
  assert_verdict (&r, 0, "healthy: ");
  assert_contains (r.out, url + strlen ("--url="));
  assert_contains (r.out, "answered 200");
  assert_clean_close (f);

  host = g_strdup_printf ("\r\nHost: 127.0.0.1:%u\r\n", f->port);
  g_assert_true (
      g_str_has_prefix (f->request->str, "GET /health HTTP/1.1\r\n"));
  assert_contains (f->request->str, host);
  assert_contains (f->request->str, "\r\nConnection: close\r\n");
  g_assert_true (g_str_has_suffix (f->request->str, "\r\n\r\n"));
  run_clear (&r);
  fake_free (f);
}

/* --live, --ready and --port N ask their own path of --url's server. */
static void
check_path (const char *flag, const char *request)
{
  g_autofree char *answer = http_answer ("HTTP/1.1 200 OK", HEALTHY_BODY);
  g_autofree char *url = NULL;
  Fake *f = FAKE (.answer = answer);
  Run r;

  url = url_arg (f, "/ignored");
  RUN (&r, url, flag);
  assert_verdict (&r, 0, "healthy: ");
  g_assert_true (fake_wait (f, 1));
  g_assert_true (g_str_has_prefix (f->request->str, request));
  /* The verdict names the URL asked, not the one given. */
  {
    g_autofree char *path = g_strndup (request + 4, strcspn (request + 4, " "));
    g_autofree char *asked = g_strdup_printf ("%s answered", path);
    if (!strstr (r.out, asked))
      g_error ("%s: '%s' does not name %s", flag, r.out, path);
  }
  run_clear (&r);
  fake_free (f);
}

static void
test_http_check_paths (void)
{
  if (!have_tool ())
    return;
  check_path ("--live", "GET /health/live HTTP/1.1\r\n");
  check_path ("--ready", "GET /health/ready HTTP/1.1\r\n");
  check_path ("--port=8556", "GET /health/8556 HTTP/1.1\r\n");
}

static void
test_http_503 (void)
{
  g_autofree char *answer =
      http_answer ("HTTP/1.1 503 Service Unavailable", UNHEALTHY_BODY);
  g_autofree char *url = NULL;
  Fake *f;
  Run r;

  if (!have_tool ())
    return;
  f = FAKE (.answer = answer);
  url = url_arg (f, "/health");
  RUN (&r, url, "--timeout", "2");
  /* Why, as the server said it: the body's first 60 bytes cut the reason
   * off in every answer. */
  assert_verdict (&r, 1, "unhealthy: ");
  assert_contains (r.out,
      "/health answered 503: 1 of 4 ports answer RTSP (need 3): port 8555 "
      "(cam2): refused\n");
  /* The whole body is read even from a failing server. */
  assert_clean_close (f);
  run_clear (&r);
  fake_free (f);
}

static void
test_http_200_unhealthy (void)
{
  g_autofree char *answer = http_answer ("HTTP/1.1 200 OK", UNHEALTHY_BODY);
  g_autofree char *nested = http_answer ("HTTP/1.1 200 OK",
      "{\"ports\":[{\"status\":\"healthy\"}],\"status\":\"down\"}");
  g_autofree char *url = NULL;
  Fake *f;
  Run r;

  if (!have_tool ())
    return;
  f = FAKE (.answer = answer);
  url = url_arg (f, "/health");
  RUN (&r, url);
  assert_verdict (&r, 1, "unhealthy: ");
  assert_contains (r.out, "200");
  assert_clean_close (f);
  run_clear (&r);
  fake_free (f);

  f = FAKE (.answer = nested);
  g_free (url);
  url = url_arg (f, "/health");
  RUN (&r, url);
  assert_verdict (&r, 1, "unhealthy: ");
  assert_clean_close (f);
  run_clear (&r);
  fake_free (f);
}

/* Header and body in separate segments, 150 ms apart: stopping at the
 * header would both misjudge the body and reset the connection. */
static void
test_http_split_body (void)
{
  g_autofree char *answer = http_answer ("HTTP/1.1 200 OK", HEALTHY_BODY);
  g_autofree char *url = NULL;
  const char *body_at = strstr (answer, "\r\n\r\n") + 4;
  gsize splits[] = { (gsize) (body_at - answer), (gsize) (body_at - answer) + 5,
    10 };
  Run r;

  if (!have_tool ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (splits); i++) {
    Fake *f = FAKE (.answer = answer, .split_at = splits[i]);
    g_free (url);
    url = url_arg (f, "/health");
    RUN (&r, url);
    assert_verdict (&r, 0, "healthy: ");
    g_assert_cmpfloat (r.elapsed, >=, 0.14);
    assert_clean_close (f);
    run_clear (&r);
    fake_free (f);
  }
}

/* No Content-Length: the body ends where the server closes. */
static void
test_http_eof_framed (void)
{
  const char *answer = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                       "\r\n" HEALTHY_BODY;
  g_autofree char *url = NULL;
  Fake *f;
  Run r;

  if (!have_tool ())
    return;
  f = FAKE (.answer = answer, .close_after = TRUE, .split_at = 30);
  url = url_arg (f, "/");
  RUN (&r, url);
  assert_verdict (&r, 0, "healthy: ");
  assert_clean_close (f);
  g_assert_true (g_str_has_prefix (f->request->str, "GET / HTTP/1.1\r\n"));
  run_clear (&r);
  fake_free (f);
}

static void
test_http_chunked (void)
{
  const char *answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "a\r\n{\"status\":\r\n"
                       "B;ext=1\r\n\"healthy\"}\n\r\n"
                       "0\r\n\r\n";
  g_autofree char *url = NULL;
  Fake *f;
  Run r;

  if (!have_tool ())
    return;
  f = FAKE (.answer = answer, .split_at = 60);
  url = url_arg (f, "/health?verbose=1");
  RUN (&r, url);
  assert_verdict (&r, 0, "healthy: ");
  assert_clean_close (f);
  g_assert_true (
      g_str_has_prefix (f->request->str, "GET /health?verbose=1 HTTP/1.1\r\n"));
  run_clear (&r);
  fake_free (f);
}

/* Answers that are not a usable response: unhealthy, never a hang. */
static void
test_http_bad_answers (void)
{
  const struct {
    const char *answer;
    gboolean close_after;
    gboolean hang_up;
    const char *says;
  } cases[] = {
    { "SSH-2.0-OpenSSH_9.2\r\n", FALSE, FALSE, "not HTTP" },
    { "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", FALSE, FALSE, "not HTTP" },
    { "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", FALSE, FALSE,
        "status line" },
    { "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n" HEALTHY_BODY, FALSE, FALSE,
        "Content-Length" },
    { "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" HEALTHY_BODY, TRUE,
        FALSE, "mid-body" },
    { "HTTP/1.1 200 OK\r\nContent-Le", TRUE, FALSE, "mid-answer" },
    { NULL, FALSE, TRUE, "without answering" },
  };

  if (!have_tool ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Fake *f = FAKE (.answer = cases[i].answer,
        .close_after = cases[i].close_after, .hang_up = cases[i].hang_up);
    g_autofree char *url = url_arg (f, "/health");
    Run r;

    RUN (&r, url, "--timeout=2");
    assert_verdict (&r, 1, "unhealthy: ");
    assert_contains (r.out, cases[i].says);
    g_assert_cmpfloat (r.elapsed, <, 1.5);
    run_clear (&r);
    fake_free (f);
  }
}

static void
test_http_refused (void)
{
  g_autofree char *url = NULL;
  Run r;

  if (!have_tool ())
    return;
  url = g_strdup_printf ("--url=http://127.0.0.1:%u/health", closed_port ());
  RUN (&r, url);
  assert_verdict (&r, 1, "unhealthy: ");
  assert_contains (r.out, "connection refused");
  run_clear (&r);
}

/* A peer that takes the connection and never answers: the run ends at the
 * timeout, not at the kernel's. Both a server that accepts and one whose
 * backlog alone completes the handshake. */
static void
test_http_silent (void)
{
  const gboolean never_accept[] = { FALSE, TRUE };

  if (!have_tool ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (never_accept); i++) {
    Fake *f = FAKE (.never_accept = never_accept[i]);
    g_autofree char *url = url_arg (f, "/health");
    g_autofree char *says = g_strdup_printf ("unhealthy: timed out after 1.0 s "
                                             "waiting for response from "
                                             "127.0.0.1:%u\n",
        f->port);
    Run r;

    RUN (&r, url, "--timeout", "1");
    assert_verdict (&r, 1, "unhealthy: ");
    g_assert_cmpstr (r.out, ==, says);
    g_assert_cmpfloat (r.elapsed, >=, 0.95);
    g_assert_cmpfloat (r.elapsed, <, 1.5);
    if (!never_accept[i]) {
      g_assert_true (fake_wait (f, 1));
      g_assert_true (g_str_has_prefix (f->request->str, "GET /health "));
    }
    run_clear (&r);
    fake_free (f);
  }
}

static void
test_http_default_timeout (void)
{
  Fake *f;
  g_autofree char *url = NULL;
  Run r;

  if (!have_tool ())
    return;
  f = FAKE (.answer = NULL);
  url = url_arg (f, "/health");
  RUN (&r, url, "--timeout=0.5");
  assert_verdict (&r, 1, "unhealthy: timed out after 0.5 s");
  g_assert_cmpfloat (r.elapsed, >=, 0.45);
  g_assert_cmpfloat (r.elapsed, <, 1.0);
  run_clear (&r);

  /* Without --timeout, 3 s. */
  RUN (&r, url);
  assert_verdict (&r, 1, "unhealthy: timed out after 3.0 s");
  g_assert_cmpfloat (r.elapsed, >=, 2.9);
  g_assert_cmpfloat (r.elapsed, <, 3.5);
  run_clear (&r);
  fake_free (f);
}

/* Names go through the resolver; "localhost" may list ::1 (refused here)
 * before 127.0.0.1, and the tool must go on to the next address. */
static void
test_http_localhost (void)
{
  g_autofree char *answer = http_answer ("HTTP/1.1 200 OK", HEALTHY_BODY);
  g_autofree char *url = NULL;
  struct addrinfo hints = { 0 }, *res = NULL, *ai;
  gboolean has_v4 = FALSE;
  Fake *f;
  Run r;

  if (!have_tool ())
    return;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo ("localhost", NULL, &hints, &res) == 0) {
    for (ai = res; ai; ai = ai->ai_next)
      has_v4 |= ai->ai_family == AF_INET
          && ((struct sockaddr_in *) ai->ai_addr)->sin_addr.s_addr
              == htonl (INADDR_LOOPBACK);
    freeaddrinfo (res);
  }
  if (!has_v4) {
    g_test_skip ("localhost does not resolve to 127.0.0.1 here");
    return;
  }
  f = FAKE (.answer = answer);
  url = g_strdup_printf ("--url=http://localhost:%u/health", f->port);
  RUN (&r, url);
  assert_verdict (&r, 0, "healthy: ");
  assert_clean_close (f);
  run_clear (&r);
  fake_free (f);
}

/* Resolution counts against the deadline too: a name that cannot resolve
 * ends in unhealthy within the timeout, DNS or no DNS. */
static void
test_http_unresolvable (void)
{
  Run r;

  if (!have_tool ())
    return;
  RUN (&r, "--url=http://no-such-host.invalid/health", "--timeout=1");
  assert_verdict (&r, 1, "unhealthy: ");
  g_assert_cmpfloat (r.elapsed, <, 1.5);
  run_clear (&r);
}

static void
test_http_ipv6_literal (void)
{
  g_autofree char *url = NULL;
  Run r;

  if (!have_tool ())
    return;
  /* Parsed and tried (nothing listens there): unhealthy, not bad usage. */
  url = g_strdup_printf ("--url=http://[::1]:%u/health", closed_port ());
  RUN (&r, url, "--timeout=1");
  assert_verdict (&r, 1, "unhealthy: ");
  assert_contains (r.out, "[::1]");
  run_clear (&r);
}

#define RTSP_OK                                                                \
  "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"

/* Two ports answer 200, one is silent, one refuses: a quorum of 2 passes,
 * of 3 fails, and the silent port costs the timeout once. */
static void
test_rtsp_quorum (void)
{
  Fake *ok1, *ok2, *silent;
  guint refused;
  g_autofree char *ports = NULL;
  g_autofree char *line = NULL;
  g_autofree char *request = NULL;
  Run r;

  if (!have_tool ())
    return;
  ok1 = FAKE (.answer = RTSP_OK);
  ok2 = FAKE (.answer = RTSP_OK, .split_at = 9);
  silent = FAKE (.answer = NULL);
  refused = closed_port ();
  ports = g_strdup_printf ("%u,%u,%u,%u", ok1->port, ok2->port, silent->port,
      refused);

  RUN (&r, "--rtsp-ports", ports, "--min-healthy", "2", "--timeout", "1");
  /* Counted out of the ports waited for (the two that answered, and the
   * refused one that answered nothing, if it was seen before). */
  g_assert_nonnull (strstr (r.out,
      "RTSP ports waited for answered (need 2 "
      "of 4): "));
  g_assert_true (g_str_has_prefix (r.out, "healthy: 2 of the "));
  g_assert_cmpint (r.status, ==, 0);
  /* Two answered: the verdict is known, the silent port not waited for
   * (it once held every such check to the timeout). */
  g_assert_nonnull (strstr (r.out, "not waited for"));
  g_assert_cmpfloat (r.elapsed, <, 0.9);
  assert_clean_close (ok1);
  assert_clean_close (ok2);
  request = g_strdup_printf ("OPTIONS rtsp://127.0.0.1:%u/ RTSP/1.0\r\n"
                             "CSeq: 1\r\nUser-Agent: rtsp-health-check\r\n\r\n",
      ok1->port);
  g_assert_cmpstr (ok1->request->str, ==, request);
  run_clear (&r);

  line = g_strdup_printf ("unhealthy: 2 of 4 RTSP ports answered (need 3): "
                          "%u ok, %u ok, %u timed out, %u connection refused\n",
      ok1->port, ok2->port, silent->port, refused);
  g_free (ports);
  ports = g_strdup_printf ("--rtsp-ports=%u,%u,%u,%u", ok1->port, ok2->port,
      silent->port, refused);
  RUN (&r, ports, "--min-healthy=3", "--timeout=1");
  assert_verdict (&r, 1, "unhealthy: ");
  g_assert_cmpstr (r.out, ==, line);
  g_assert_cmpfloat (r.elapsed, >=, 0.95);
  g_assert_cmpfloat (r.elapsed, <, 1.5);
  g_assert_true (fake_wait (ok1, 2) && fake_wait (ok2, 2));
  g_assert_cmpint (ok1->close, ==, CLOSE_CLEAN);
  g_assert_cmpint (ok2->close, ==, CLOSE_CLEAN);
  run_clear (&r);

  fake_free (ok1);
  fake_free (ok2);
  fake_free (silent);
}

/* Without --min-healthy every port must answer 200. */
static void
test_rtsp_default_min (void)
{
  Fake *a = FAKE (.answer = RTSP_OK);
  Fake *b = FAKE (.answer = RTSP_OK);
  Fake *c = FAKE (.answer = "RTSP/1.0 404 Not Found\r\nCSeq: 1\r\n\r\n");
  g_autofree char *two =
      g_strdup_printf ("--rtsp-ports=%u,%u", a->port, b->port);
  g_autofree char *three =
      g_strdup_printf ("--rtsp-ports=%u,%u,%u", a->port, b->port, c->port);
  g_autofree char *verdict = g_strdup_printf ("%u answered 404", c->port);
  Run r;

  if (have_tool ()) {
    RUN (&r, two);
    assert_verdict (&r, 0, "healthy: 2 of 2 RTSP ports answered (need 2)");
    run_clear (&r);

    RUN (&r, three, "--host", "127.0.0.1");
    /* The 404 can come before the other answers: the verdict is then
     * known and the ports still out are not waited for, and the count is
     * of those that were (seen in a suite run: "1 of the 2"). */
    {
      guint skipped = 0, ok = 0;
      g_autofree char *want = NULL;
      for (const char *p = r.out; (p = strstr (p, "not waited for")); p++)
        skipped++;
      for (const char *p = r.out; (p = strstr (p, " ok")); p++)
        ok++;
      want = skipped
          ? g_strdup_printf ("unhealthy: %u of the %u RTSP ports waited for "
                             "answered (need 3 of 3)",
              ok, 3 - skipped)
          : g_strdup ("unhealthy: 2 of 3 RTSP ports answered (need 3)");
      assert_verdict (&r, 1, want);
    }
    assert_contains (r.out, verdict);
    assert_clean_close (c);
    run_clear (&r);
  }
  fake_free (a);
  fake_free (b);
  fake_free (c);
}

/* Answers that are not RTSP 200, and a 200 with a body to read first. */
static void
test_rtsp_answers (void)
{
  const struct {
    const char *answer;
    gsize split_at;
    int status;
    const char *says;
  } cases[] = {
    { "RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 11\r\n\r\nhello world", 45,
        0, " ok" },
    { "RTSP/1.0 200\r\nCSeq: 1\r\n\r\n", 0, 0, " ok" },
    { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 1, "not RTSP" },
    { "RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n", 0, 1,
        "answered 503" },
    { "RTSP/1.0 200 OK\r\nContent-Length: 99\r\n\r\nshort", 0, 1, "timed out" },
  };

  if (!have_tool ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Fake *f = FAKE (.answer = cases[i].answer, .split_at = cases[i].split_at);
    g_autofree char *ports = g_strdup_printf ("--rtsp-ports=%u", f->port);
    Run r;

    RUN (&r, ports, "--timeout=1");
    assert_verdict (&r, cases[i].status,
        cases[i].status ? "unhealthy: 0 of 1" : "healthy: 1 of 1");
    assert_contains (r.out, cases[i].says);
    if (cases[i].status == 0)
      assert_clean_close (f);
    run_clear (&r);
    fake_free (f);
  }
}

/* All ports silent: one shared deadline, not one timeout per port. */
static void
test_rtsp_concurrent (void)
{
  Fake *f[4];
  g_autofree char *ports = NULL;
  Run r;

  if (!have_tool ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (f); i++)
    f[i] = FAKE (.answer = NULL);
  ports = g_strdup_printf ("%u,%u,%u,%u", f[0]->port, f[1]->port, f[2]->port,
      f[3]->port);
  RUN (&r, "--rtsp-ports", ports, "--min-healthy", "1", "--timeout", "1");
  assert_verdict (&r, 1, "unhealthy: 0 of 4 RTSP ports answered (need 1)");
  g_assert_cmpfloat (r.elapsed, <, 1.5);
  run_clear (&r);
  for (guint i = 0; i < G_N_ELEMENTS (f); i++) {
    /* Every port got its request before the deadline: they ran at once. */
    g_assert_true (fake_wait (f[i], 1));
    g_assert_true (g_str_has_prefix (f[i]->request->str, "OPTIONS rtsp://"));
    fake_free (f[i]);
  }
}

/* A bad command line: exit 2, nothing on stdout, one line on stderr naming
 * the flag and the value. */
static void
test_usage_errors (void)
{
  const struct {
    const char *args[5];
    const char *flag;
    const char *value;
  } cases[] = {
    { { "--bogus" }, "--bogus", NULL },
    { { "--live", "--ready" }, "--live", NULL },
    { { "--live=1" }, "--live", NULL },
    { { "--port" }, "--port", NULL },
    { { "--port=0" }, "--port", "0" },
    { { "--port=x" }, "--port", "x" },
    { { "--port=8554", "--live" }, "--port", NULL },
    { { "--ready", "--rtsp-ports=8554" }, "--ready", NULL },
    { { "--bogus=1" }, "--bogus", NULL },
    { { "-x" }, "-x", NULL },
    { { "stray" }, "stray", NULL },
    { { "--timeout" }, "--timeout", NULL },
    { { "--timeout", "abc" }, "--timeout", "abc" },
    { { "--timeout=abc" }, "--timeout", "abc" },
    { { "--timeout=" }, "--timeout", NULL },
    { { "--timeout=0" }, "--timeout", "0" },
    { { "--timeout=-1" }, "--timeout", "-1" },
    { { "--timeout=301" }, "--timeout", "301" },
    { { "--timeout=nan" }, "--timeout", "nan" },
    { { "--timeout=inf" }, "--timeout", "inf" },
    { { "--timeout=1e3" }, "--timeout", "1e3" },
    { { "--timeout=0x10" }, "--timeout", "0x10" },
    { { "--timeout= 1" }, "--timeout", " 1" },
    { { "--url" }, "--url", NULL },
    { { "--url=https://127.0.0.1/health" }, "--url",
        "https://127.0.0.1/health" },
    { { "--url", "ftp://127.0.0.1/" }, "--url", "ftp://127.0.0.1/" },
    { { "--url=127.0.0.1:8080/health" }, "--url", "127.0.0.1:8080/health" },
    { { "--url=http://" }, "--url", "http://" },
    { { "--url=http://:8080/" }, "--url", "http://:8080/" },
    { { "--url=http://h:0/" }, "--url", "http://h:0/" },
    { { "--url=http://h:65536/" }, "--url", "http://h:65536/" },
    { { "--url=http://h:/" }, "--url", "http://h:/" },
    { { "--url=http://h:8x/" }, "--url", "http://h:8x/" },
    { { "--url=http://[::1/" }, "--url", "http://[::1/" },
    { { "--url=http://::1/" }, "--url", "http://::1/" },
    { { "--url=http://u@h/" }, "--url", "http://u@h/" },
    { { "--url=http://h/a b" }, "--url", NULL },
    { { "--rtsp-ports" }, "--rtsp-ports", NULL },
    { { "--rtsp-ports=" }, "--rtsp-ports", NULL },
    { { "--rtsp-ports", "0" }, "--rtsp-ports", "0" },
    { { "--rtsp-ports=65536" }, "--rtsp-ports", "65536" },
    { { "--rtsp-ports=8554,,8555" }, "--rtsp-ports", "8554,,8555" },
    { { "--rtsp-ports=8554,x" }, "--rtsp-ports", "x" },
    /* Each port counts toward --min-healthy: twice would count twice. */
    { { "--rtsp-ports=8554,8555,8554" }, "--rtsp-ports", "listed twice" },
    { { "--rtsp-ports=8554," }, "--rtsp-ports", "8554," },
    { { "--rtsp-ports=-1" }, "--rtsp-ports", "-1" },
    { { "--rtsp-ports=1,2", "--min-healthy=3" }, "--min-healthy", "3" },
    { { "--min-healthy=3", "--rtsp-ports=1,2" }, "--min-healthy", "3" },
    { { "--rtsp-ports=1,2", "--min-healthy", "0" }, "--min-healthy", "0" },
    { { "--rtsp-ports=1,2", "--min-healthy=two" }, "--min-healthy", "two" },
    { { "--rtsp-ports=1", "--min-healthy" }, "--min-healthy", NULL },
    { { "--min-healthy=1" }, "--min-healthy", "1" },
    { { "--host=127.0.0.1" }, "--host", "127.0.0.1" },
    { { "--rtsp-ports=1", "--host=a b" }, "--host", "a b" },
    { { "--rtsp-ports=1", "--host=" }, "--host", NULL },
    { { "--rtsp-ports=1", "--url=http://h/" }, "--url", NULL },
    { { "--help=yes" }, "--help", NULL },
  };

  if (!have_tool ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const char *const *args = cases[i].args;
    Run r;

    run_tool (&r, args);
    if (r.status != 2 || strcmp (r.out, "") != 0
        || !strstr (r.err, cases[i].flag)
        || (cases[i].value && !strstr (r.err, cases[i].value))
        || !g_str_has_suffix (r.err, "\n") || count_lines (r.err) != 1)
      g_error ("%s %s: exit %d, stdout \"%s\", stderr \"%s\"", args[0],
          args[1] ? args[1] : "", r.status, r.out, r.err);
    run_clear (&r);
  }
}

static void
test_help_version (void)
{
  Run r;

  if (!have_tool ())
    return;
  RUN (&r, "--help");
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "--rtsp-ports");
  assert_contains (r.out, "--min-healthy");
  assert_contains (r.out, "--timeout");
  g_assert_cmpstr (r.err, ==, "");
  run_clear (&r);

  RUN (&r, "--version");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, "rtsp-health-check " RTS_VERSION "\n");
  run_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/health-check/http/healthy", test_http_healthy);
  g_test_add_func ("/health-check/http/check-paths", test_http_check_paths);
  g_test_add_func ("/health-check/http/503", test_http_503);
  g_test_add_func ("/health-check/http/200-unhealthy", test_http_200_unhealthy);
  g_test_add_func ("/health-check/http/split-body", test_http_split_body);
  g_test_add_func ("/health-check/http/eof-framed", test_http_eof_framed);
  g_test_add_func ("/health-check/http/chunked", test_http_chunked);
  g_test_add_func ("/health-check/http/bad-answers", test_http_bad_answers);
  g_test_add_func ("/health-check/http/refused", test_http_refused);
  g_test_add_func ("/health-check/http/silent", test_http_silent);
  g_test_add_func ("/health-check/http/timeouts", test_http_default_timeout);
  g_test_add_func ("/health-check/http/localhost", test_http_localhost);
  g_test_add_func ("/health-check/http/unresolvable", test_http_unresolvable);
  g_test_add_func ("/health-check/http/ipv6-literal", test_http_ipv6_literal);
  g_test_add_func ("/health-check/rtsp/quorum", test_rtsp_quorum);
  g_test_add_func ("/health-check/rtsp/default-min", test_rtsp_default_min);
  g_test_add_func ("/health-check/rtsp/answers", test_rtsp_answers);
  g_test_add_func ("/health-check/rtsp/concurrent", test_rtsp_concurrent);
  g_test_add_func ("/health-check/usage-errors", test_usage_errors);
  g_test_add_func ("/health-check/help-version", test_help_version);
  return g_test_run ();
}
