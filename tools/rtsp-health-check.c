/* rtsp-health-check: the container health check of rtsp-test-server.
 *
 * Owns nothing but its own run: one HTTP GET of /health (or RTSP OPTIONS to
 * each port directly), one line saying why, exit 0 healthy / 1 not / 2 bad
 * usage. libc only, so it works in the slimmest image and forks nothing:
 * no shell, no curl, no Python. The whole run is bounded by --timeout. */
#define _GNU_SOURCE
#include "rtsp_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 16
#define MAX_RESPONSE (64 * 1024)

typedef struct {
  char host[256];
  char port[8];
  char path[1024];
} Url;

typedef struct {
  /* inputs */
  int port;
  /* state */
  int fd;
  int connected;
  size_t sent;
  char req[512];
  size_t req_len;
  char buf[MAX_RESPONSE];
  size_t len;
  int done;
  /* verdict */
  int status;
  char why[128];
} Conn;

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage_error (const char *fmt, ...)
{
  va_list ap;
  fputs ("rtsp-health-check: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputs (" (try --help)\n", stderr);
  exit (2);
}

static const char usage[] =
    "Usage: rtsp-health-check [OPTION...]\n"
    "Exit 0 when rtsp-test-server is healthy, 1 when not, 2 on bad usage.\n\n"
    "  --url URL            GET this and want 200 with \"status\":\"healthy\"\n"
    "                       (default http://127.0.0.1:8080/health)\n"
    "  --timeout SECONDS    bound on the whole run (default 3)\n"
    "  --rtsp-ports LIST    instead of HTTP, send RTSP OPTIONS to each port\n"
    "  --min-healthy N      with --rtsp-ports: ports that must answer 200\n"
    "                       (default: all of them)\n"
    "  --host HOST          with --rtsp-ports: where (default 127.0.0.1)\n"
    "  --help, --version\n";

static int
parse_url (const char *text, Url *u)
{
  const char *p, *host_end, *path;
  size_t n;

  if (strncmp (text, "http://", 7) != 0)
    return 0;
  p = text + 7;
  path = strchr (p, '/');
  if (!path)
    path = p + strlen (p);
  if (*p == '[') {
    host_end = memchr (p, ']', path - p);
    if (!host_end || host_end == p + 1)
      return 0;
    n = host_end - p - 1;
    if (n >= sizeof u->host)
      return 0;
    memcpy (u->host, p + 1, n);
    u->host[n] = '\0';
    p = host_end + 1;
  } else {
    host_end = memchr (p, ':', path - p);
    if (!host_end)
      host_end = path;
    n = host_end - p;
    if (n == 0 || n >= sizeof u->host)
      return 0;
    memcpy (u->host, p, n);
    u->host[n] = '\0';
    p = host_end;
  }
  if (*p == ':') {
    char *end;
    long port = strtol (p + 1, &end, 10);
    if (end != path || end == p + 1 || port < 1 || port > 65535)
      return 0;
    snprintf (u->port, sizeof u->port, "%ld", port);
  } else if (p == path) {
    strcpy (u->port, "80");
  } else {
    return 0;
  }
  if (strlen (*path ? path : "/") >= sizeof u->path)
    return 0;
  strcpy (u->path, *path ? path : "/");
  for (const char *c = u->path; *c; c++) {
    if ((unsigned char) *c <= ' ')
      return 0;
  }
  return 1;
}

/* Starts a non-blocking connect; the first address getaddrinfo gives. */
static int
start_connect (const char *host, const char *port, char *why, size_t why_len)
{
  struct addrinfo hints = { 0 }, *res = NULL;
  int fd, rc;

  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  rc = getaddrinfo (host, port, &hints, &res);
  if (rc != 0) {
    snprintf (why, why_len, "cannot resolve %s: %s", host, gai_strerror (rc));
    return -1;
  }
  fd = socket (res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf (why, why_len, "socket: %s", strerror (errno));
    freeaddrinfo (res);
    return -1;
  }
  if (connect (fd, res->ai_addr, res->ai_addrlen) < 0
      && errno != EINPROGRESS) {
    snprintf (why, why_len, "%s", strerror (errno));
    close (fd);
    fd = -1;
  }
  freeaddrinfo (res);
  return fd;
}

/* Moves one connection along as far as it can without blocking. */
static void
step (Conn *c, short revents, int want_body)
{
  if (!c->connected) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      snprintf (c->why, sizeof c->why, "%s", strerror (err));
      c->done = 1;
      return;
    }
    if (!(revents & POLLOUT))
      return;
    c->connected = 1;
  }
  while (c->sent < c->req_len) {
    ssize_t n = send (c->fd, c->req + c->sent, c->req_len - c->sent,
        MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN)
        return;
      snprintf (c->why, sizeof c->why, "send: %s", strerror (errno));
      c->done = 1;
      return;
    }
    c->sent += n;
  }
  for (;;) {
    ssize_t n;
    size_t hdr;

    if (c->len == sizeof c->buf) {
      snprintf (c->why, sizeof c->why, "response larger than %d bytes",
          MAX_RESPONSE);
      c->done = 1;
      return;
    }
    n = recv (c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n < 0) {
      if (errno != EAGAIN)
        snprintf (c->why, sizeof c->why, "recv: %s", strerror (errno));
      c->done = errno != EAGAIN;
      return;
    }
    c->len += n;
    hdr = wire_header_end (c->buf, c->len);
    if (hdr > 0) {
      long clen = wire_content_length (c->buf, hdr);
      /* Read the whole body before closing, so the server never sees
       * a reset. Without Content-Length, HTTP reads to EOF. */
      int complete = !want_body || (clen >= 0 && c->len >= hdr + clen)
          || n == 0;
      if (clen == -2) {
        snprintf (c->why, sizeof c->why, "malformed Content-Length");
        c->done = 1;
        return;
      }
      if (complete) {
        c->status = 1;
        c->done = 1;
        return;
      }
    }
    if (n == 0) {
      snprintf (c->why, sizeof c->why, c->len ? "connection closed "
          "mid-response" : "connection closed without a response");
      c->done = 1;
      return;
    }
  }
}

