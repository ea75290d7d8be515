/* rtsp-health-check: the Docker HEALTHCHECK and ECS health check of
 * rtsp-test-server.
 *
 * Owns its command line, name resolution, and a single poll() loop that
 * drives every connection against one deadline, so a hung server can never
 * hold a health check past --timeout. It links libc and rtsp_wire only: the
 * image it runs in may have nothing else. Prints one line on stdout saying
 * why; exits 0 healthy, 1 unhealthy, 2 on a bad command line. */
#define _GNU_SOURCE /* asprintf */

#include "health_check_response.h"
#include "rtsp_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RTS_VERSION
#error "RTS_VERSION must be defined (meson passes -DRTS_VERSION)"
#endif

#define PROGRAM "rtsp-health-check"

enum {
  EXIT_HEALTHY = 0,
  EXIT_UNHEALTHY = 1,
  EXIT_USAGE = 2,
};

#define MAX_PORTS 64
#define MAX_ADDRS 16
#define MAX_TIMEOUT 300.0
#define DEFAULT_URL "http://127.0.0.1:8080/health"
/* Larger than any answer the server gives; past it the peer is not ours. */
#define MAX_RESPONSE HC_MAX_RESPONSE

typedef struct {
  int family;
  socklen_t len;
  struct sockaddr_storage ss;
} Addr;

typedef enum {
  PROBE_HTTP,
  PROBE_RTSP,
} ProbeKind;

typedef enum {
  STATE_CONNECTING,
  STATE_SENDING,
  STATE_READING,
  STATE_DONE,
} ProbeState;

typedef struct {
  ProbeKind kind;
  unsigned port;
  Addr addrs[MAX_ADDRS];
  size_t n_addrs;
  size_t next_addr;
  int fd;
  int last_errno;
  ProbeState state;
  char *req;
  size_t req_len;
  size_t sent;
  char *buf;
  size_t len;
  size_t cap;
  int eof;
  /* Results, valid once state is STATE_DONE. */
  int ok;
  int timed_out;
  int not_waited; /* given up on once the verdict was known */
  const char *timeout_phase;
  int status;
  const char *body; /* into buf, or body_owned */
  size_t body_len;
  char *body_owned; /* the decoded body, when it came chunked */
  char why[128];
  double started;
  double finished;
} Probe;

typedef struct {
  const char *url;
  char *url_host;
  unsigned url_port;
  char *url_path;
  char *url_shown; /* with --live, --ready, --port: the URL really asked */
  double timeout;
  const char *timeout_arg;
  unsigned ports[MAX_PORTS];
  size_t n_ports;
  const char *ports_arg;
  long min_healthy;
  const char *min_healthy_arg;
  const char *host_arg;
  char *rtsp_host;
  const char *check_flag; /* --live, --ready or --port: which path */
  char check_path[32];    /* /health/live, /health/ready, /health/N */
} Options;

static void format_authority (const char *host, unsigned port,
    unsigned default_port, char *out, size_t n);

static double
now_mono (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds for poll(), rounded up so an unexpired deadline never turns
 * into a busy loop of zero-timeout polls. */
static int
remaining_ms (double deadline)
{
  double left = deadline - now_mono ();

  if (left <= 0)
    return 0;
  return (int) (left * 1000.0) + 1;
}

/* "3.0", "0.5", "0.25": one decimal unless the value needs more. */
static void
format_seconds (double s, char *out, size_t n)
{
  long tenths = (long) (s * 10 + 0.5);
  double diff = s * 10 - (double) tenths;

  if (diff < 1e-9 && diff > -1e-9)
    snprintf (out, n, "%.1f", s);
  else
    snprintf (out, n, "%g", s);
}

/* Copies S into OUT with anything unprintable escaped, so a hostile value
 * can never split the one line of output. */
static void
printable (const char *s, size_t len, char *out, size_t n)
{
  size_t o = 0;

  if (n == 0)
    return;
  for (size_t i = 0; i < len && o + 5 < n; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out[o++] = (char) c;
    } else {
      snprintf (out + o, n - o, "\\x%02x", c);
      o += 4;
    }
  }
  out[o] = '\0';
}