/* Runs every connection until done or DEADLINE. */
static void
run (Conn *conns, int n, double deadline, int want_body)
{
  for (;;) {
    struct pollfd pfd[MAX_PORTS];
    int idx[MAX_PORTS], k = 0;
    double left = deadline - now ();

    for (int i = 0; i < n; i++) {
      if (conns[i].done)
        continue;
      pfd[k].fd = conns[i].fd;
      pfd[k].events = conns[i].connected && conns[i].sent == conns[i].req_len
          ? POLLIN : POLLOUT | POLLIN;
      idx[k++] = i;
    }
    if (k == 0)
      return;
    if (left <= 0) {
      for (int i = 0; i < k; i++) {
        Conn *c = &conns[idx[i]];
        snprintf (c->why, sizeof c->why, "timed out %s",
            !c->connected ? "connecting" : "waiting for a response");
        c->done = 1;
      }
      return;
    }
    if (poll (pfd, k, (int) (left * 1000) + 1) < 0 && errno != EINTR)
      return;
    for (int i = 0; i < k; i++) {
      if (pfd[i].revents)
        step (&conns[idx[i]], pfd[i].revents, want_body);
    }
  }
}

static int
check_http (const char *url_text, double timeout)
{
  static Conn c;
  Url u;
  double t0 = now ();
  int code;
  size_t hdr;

  if (!parse_url (url_text, &u))
    usage_error ("--url: '%s' is not an http://HOST[:PORT][/PATH] URL",
        url_text);
  c.fd = start_connect (u.host, u.port, c.why, sizeof c.why);
  if (c.fd < 0) {
    printf ("unhealthy: %s: %s\n", url_text, c.why);
    return 1;
  }
  c.req_len = snprintf (c.req, sizeof c.req, "GET %s HTTP/1.1\r\nHost: %s%s%s:%s"
      "\r\nUser-Agent: rtsp-health-check/" RTS_VERSION "\r\nAccept: "
      "application/json\r\nConnection: close\r\n\r\n", u.path,
      strchr (u.host, ':') ? "[" : "", u.host, strchr (u.host, ':') ? "]" : "",
      u.port);
  run (&c, 1, t0 + timeout, 1);
  close (c.fd);
  if (!c.status) {
    printf ("unhealthy: %s: %s after %.1f ms\n", url_text, c.why,
        (now () - t0) * 1e3);
    return 1;
  }
  code = wire_status_code (c.buf, c.len, "HTTP");
  hdr = wire_header_end (c.buf, c.len);
  if (code != 200) {
    printf ("unhealthy: %s answered %d in %.1f ms\n", url_text, code,
        (now () - t0) * 1e3);
    return 1;
  }
  if (!wire_body_is_healthy (c.buf + hdr, c.len - hdr)) {
    printf ("unhealthy: %s answered 200 without \"status\":\"healthy\"\n",
        url_text);
    return 1;
  }
  printf ("healthy: %s answered 200 \"healthy\" in %.1f ms\n", url_text,
      (now () - t0) * 1e3);
  return 0;
}