static void
usage_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
usage_error (const char *fmt, ...)
{
  va_list ap;

  fputs (PROGRAM ": ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputs (" (see --help)\n", stderr);
}

static void
print_usage (void)
{
  fputs ("Usage: " PROGRAM " [--url URL] [--live|--ready|--port N] "
         "[--timeout SECONDS]\n"
         "       " PROGRAM " --rtsp-ports LIST [--min-healthy N] "
         "[--host HOST] [--timeout SECONDS]\n"
         "\n"
         "Health check of rtsp-test-server. Prints one line saying why, and\n"
         "exits 0 when healthy, 1 when not, 2 on a bad command line.\n"
         "\n"
         "  --url URL          GET this http:// URL; healthy when it answers "
         "200\n"
         "                     with a JSON body whose \"status\" is "
         "\"healthy\"\n"
         "                     (default " DEFAULT_URL ")\n"
         "  --live             GET /health/live: the process and its loop "
         "work\n"
         "  --ready            GET /health/ready: every camera answers\n"
         "  --port N           GET /health/N: that one RTSP port answers\n"
         "                     (these three keep --url's host and port)\n"
         "  --rtsp-ports LIST  instead, send RTSP OPTIONS to each "
         "comma-separated\n"
         "                     port; healthy when enough answer "
         "RTSP/1.0 200\n"
         "  --min-healthy N    RTSP ports that must answer (default: all)\n"
         "  --host HOST        host of the RTSP ports (default 127.0.0.1)\n"
         "  --timeout SECONDS  limit on the whole check, decimals allowed\n"
         "                     (default 3, at most 300)\n"
         "  --help             show this help\n"
         "  --version          show the version\n",
      stdout);
}

/* Exactly what a URL or the port list may hold: 1..65535, digits only. */
static int
parse_port (const char *s, size_t n, unsigned *out)
{
  unsigned long v = 0;

  if (n == 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (unsigned long) (s[i] - '0');
    if (v > 65535)
      return -1;
  }
  if (v == 0)
    return -1;
  *out = (unsigned) v;
  return 0;
}

/* Digits with at most one dot: strtod alone would also take "inf", "nan",
 * hex and leading blanks, none of which is a sane timeout. */
static int
parse_timeout (const char *s, double *out)
{
  int digits = 0, dots = 0;
  char *end;

  for (const char *p = s; *p; p++) {
    if (*p >= '0' && *p <= '9')
      digits++;
    else if (*p == '.' && dots == 0)
      dots++;
    else
      return -1;
  }
  if (digits == 0)
    return -1;
  errno = 0;
  *out = strtod (s, &end);
  return errno == 0 && *end == '\0' ? 0 : -1;
}

static int
parse_ports (const char *arg, Options *o)
{
  const char *p = arg;
  char shown[256];

  printable (arg, strlen (arg), shown, sizeof shown);
  o->n_ports = 0;
  for (;;) {
    const char *comma = strchr (p, ',');
    size_t n = comma ? (size_t) (comma - p) : strlen (p);
    char entry[64];

    if (n == 0) {
      usage_error ("--rtsp-ports: \"%s\" has an empty entry; want ports like "
                   "8554,8555",
          shown);
      return -1;
    }
    if (o->n_ports == MAX_PORTS) {
      usage_error ("--rtsp-ports: \"%s\" lists more than %d ports", shown,
          MAX_PORTS);
      return -1;
    }
    if (parse_port (p, n, &o->ports[o->n_ports]) < 0) {
      printable (p, n, entry, sizeof entry);
      if (n == strlen (arg))
        usage_error ("--rtsp-ports: \"%s\" is not a port (1..65535)", entry);
      else
        usage_error ("--rtsp-ports: \"%s\" is not a port (1..65535) in "
                     "\"%s\"",
            entry, shown);
      return -1;
    }
    for (size_t k = 0; k < o->n_ports; k++) {
      if (o->ports[k] == o->ports[o->n_ports]) {
        usage_error ("--rtsp-ports: port %u is listed twice in \"%s\" (each "
                     "counts toward --min-healthy)",
            o->ports[k], shown);
        return -1;
      }
    }
    o->n_ports++;
    if (!comma)
      return 0;
    p = comma + 1;
  }
}

/* A whole number in 1..MAX_PORTS, or -1. */
static long
parse_count (const char *s)
{
  long v = 0;

  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (*s - '0');
    if (v > MAX_PORTS)
      v = MAX_PORTS + 1;
  }
  return v;
}

static int
is_host_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
      || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static int
is_ipv6_char (char c)
{
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
      || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

/* A host name, IPv4 address, or IPv6 address with or without brackets.
 * Returns it without brackets (malloc'd), NULL when unusable. */
static char *
parse_host (const char *s, size_t n)
{
  char *host;

  if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
    s++;
    n -= 2;
  }
  if (n == 0 || n > 253)
    return NULL;
  if (memchr (s, ':', n)) {
    /* Zone ids ("%eth0") are left out: they make no sense for a check that
     * runs inside the server's own network namespace. */
    for (size_t i = 0; i < n; i++)
      if (!is_ipv6_char (s[i]))
        return NULL;
  } else {
    for (size_t i = 0; i < n; i++)
      if (!is_host_char (s[i]))
        return NULL;
  }
  host = malloc (n + 1);
  if (host) {
    memcpy (host, s, n);
    host[n] = '\0';
  }
  return host;
}

static int
parse_url (const char *url, Options *o)
{
  const char *sep, *auth, *auth_end, *host_end, *path, *frag;
  size_t path_len;

  for (const char *p = url; *p; p++) {
    if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f) {
      char shown[256];
      printable (url, strlen (url), shown, sizeof shown);
      usage_error ("--url: \"%s\" holds a space or a control character", shown);
      return -1;
    }
  }
  sep = strstr (url, "://");
  if (sep && sep - url == 5 && strncasecmp (url, "https", 5) == 0) {
    usage_error ("--url: \"%s\" is https; only http:// URLs are supported",
        url);
    return -1;
  }
  if (!sep || sep - url != 4 || strncasecmp (url, "http", 4) != 0) {
    usage_error ("--url: \"%s\" is not an http:// URL", url);
    return -1;
  }
  auth = sep + 3;
  auth_end = auth + strcspn (auth, "/?#");
  if (memchr (auth, '@', (size_t) (auth_end - auth))) {
    usage_error ("--url: \"%s\" has user info, which is not supported", url);
    return -1;
  }

  o->url_port = 80;
  if (auth < auth_end && *auth == '[') {
    const char *close = memchr (auth, ']', (size_t) (auth_end - auth));
    if (!close) {
      usage_error ("--url: \"%s\" has an unterminated [IPv6] host", url);
      return -1;
    }
    host_end = close + 1;
  } else {
    host_end = memchr (auth, ':', (size_t) (auth_end - auth));
    if (!host_end)
      host_end = auth_end;
    else if (memchr (host_end + 1, ':', (size_t) (auth_end - host_end - 1))) {
      usage_error ("--url: \"%s\" has an IPv6 host without [brackets]", url);
      return -1;
    }
  }
  if (host_end == auth) {
    usage_error ("--url: \"%s\" has no host", url);
    return -1;
  }
  if (host_end < auth_end) {
    if (*host_end != ':'
        || parse_port (host_end + 1, (size_t) (auth_end - host_end - 1),
               &o->url_port)
            < 0) {
      usage_error ("--url: \"%s\" has a bad port (want host:1..65535)", url);
      return -1;
    }
  }
  o->url_host = parse_host (auth, (size_t) (host_end - auth));
  if (!o->url_host || (*auth != '[' && strchr (o->url_host, ':'))) {
    usage_error ("--url: \"%s\" has a bad host (IPv6 needs [brackets])", url);
    return -1;
  }

  path = auth_end;
  frag = strchr (path, '#');
  path_len = frag ? (size_t) (frag - path) : strlen (path);
  o->url_path = malloc (path_len + 2);
  if (!o->url_path)
    return -1;
  /* "http://h" and "http://h?x" both mean the root resource. */
  snprintf (o->url_path, path_len + 2, "%s%.*s",
      path_len == 0 || *path != '/' ? "/" : "", (int) path_len, path);
  return 0;
}

/* Splits "--name=value" and "--name value". Returns the value, or NULL after
 * reporting a missing one. */
static const char *
take_value (int argc, char **argv, int *i, const char *name, const char *eq)
{
  if (eq)
    return eq + 1;
  if (*i + 1 >= argc) {
    usage_error ("%s: missing value", name);
    return NULL;
  }
  return argv[++*i];
}

/* Returns -1 to go on, else the exit code. */
static int
parse_args (int argc, char **argv, Options *o)
{
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *eq = strchr (arg, '=');
    size_t name_len = eq ? (size_t) (eq - arg) : strlen (arg);
    char name[64];
    const char *v;

    printable (arg, name_len, name, sizeof name);
#define IS(flag)                                                               \
  (name_len == sizeof flag - 1 && memcmp (arg, flag, name_len) == 0)
    if (IS ("--help") || IS ("-h") || IS ("--version")) {
      if (eq) {
        usage_error ("%s: takes no value", name);
        return EXIT_USAGE;
      }
      if (IS ("--version"))
        puts (PROGRAM " " RTS_VERSION);
      else
        print_usage ();
      return EXIT_HEALTHY;
    } else if (IS ("--url")) {
      if (!(v = take_value (argc, argv, &i, name, eq)))
        return EXIT_USAGE;
      o->url = v;
    } else if (IS ("--timeout")) {
      if (!(v = take_value (argc, argv, &i, name, eq)))
        return EXIT_USAGE;
      o->timeout_arg = v;
    } else if (IS ("--rtsp-ports")) {
      if (!(v = take_value (argc, argv, &i, name, eq)))
        return EXIT_USAGE;
      o->ports_arg = v;
    } else if (IS ("--min-healthy")) {
      if (!(v = take_value (argc, argv, &i, name, eq)))
        return EXIT_USAGE;
      o->min_healthy_arg = v;
    } else if (IS ("--host")) {
      if (!(v = take_value (argc, argv, &i, name, eq)))
        return EXIT_USAGE;
      o->host_arg = v;
    } else if (IS ("--live") || IS ("--ready")) {
      if (eq) {
        usage_error ("%s: takes no value", name);
        return EXIT_USAGE;
      }
      if (o->check_flag) {
        usage_error ("%s and %s: use one or the other", o->check_flag, name);
        return EXIT_USAGE;
      }
      o->check_flag = IS ("--live") ? "--live" : "--ready";
      snprintf (o->check_path, sizeof o->check_path, "/health/%s",
          o->check_flag + 2);
    } else if (IS ("--port")) {
      unsigned port;
      char shown[64];
      if (!(v = take_value (argc, argv, &i, name, eq)))
        return EXIT_USAGE;
      if (o->check_flag) {
        usage_error ("%s and --port: use one or the other", o->check_flag);
        return EXIT_USAGE;
      }
      printable (v, strlen (v), shown, sizeof shown);
      if (parse_port (v, strlen (v), &port) < 0) {
        usage_error ("--port: \"%s\" is not a port (1..65535)", shown);
        return EXIT_USAGE;
      }
      o->check_flag = "--port";
      snprintf (o->check_path, sizeof o->check_path, "/health/%u", port);
    } else if (arg[0] == '-') {
      usage_error ("%s: unknown option", name);
      return EXIT_USAGE;
    } else {
      char shown[128];
      printable (arg, strlen (arg), shown, sizeof shown);
      usage_error ("\"%s\": unexpected argument", shown);
      return EXIT_USAGE;
    }
#undef IS
  }
  return -1;
}