static int
check_rtsp (const char *host, const int *ports, int n, int min_healthy,
    double timeout)
{
  static Conn conns[MAX_PORTS];
  char detail[MAX_PORTS * 64] = "";
  double t0 = now ();
  int ok = 0;
  int v6 = strchr (host, ':') != NULL;

  for (int i = 0; i < n; i++) {
    Conn *c = &conns[i];
    char port[8];
    snprintf (port, sizeof port, "%d", ports[i]);
    c->port = ports[i];
    c->fd = start_connect (host, port, c->why, sizeof c->why);
    c->done = c->fd < 0;
    c->req_len = snprintf (c->req, sizeof c->req, "OPTIONS rtsp://%s%s%s:%d/ "
        "RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: rtsp-health-check/" RTS_VERSION
        "\r\n\r\n", v6 ? "[" : "", host, v6 ? "]" : "", ports[i]);
  }
  run (conns, n, t0 + timeout, 0);
  for (int i = 0; i < n; i++) {
    Conn *c = &conns[i];
    size_t used = strlen (detail);
    int code = c->status ? wire_status_code (c->buf, c->len, "RTSP") : -1;

    if (c->fd >= 0)
      close (c->fd);
    if (code == 200)
      ok++;
    else if (c->status)
      snprintf (c->why, sizeof c->why, "answered %d", code);
    snprintf (detail + used, sizeof detail - used, "%s%d %s", i ? ", " : "",
        c->port, code == 200 ? "ok" : c->why);
  }
  printf ("%s: %d of %d RTSP ports answered (need %d) in %.1f ms: %s\n",
      ok >= min_healthy ? "healthy" : "unhealthy", ok, n, min_healthy,
      (now () - t0) * 1e3, detail);
  return ok >= min_healthy ? 0 : 1;
}

int
main (int argc, char **argv)
{
  const char *url = "http://127.0.0.1:8080/health";
  const char *host = "127.0.0.1";
  double timeout = 3;
  int ports[MAX_PORTS], n_ports = 0, min_healthy = -1;

  signal (SIGPIPE, SIG_IGN);
  setvbuf (stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *eq = strchr (arg, '=');
    char name[32];
    const char *value = NULL;
    char *end;

    if (!strcmp (arg, "--help") || !strcmp (arg, "-h")) {
      fputs (usage, stdout);
      return 0;
    }
    if (!strcmp (arg, "--version")) {
      puts ("rtsp-health-check " RTS_VERSION);
      return 0;
    }
    if (strncmp (arg, "--", 2) != 0)
      usage_error ("unexpected argument '%s'", arg);
    snprintf (name, sizeof name, "%.*s", eq ? (int) (eq - arg) : (int) strlen (arg), arg);
    if (eq)
      value = eq + 1;
    else if (i + 1 < argc)
      value = argv[++i];
    if (strcmp (name, "--url") && strcmp (name, "--timeout")
        && strcmp (name, "--rtsp-ports") && strcmp (name, "--min-healthy")
        && strcmp (name, "--host"))
      usage_error ("unknown option '%s'", name);
    if (!value)
      usage_error ("%s: needs a value", name);

    if (!strcmp (name, "--url")) {
      url = value;
    } else if (!strcmp (name, "--host")) {
      if (!*value || strlen (value) > 255)
        usage_error ("--host: bad value '%s'", value);
      host = value;
    } else if (!strcmp (name, "--timeout")) {
      errno = 0;
      timeout = strtod (value, &end);
      if (errno || end == value || *end || !(timeout > 0 && timeout <= 300))
        usage_error ("--timeout: bad value '%s': expects seconds above 0 and "
            "at most 300", value);
    } else if (!strcmp (name, "--min-healthy")) {
      long v = strtol (value, &end, 10);
      if (end == value || *end || v < 1 || v > MAX_PORTS)
        usage_error ("--min-healthy: bad value '%s': expects 1 to %d", value,
            MAX_PORTS);
      min_healthy = (int) v;
    } else {
      char list[256];
      snprintf (list, sizeof list, "%s", value);
      n_ports = 0;
      for (char *save = NULL, *tok = strtok_r (list, ",", &save); tok;
          tok = strtok_r (NULL, ",", &save)) {
        long v = strtol (tok, &end, 10);
        if (end == tok || *end || v < 1 || v > 65535)
          usage_error ("--rtsp-ports: '%s' is not a port (1-65535)", tok);
        if (n_ports == MAX_PORTS)
          usage_error ("--rtsp-ports: at most %d ports", MAX_PORTS);
        ports[n_ports++] = (int) v;
      }
      if (n_ports == 0)
        usage_error ("--rtsp-ports: bad value '%s'", value);
    }
  }

  if (n_ports == 0) {
    if (min_healthy >= 0)
      usage_error ("--min-healthy goes with --rtsp-ports");
    return check_http (url, timeout);
  }
  if (min_healthy < 0)
    min_healthy = n_ports;
  if (min_healthy > n_ports)
    usage_error ("--min-healthy: %d is more than the %d ports given",
        min_healthy, n_ports);
  return check_rtsp (host, ports, n_ports, min_healthy, timeout);
}