/* Checks every value once all flags are in, since --min-healthy may come
 * before the --rtsp-ports it is compared with. */
static int
check_options (Options *o)
{
  char shown[256];

  if (o->timeout_arg) {
    printable (o->timeout_arg, strlen (o->timeout_arg), shown, sizeof shown);
    if (parse_timeout (o->timeout_arg, &o->timeout) < 0) {
      usage_error ("--timeout: \"%s\" is not a number of seconds", shown);
      return -1;
    }
    if (!(o->timeout > 0 && o->timeout <= MAX_TIMEOUT)) {
      usage_error ("--timeout: \"%s\" is out of range (more than 0, at most "
                   "%g seconds)",
          shown, MAX_TIMEOUT);
      return -1;
    }
  }

  if (o->url && o->ports_arg) {
    usage_error ("--url and --rtsp-ports: use one or the other");
    return -1;
  }
  if (o->check_flag && o->ports_arg) {
    usage_error ("%s and --rtsp-ports: use one or the other", o->check_flag);
    return -1;
  }
  if (!o->ports_arg) {
    if (o->min_healthy_arg || o->host_arg) {
      const char *v = o->min_healthy_arg ? o->min_healthy_arg : o->host_arg;
      printable (v, strlen (v), shown, sizeof shown);
      usage_error ("%s: \"%s\" only makes sense with --rtsp-ports",
          o->min_healthy_arg ? "--min-healthy" : "--host", shown);
      return -1;
    }
    if (parse_url (o->url ? o->url : DEFAULT_URL, o) < 0)
      return -1;
    /* --live, --ready and --port ask the same server another question:
     * the URL's host and port, their own path. */
    if (o->check_flag) {
      char asked[600];
      char authority[300];
      free (o->url_path);
      o->url_path = strdup (o->check_path);
      if (!o->url_path)
        return -1;
      /* Messages name the URL asked, not the one given. */
      format_authority (o->url_host, o->url_port, 80, authority,
          sizeof authority);
      snprintf (asked, sizeof asked, "http://%s%s", authority, o->url_path);
      free (o->url_shown);
      o->url_shown = strdup (asked);
      if (!o->url_shown)
        return -1;
      o->url = o->url_shown;
    }
    return 0;
  }

  if (parse_ports (o->ports_arg, o) < 0)
    return -1;

  o->min_healthy = (long) o->n_ports;
  if (o->min_healthy_arg) {
    long v = parse_count (o->min_healthy_arg);
    printable (o->min_healthy_arg, strlen (o->min_healthy_arg), shown,
        sizeof shown);
    if (v < 0) {
      usage_error ("--min-healthy: \"%s\" is not a whole number", shown);
      return -1;
    }
    if (v == 0 || v > (long) o->n_ports) {
      usage_error ("--min-healthy: \"%s\" is out of range (1..%zu, the number "
                   "of --rtsp-ports)",
          shown, o->n_ports);
      return -1;
    }
    o->min_healthy = v;
  }

  if (o->host_arg) {
    o->rtsp_host = parse_host (o->host_arg, strlen (o->host_arg));
    if (!o->rtsp_host) {
      printable (o->host_arg, strlen (o->host_arg), shown, sizeof shown);
      usage_error ("--host: \"%s\" is not a host name or IP address", shown);
      return -1;
    }
  } else {
    o->rtsp_host = strdup ("127.0.0.1");
  }
  return o->rtsp_host ? 0 : -1;
}

static void
copy_addrinfo (const struct addrinfo *res, Addr *out, size_t *n)
{
  *n = 0;
  for (const struct addrinfo *ai = res; ai && *n < MAX_ADDRS;
       ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
        || ai->ai_addrlen > sizeof out->ss)
      continue;
    out[*n].family = ai->ai_family;
    out[*n].len = ai->ai_addrlen;
    memset (&out[*n].ss, 0, sizeof out[*n].ss);
    memcpy (&out[*n].ss, ai->ai_addr, ai->ai_addrlen);
    (*n)++;
  }
}

static int
write_all (int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0) {
    ssize_t n = write (fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t) n;
  }
  return 0;
}

/* Resolves a name in a child process: getaddrinfo() cannot be interrupted,
 * and a dead DNS server must not stretch the check past its deadline. The
 * child writes {gai error, errno, addresses...} into a pipe. Returns 0,
 * -1 with WHY set, or -2 on timeout. */
static int
resolve_in_child (const char *host, Addr *out, size_t *n, double deadline,
    char *why, size_t why_len)
{
  int fds[2];
  pid_t pid;
  int header[2];
  char buf[sizeof header + MAX_ADDRS * sizeof (Addr)];
  size_t got = 0;
  int timed_out = 0;

  if (pipe (fds) < 0) {
    snprintf (why, why_len, "cannot resolve \"%s\": pipe: %s", host,
        strerror (errno));
    return -1;
  }
  pid = fork ();
  if (pid < 0) {
    snprintf (why, why_len, "cannot resolve \"%s\": fork: %s", host,
        strerror (errno));
    close (fds[0]);
    close (fds[1]);
    return -1;
  }
  if (pid == 0) {
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    Addr addrs[MAX_ADDRS];
    size_t count = 0;

    close (fds[0]);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    header[0] = getaddrinfo (host, NULL, &hints, &res);
    header[1] = errno;
    if (header[0] == 0) {
      copy_addrinfo (res, addrs, &count);
      freeaddrinfo (res);
    }
    if (write_all (fds[1], header, sizeof header) < 0
        || write_all (fds[1], addrs, count * sizeof (Addr)) < 0)
      _exit (1);
    _exit (0);
  }

  close (fds[1]);
  fcntl (fds[0], F_SETFL, fcntl (fds[0], F_GETFL) | O_NONBLOCK);
  for (;;) {
    struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
    int ms = remaining_ms (deadline);
    ssize_t r;

    if (ms == 0) {
      timed_out = 1;
      break;
    }
    if (poll (&pfd, 1, ms) < 0 && errno != EINTR) {
      timed_out = 1;
      break;
    }
    r = read (fds[0], buf + got, sizeof buf - got);
    if (r > 0) {
      got += (size_t) r;
      if (got == sizeof buf)
        break;
    } else if (r == 0) {
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      break;
    }
  }
  close (fds[0]);
  if (timed_out)
    kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (timed_out)
    return -2;

  if (got < sizeof header) {
    snprintf (why, why_len, "cannot resolve \"%s\": resolver process failed",
        host);
    return -1;
  }
  memcpy (header, buf, sizeof header);
  if (header[0] != 0) {
    snprintf (why, why_len, "cannot resolve \"%s\": %s", host,
        header[0] == EAI_SYSTEM ? strerror (header[1])
                                : gai_strerror (header[0]));
    return -1;
  }
  *n = (got - sizeof header) / sizeof (Addr);
  memcpy (out, buf + sizeof header, *n * sizeof (Addr));
  if (*n == 0) {
    snprintf (why, why_len, "cannot resolve \"%s\": no IPv4 or IPv6 address",
        host);
    return -1;
  }
  return 0;
}

/* Addresses (the usual case) resolve in-process without any I/O; only names
 * pay for the child process. */
static int
resolve (const char *host, Addr *out, size_t *n, double deadline, char *why,
    size_t why_len)
{
  struct addrinfo hints = { 0 };
  struct addrinfo *res = NULL;
  int rc;

  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  rc = getaddrinfo (host, NULL, &hints, &res);
  if (rc == 0) {
    copy_addrinfo (res, out, n);
    freeaddrinfo (res);
    if (*n > 0)
      return 0;
  }
  return resolve_in_child (host, out, n, deadline, why, why_len);
}

static void
set_port (Addr *a, unsigned port)
{
  if (a->family == AF_INET)
    ((struct sockaddr_in *) &a->ss)->sin_port = htons ((uint16_t) port);
  else
    ((struct sockaddr_in6 *) &a->ss)->sin6_port = htons ((uint16_t) port);
}

static const char *
errno_text (int err)
{
  switch (err) {
    case ECONNREFUSED:
      return "connection refused";
    case ECONNRESET:
      return "connection reset";
    case EPIPE:
      return "connection closed while sending";
    case ETIMEDOUT:
      return "connection timed out";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case EADDRNOTAVAIL:
      return "address not available";
    default:
      return strerror (err);
  }
}

static void
probe_close (Probe *p)
{
  if (p->fd >= 0)
    close (p->fd);
  p->fd = -1;
}

static void probe_fail (Probe *p, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
probe_fail (Probe *p, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (p->why, sizeof p->why, fmt, ap);
  va_end (ap);
  p->ok = 0;
  p->state = STATE_DONE;
  p->finished = now_mono ();
  probe_close (p);
}

static void
probe_succeed (Probe *p)
{
  p->ok = 1;
  p->state = STATE_DONE;
  p->finished = now_mono ();
  probe_close (p);
}

/* Connects to the next address that does not fail at once. */
static void
probe_connect (Probe *p)
{
  while (p->next_addr < p->n_addrs) {
    const Addr *a = &p->addrs[p->next_addr++];

    p->fd = socket (a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
      p->last_errno = errno;
      continue;
    }
    if (connect (p->fd, (const struct sockaddr *) &a->ss, a->len) == 0) {
      p->state = STATE_SENDING;
      return;
    }
    if (errno == EINPROGRESS || errno == EINTR) {
      p->state = STATE_CONNECTING;
      return;
    }
    p->last_errno = errno;
    probe_close (p);
  }
  probe_fail (p, "%s", errno_text (p->last_errno ? p->last_errno : EINVAL));
}

/* Judges the bytes read so far. Returns 1 when the response is complete
 * (or hopeless: the probe is then done), 0 when more is needed. */
static int
probe_check (Probe *p)
{
  HcResponse r;
  int rc = hc_response_judge (p->kind == PROBE_HTTP ? HC_HTTP : HC_RTSP, p->buf,
      p->len, p->eof, &r);

  p->status = r.status;
  if (rc == HC_FAIL) {
    probe_fail (p, "%s", r.why);
    return 1;
  }
  if (rc == HC_MORE)
    return 0;
  p->body = r.body;
  p->body_len = r.body_len;
  p->body_owned = r.body_owned;
  probe_succeed (p);
  return 1;
}

static void
probe_read (Probe *p)
{
  for (;;) {
    ssize_t n;

    if (p->len == p->cap) {
      size_t cap = p->cap ? p->cap * 2 : 4096;
      char *b;
      if (p->cap >= MAX_RESPONSE) {
        probe_fail (p, "answer larger than %d KiB", MAX_RESPONSE / 1024);
        return;
      }
      b = realloc (p->buf, cap);
      if (!b) {
        probe_fail (p, "out of memory");
        return;
      }
      p->buf = b;
      p->cap = cap;
    }
    n = recv (p->fd, p->buf + p->len, p->cap - p->len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      probe_fail (p, "%s", errno_text (errno));
      return;
    }
    if (n == 0)
      p->eof = 1;
    p->len += (size_t) n;
    if (probe_check (p) || p->eof)
      return;
  }
}

static void
probe_step (Probe *p, short revents)
{
  if (p->state == STATE_CONNECTING) {
    int err = 0;
    socklen_t elen = sizeof err;

    if (getsockopt (p->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
      err = errno;
    /* A hang-up without SO_ERROR still means the connect failed. */
    if (err == 0 && !(revents & POLLOUT))
      err = ECONNRESET;
    if (err != 0) {
      /* Try the next address: "localhost" may be ::1 then 127.0.0.1. */
      p->last_errno = err;
      probe_close (p);
      probe_connect (p);
      return;
    }
    p->state = STATE_SENDING;
  }
  if (p->state == STATE_SENDING) {
    while (p->sent < p->req_len) {
      ssize_t n =
          send (p->fd, p->req + p->sent, p->req_len - p->sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return;
        probe_fail (p, "%s", errno_text (errno));
        return;
      }
      p->sent += (size_t) n;
    }
    p->state = STATE_READING;
    return;
  }
  if (p->state == STATE_READING)
    probe_read (p);
}

static const char *
timeout_phase (const Probe *p)
{
  switch (p->state) {
    case STATE_CONNECTING:
      return "connecting to";
    case STATE_SENDING:
      return "sending the request to";
    default:
      return p->len ? "reading the response from" : "waiting for response from";
  }
}

static void
probe_timeout (Probe *p)
{
  p->timeout_phase = timeout_phase (p);
  p->timed_out = 1;
  probe_fail (p, "timed out");
}

/* Drives every probe to completion or to DEADLINE in one poll loop, so
 * silent ports cost the timeout once, not once each; and stops as soon as
 * NEED of them answered 200 or too many failed for NEED to be reached:
 * the verdict is known, and a silent port must not hold it back until the
 * timeout (a caller whose own timeout is ours would count a failure). */
static void
run_probes (Probe *probes, size_t n, double deadline, size_t need)
{
  struct pollfd pfds[MAX_PORTS];
  size_t owner[MAX_PORTS];

  for (size_t i = 0; i < n; i++) {
    probes[i].started = now_mono ();
    probe_connect (&probes[i]);
  }
  for (;;) {
    size_t np = 0, good = 0, bad = 0;
    int ms, rc;

    for (size_t i = 0; i < n; i++) {
      Probe *p = &probes[i];
      if (p->state == STATE_DONE) {
        if (p->ok && p->status == 200)
          good++;
        else
          bad++;
        continue;
      }
      pfds[np].fd = p->fd;
      pfds[np].events = p->state == STATE_READING ? POLLIN : POLLOUT;
      pfds[np].revents = 0;
      owner[np++] = i;
    }
    if (np == 0)
      return;
    if (good >= need || bad > n - need) {
      for (size_t k = 0; k < np; k++) {
        probe_fail (&probes[owner[k]], "not waited for (verdict known)");
        probes[owner[k]].not_waited = 1;
      }
      return;
    }
    ms = remaining_ms (deadline);
    if (ms == 0) {
      for (size_t k = 0; k < np; k++)
        probe_timeout (&probes[owner[k]]);
      return;
    }
    rc = poll (pfds, (nfds_t) np, ms);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      for (size_t k = 0; k < np; k++)
        probe_fail (&probes[owner[k]], "poll: %s", strerror (errno));
      return;
    }
    for (size_t k = 0; k < np; k++)
      if (pfds[k].revents)
        probe_step (&probes[owner[k]], pfds[k].revents);
  }
}

static void
probe_clear (Probe *p)
{
  probe_close (p);
  free (p->req);
  free (p->buf);
  free (p->body_owned);
}

/* "host" or "[v6]", with ":port" unless it is DEFAULT_PORT. */
static void
format_authority (const char *host, unsigned port, unsigned default_port,
    char *out, size_t n)
{
  int v6 = strchr (host, ':') != NULL;

  if (port == default_port)
    snprintf (out, n, v6 ? "[%s]" : "%s", host);
  else
    snprintf (out, n, v6 ? "[%s]:%u" : "%s:%u", host, port);
}

static int
check_http (const Options *o, double deadline)
{
  Probe *p = calloc (1, sizeof *p);
  char authority[300], timeout_s[32], why[256];
  int rc;
  int healthy = 0;

  format_seconds (o->timeout, timeout_s, sizeof timeout_s);
  format_authority (o->url_host, o->url_port, 80, authority, sizeof authority);
  if (!p) {
    printf ("unhealthy: %s: out of memory\n", o->url);
    return EXIT_UNHEALTHY;
  }
  p->fd = -1;
  p->kind = PROBE_HTTP;
  p->port = o->url_port;

  rc = resolve (o->url_host, p->addrs, &p->n_addrs, deadline, why, sizeof why);
  if (rc == -2) {
    printf ("unhealthy: timed out after %s s resolving \"%s\"\n", timeout_s,
        o->url_host);
    goto out;
  }
  if (rc < 0) {
    printf ("unhealthy: %s: %s\n", o->url, why);
    goto out;
  }
  for (size_t i = 0; i < p->n_addrs; i++)
    set_port (&p->addrs[i], p->port);

  rc = asprintf (&p->req,
      "GET %s HTTP/1.1\r\n"
      "Host: %s\r\n"
      "User-Agent: " PROGRAM "/" RTS_VERSION "\r\n"
      "Accept: application/json\r\n"
      "Connection: close\r\n"
      "\r\n",
      o->url_path, authority);
  if (rc < 0) {
    p->req = NULL;
    printf ("unhealthy: %s: out of memory\n", o->url);
    goto out;
  }
  p->req_len = (size_t) rc;

  run_probes (p, 1, deadline, 1);
  if (p->timed_out) {
    printf ("unhealthy: timed out after %s s %s %s\n", timeout_s,
        p->timeout_phase, authority);
  } else if (!p->ok) {
    printf ("unhealthy: %s: %s\n", o->url, p->why);
  } else {
    char excerpt[1300];
    const char *reason = NULL;
    long reason_len =
        wire_body_member (p->body, p->body_len, "reason", &reason);
    /* Why, as the server put it: the body's first bytes cut its "reason"
     * off in every answer. Without one, those bytes. */
    const char *shown = reason_len >= 0 ? reason : p->body;
    size_t len = reason_len >= 0 ? (size_t) reason_len : p->body_len;
    size_t show = len < 240 ? len : 240;

    printable (shown, show, excerpt, sizeof excerpt);
    healthy = p->status == 200 && wire_body_is_healthy (p->body, p->body_len);
    if (healthy)
      printf ("healthy: %s answered 200 \"healthy\" in %.1f ms\n", o->url,
          (p->finished - p->started) * 1e3);
    else if (p->status != 200)
      printf ("unhealthy: %s answered %d: %s%s\n", o->url, p->status, excerpt,
          show < len ? "..." : "");
    else
      printf ("unhealthy: %s answered 200 without \"status\":\"healthy\": "
              "%s%s\n",
          o->url, excerpt, show < len ? "..." : "");
  }

out:
  probe_clear (p);
  free (p);
  return healthy ? EXIT_HEALTHY : EXIT_UNHEALTHY;
}

static int
check_rtsp (const Options *o, double deadline)
{
  Probe *probes = calloc (o->n_ports, sizeof *probes);
  Addr addrs[MAX_ADDRS];
  size_t n_addrs = 0, healthy = 0, waited = 0;
  char why[256], timeout_s[32], line[MAX_PORTS * 64 + 256];
  size_t used = 0;
  int rc;

  format_seconds (o->timeout, timeout_s, sizeof timeout_s);
  if (!probes) {
    printf ("unhealthy: out of memory\n");
    return EXIT_UNHEALTHY;
  }
  for (size_t i = 0; i < o->n_ports; i++)
    probes[i].fd = -1;

  rc = resolve (o->rtsp_host, addrs, &n_addrs, deadline, why, sizeof why);
  if (rc == -2) {
    printf ("unhealthy: timed out after %s s resolving \"%s\"\n", timeout_s,
        o->rtsp_host);
    goto out;
  }
  if (rc < 0) {
    printf ("unhealthy: %s\n", why);
    goto out;
  }

  for (size_t i = 0; i < o->n_ports; i++) {
    Probe *p = &probes[i];
    char authority[300];

    p->kind = PROBE_RTSP;
    p->port = o->ports[i];
    memcpy (p->addrs, addrs, n_addrs * sizeof (Addr));
    p->n_addrs = n_addrs;
    for (size_t k = 0; k < n_addrs; k++)
      set_port (&p->addrs[k], p->port);
    format_authority (o->rtsp_host, p->port, 0, authority, sizeof authority);
    rc = asprintf (&p->req,
        "OPTIONS rtsp://%s/ RTSP/1.0\r\n"
        "CSeq: 1\r\n"
        "User-Agent: " PROGRAM "\r\n"
        "\r\n",
        authority);
    if (rc < 0) {
      p->req = NULL;
      printf ("unhealthy: out of memory\n");
      goto out;
    }
    p->req_len = (size_t) rc;
  }

  run_probes (probes, o->n_ports, deadline, (size_t) o->min_healthy);

  for (size_t i = 0; i < o->n_ports; i++) {
    Probe *p = &probes[i];
    char verdict[160];

    waited += !p->not_waited;
    if (p->ok && p->status == 200) {
      healthy++;
      snprintf (verdict, sizeof verdict, "ok");
    } else if (p->ok) {
      snprintf (verdict, sizeof verdict, "answered %d", p->status);
    } else {
      snprintf (verdict, sizeof verdict, "%s", p->why);
    }
    used += (size_t) snprintf (line + used, sizeof line - used, "%s%u %s",
        i ? ", " : "", p->port, verdict);
    if (used >= sizeof line)
      used = sizeof line - 1;
  }
  /* Counted out of the ports waited for: "0 of 4 answered" would say that
   * ports not waited for were silent. */
  if (waited < o->n_ports)
    printf ("%s: %zu of the %zu RTSP ports waited for answered (need %ld of "
            "%zu): %s\n",
        healthy >= (size_t) o->min_healthy ? "healthy" : "unhealthy", healthy,
        waited, o->min_healthy, o->n_ports, line);
  else
    printf ("%s: %zu of %zu RTSP ports answered (need %ld): %s\n",
        healthy >= (size_t) o->min_healthy ? "healthy" : "unhealthy", healthy,
        o->n_ports, o->min_healthy, line);

out:
  for (size_t i = 0; i < o->n_ports; i++)
    probe_clear (&probes[i]);
  free (probes);
  return healthy >= (size_t) o->min_healthy ? EXIT_HEALTHY : EXIT_UNHEALTHY;
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  /* The timeout bounds the whole run, option parsing included. */
  double start = now_mono ();
  int rc;

  /* MSG_NOSIGNAL covers send(); this covers any other write to a socket a
   * peer has reset, which must end in "unhealthy", never in a signal. */
  signal (SIGPIPE, SIG_IGN);
  o.timeout = 3.0;

  rc = parse_args (argc, argv, &o);
  if (rc < 0)
    rc = check_options (&o) < 0 ? EXIT_USAGE : -1;
  if (rc >= 0) {
    free (o.url_host);
    free (o.url_path);
    free (o.url_shown);
    free (o.rtsp_host);
    return rc;
  }
  if (!o.url)
    o.url = DEFAULT_URL;

  if (o.ports_arg)
    rc = check_rtsp (&o, start + o.timeout);
  else
    rc = check_http (&o, start + o.timeout);

  free (o.url_host);
  free (o.url_path);
  free (o.url_shown);
  free (o.rtsp_host);
  fflush (stdout);
  return rc;
}
