/* rtsp-bench-client: measures an RTSP server from the outside, at the RTP
 * level, many connections on one thread (epoll), JSON on stdout.
 *
 *   rtsp-bench-client first-frame [-n RUNS] [-t tcp|udp] URL...
 *   rtsp-bench-client readers -n READERS -d SECONDS [-t tcp|udp] [--pid PID]
 *                     [--fps FPS] URL...
 *   rtsp-bench-client churn -n CYCLES [-p PARALLEL] [--drop rst|teardown]
 *                     [--pid PID] URL...
 *   rtsp-bench-client startup [-n RUNS] [--health URL] [--describe URL]...
 *                     -- COMMAND [ARG]...
 *   rtsp-bench-client free-ports -n N
 *
 * It parses only what it needs of RTSP, and of H.264 (RFC 6184) only enough
 * to find where an IDR access unit begins and ends: ffmpeg's probing would
 * add its own hundreds of milliseconds to a time-to-first-frame. */
#define _GNU_SOURCE
#include <glib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HANDSHAKE_TIMEOUT_NS (10 * G_GINT64_CONSTANT (1000000000))
#define MAX_BUFFERED (4 * 1024 * 1024)
/* churn's before and after: the quietest look over this long, a little
 * more than the server's default probe interval. */
#define SETTLE_WINDOW_S 2.5

typedef struct {
  char *text;
  struct sockaddr_storage addr;
  socklen_t addrlen;
} Url;

typedef enum {
  ST_IDLE,
  ST_CONNECTING,
  ST_OPTIONS,
  ST_DESCRIBE,
  ST_SETUP,
  ST_PLAY,
  ST_PLAYING,
  ST_TEARDOWN,
  ST_CLOSED,
  ST_FAILED,
} State;

typedef struct {
  const Url *url;
  guint url_idx;
  State state;
  int fd, rtp_fd, rtcp_fd;
  guint cseq;
  char session[128];
  char *setup_url;
  GByteArray *in;
  gint64 t_start, t_connected, t_play_reply, t_first_rtp, t_idr_done;
  gint64 t_answer[ST_PLAYING]; /* when each request's answer came */
  gint64 deadline;
  gboolean have_seq;
  guint16 last_seq;
  guint32 last_ts;
  gboolean have_marker;
  guint32 marker_ts; /* of the last frame completed */
  guint64 packets, frames, lost, bytes;
  gboolean idr_open;
  guint32 idr_ts;
  char error[160];
} Conn;

/* Readers count the same frames whatever their place in the queue: the
 * window is a range of RTP timestamps per URL, (start_ts, end_ts], fixed
 * from the newest packet any reader of that URL had when the window opened
 * and closed. */
typedef enum { COUNT_OFF, COUNT_OPEN, COUNT_DRAIN } Counting;

typedef struct {
  int ep;
  gboolean udp;
  gboolean no_range;
  Counting counting;
  guint32 *start_ts, *end_ts;
} Ctx;

/* Whether RTP timestamp A is later than B, across the wrap. */
static gboolean
ts_after (guint32 a, guint32 b)
{
  return (gint32) (a - b) > 0;
}

static gint64
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double
ms (gint64 ns)
{
  return ns / 1e6;
}

/* ---- URLs --------------------------------------------------------------- */

static gboolean
url_parse (Url *u, const char *text)
{
  char host[256], port[16] = "554";
  const char *p, *hs, *he, *slash;
  struct addrinfo hints = { 0 }, *res = NULL;

  if (!g_str_has_prefix (text, "rtsp://"))
    return FALSE;
  hs = text + 7;
  slash = strchr (hs, '/');
  he = slash ? slash : hs + strlen (hs);
  p = memchr (hs, ':', he - hs);
  if (p) {
    if ((size_t) (he - p - 1) >= sizeof port)
      return FALSE;
    memcpy (port, p + 1, he - p - 1);
    port[he - p - 1] = '\0';
    he = p;
  }
  if ((size_t) (he - hs) >= sizeof host)
    return FALSE;
  memcpy (host, hs, he - hs);
  host[he - hs] = '\0';
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo (host, port, &hints, &res) != 0 || !res)
    return FALSE;
  memcpy (&u->addr, res->ai_addr, res->ai_addrlen);
  u->addrlen = res->ai_addrlen;
  freeaddrinfo (res);
  u->text = g_strdup (text);
  return TRUE;
}

/* ---- the server's process, from /proc ----------------------------------- */

typedef struct {
  gboolean ok;
  double cpu_s;
  double rss_mib;
  int threads;
  int fds;
} ProcStat;

static ProcStat
proc_stat (int pid)
{
  ProcStat s = { 0 };
  char path[64], *text = NULL, *p;
  GDir *dir;

  if (pid <= 0)
    return s;
  g_snprintf (path, sizeof path, "/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return s;
  /* The command name may hold spaces: fields count from its closing ')'. */
  p = strrchr (text, ')');
  if (p) {
    unsigned long ut = 0, st = 0;
    if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
            &ut, &st)
        == 2) {
      s.cpu_s = (double) (ut + st) / sysconf (_SC_CLK_TCK);
      s.ok = TRUE;
    }
  }
  g_free (text);
  g_snprintf (path, sizeof path, "/proc/%d/status", pid);
  if (g_file_get_contents (path, &text, NULL, NULL)) {
    char *l;
    if ((l = strstr (text, "\nVmRSS:")))
      s.rss_mib = g_ascii_strtod (l + 7, NULL) / 1024.0;
    if ((l = strstr (text, "\nThreads:")))
      s.threads = atoi (l + 9);
    g_free (text);
  }
  g_snprintf (path, sizeof path, "/proc/%d/fd", pid);
  if ((dir = g_dir_open (path, 0, NULL))) {
    while (g_dir_read_name (dir))
      s.fds++;
    g_dir_close (dir);
  }
  return s;
}

/* The process at its quietest over SECONDS: the fewest threads and fds of
 * samples 100 ms apart, RSS and CPU of the last. The server's health probes
 * start and end a few threads every probe interval (2 s by default): one
 * look could land on a probe in flight, and that is no leak. */
static ProcStat
settled_stat (int pid, double seconds)
{
  ProcStat s = proc_stat (pid);
  if (pid <= 0)
    return s;
  for (gint64 until = now_ns () + (gint64) (seconds * 1e9);
       now_ns () < until;) {
    ProcStat t;
    g_usleep (100000);
    t = proc_stat (pid);
    if (!t.ok)
      continue;
    t.threads = s.ok ? MIN (s.threads, t.threads) : t.threads;
    t.fds = s.ok ? MIN (s.fds, t.fds) : t.fds;
    s = t;
  }
  return s;
}

static void
print_proc (GString *out, const char *key, ProcStat s)
{
  g_string_append_printf (out,
      "\"%s\":{\"rss_mib\":%.2f,\"threads\":%d,\"fds\":%d,\"cpu_s\":%.3f}", key,
      s.rss_mib, s.threads, s.fds, s.cpu_s);
}

/* ---- statistics --------------------------------------------------------- */

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double
percentile (const GArray *sorted, double q)
{
  guint i;
  if (sorted->len == 0)
    return 0;
  i = (guint) (q * sorted->len + 0.999999);
  i = i == 0 ? 0 : i - 1;
  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

static void
print_series (GString *out, const char *key, GArray *v)
{
  g_array_sort (v, cmp_double);
  g_string_append_printf (out, "\"%s\":{\"n\":%u", key, v->len);
  if (v->len)
    g_string_append_printf (out,
        ",\"median\":%.3f,\"p90\":%.3f,\"min\":%.3f,\"max\":%.3f",
        percentile (v, 0.5), percentile (v, 0.9), g_array_index (v, double, 0),
        g_array_index (v, double, v->len - 1));
  g_string_append (out, ",\"samples\":[");
  for (guint i = 0; i < v->len; i++)
    g_string_append_printf (out, "%s%.3f", i ? "," : "",
        g_array_index (v, double, i));
  g_string_append (out, "]}");
}

/* ---- RTP and H.264 ------------------------------------------------------ */

/* Whether this RTP payload begins an IDR slice (NAL type 5): alone, inside
 * an aggregation (STAP-A) or as the first fragment of a FU-A. */
static gboolean
starts_idr (const guint8 *p, size_t n)
{
  guint type;

  if (n < 1)
    return FALSE;
  type = p[0] & 0x1f;
  if (type == 5)
    return TRUE;
  if (type == 24) {
    for (size_t off = 1; off + 2 < n;) {
      size_t len = (size_t) p[off] << 8 | p[off + 1];
      if (len == 0 || off + 2 + len > n)
        break;
      if ((p[off + 2] & 0x1f) == 5)
        return TRUE;
      off += 2 + len;
    }
    return FALSE;
  }
  if (type == 28 && n >= 2)
    return (p[1] & 0x80) && (p[1] & 0x1f) == 5;
  return FALSE;
}

static void
on_rtp (Ctx *ctx, Conn *c, const guint8 *p, size_t n, gint64 now)
{
  guint16 seq;
  guint32 ts;
  gboolean marker, gap = FALSE, counted;
  size_t off;

  if (n < 12 || (p[0] >> 6) != 2)
    return;
  seq = (guint16) (p[2] << 8 | p[3]);
  ts = (guint32) p[4] << 24 | (guint32) p[5] << 16 | (guint32) p[6] << 8 | p[7];
  marker = (p[1] & 0x80) != 0;
  off = 12 + 4 * (p[0] & 0x0f);
  if ((p[0] & 0x10) && off + 4 <= n)
    off += 4 + 4 * ((size_t) p[off + 2] << 8 | p[off + 3]);
  if (off > n)
    return;
  if (c->t_first_rtp == 0)
    c->t_first_rtp = now;

  counted = ctx->counting != COUNT_OFF
      && ts_after (ts, ctx->start_ts[c->url_idx])
      && (ctx->counting == COUNT_OPEN
          || !ts_after (ts, ctx->end_ts[c->url_idx]));
  if (c->have_seq) {
    guint16 d = seq - c->last_seq;
    if (d == 0 || d >= 0x8000)
      return; /* duplicate or late: already counted as lost, if it was */
    gap = d > 1;
    if (counted)
      c->lost += d - 1;
  }
  c->have_seq = TRUE;
  c->last_seq = seq;
  c->last_ts = ts;
  if (marker) {
    c->have_marker = TRUE;
    c->marker_ts = ts;
  }
  if (counted) {
    c->packets++;
    c->bytes += n;
    c->frames += marker;
  }

  if (c->t_idr_done)
    return;
  /* The access unit counts only if none of its packets went missing. */
  if (c->idr_open && (gap || ts != c->idr_ts))
    c->idr_open = FALSE;
  if (!c->idr_open && starts_idr (p + off, n - off)) {
    c->idr_open = TRUE;
    c->idr_ts = ts;
  }
  if (c->idr_open && marker)
    c->t_idr_done = now;
}

/* ---- connections -------------------------------------------------------- */

static void
conn_release (Ctx *ctx, Conn *c, gboolean rst)
{
  if (c->fd >= 0) {
    if (rst) {
      /* Linger 0 makes close() send a reset, as a crashed or killed client
       * does. */
      struct linger l = { 1, 0 };
      setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close (c->fd);
  }
  if (c->rtp_fd >= 0)
    close (c->rtp_fd);
  if (c->rtcp_fd >= 0)
    close (c->rtcp_fd);
  c->fd = c->rtp_fd = c->rtcp_fd = -1;
}

static void
conn_fail (Ctx *ctx, Conn *c, const char *why)
{
  if (c->state == ST_FAILED || c->state == ST_CLOSED)
    return;
  g_snprintf (c->error, sizeof c->error, "%s", why);
  conn_release (ctx, c, FALSE);
  c->state = ST_FAILED;
}

static void
conn_reset (Conn *c)
{
  g_free (c->setup_url);
  if (c->in)
    g_byte_array_unref (c->in);
  memset (c, 0, sizeof *c);
  c->fd = c->rtp_fd = c->rtcp_fd = -1;
}

static gboolean
send_all (int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t w = send (fd, buf, len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      /* Requests are a few hundred bytes on a socket that is never
       * written to otherwise: the buffer cannot be full. */
      return FALSE;
    }
    buf += w;
    len -= (size_t) w;
  }
  return TRUE;
}

static void
send_request (Ctx *ctx, Conn *c, const char *method, const char *url,
    const char *extra)
{
  char *req = g_strdup_printf ("%s %s RTSP/1.0\r\n"
                               "CSeq: %u\r\n"
                               "User-Agent: rtsp-bench-client\r\n"
                               "%s%s%s"
                               "%s\r\n",
      method, url, ++c->cseq, c->session[0] ? "Session: " : "", c->session,
      c->session[0] ? "\r\n" : "", extra ? extra : "");
  if (!send_all (c->fd, req, strlen (req)))
    conn_fail (ctx, c, "send failed");
  g_free (req);
}

static void
conn_start (Ctx *ctx, Conn *c, const Url *url, guint url_idx, int tag)
{
  struct epoll_event ev = { 0 };
  int one = 1;

  conn_reset (c);
  c->url = url;
  c->url_idx = url_idx;
  c->in = g_byte_array_sized_new (16384);
  c->t_start = now_ns ();
  c->deadline = c->t_start + HANDSHAKE_TIMEOUT_NS;
  c->fd = socket (url->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) {
    conn_fail (ctx, c, "socket failed");
    return;
  }
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (c->fd, (struct sockaddr *) &url->addr, url->addrlen) < 0
      && errno != EINPROGRESS) {
    conn_fail (ctx, c, "connect failed");
    return;
  }
  c->state = ST_CONNECTING;
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.u64 = (guint64) tag << 1;
  epoll_ctl (ctx->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Binds an RTP/RTCP pair of UDP ports on loopback (RTP even, RTCP next). */
static gboolean
udp_pair (Ctx *ctx, Conn *c, int tag, guint *rtp_port)
{
  for (int attempt = 0; attempt < 50; attempt++) {
    struct sockaddr_in a = { 0 };
    socklen_t alen = sizeof a;
    int rtp = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int rtcp = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int rcvbuf = 1 << 20;
    guint port;

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (rtp < 0 || rtcp < 0 || bind (rtp, (struct sockaddr *) &a, sizeof a)
        || getsockname (rtp, (struct sockaddr *) &a, &alen)) {
      if (rtp >= 0)
        close (rtp);
      if (rtcp >= 0)
        close (rtcp);
      return FALSE;
    }
    port = ntohs (a.sin_port);
    a.sin_port = htons (port + 1);
    if (port % 2 == 0 && port < 65535
        && bind (rtcp, (struct sockaddr *) &a, sizeof a) == 0) {
      struct epoll_event ev = { .events = EPOLLIN };
      /* Loss must be the server's, not a reader's socket buffer
       * overflowing while the one thread serves 400 others. */
      setsockopt (rtp, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      ev.data.u64 = (guint64) tag << 1 | 1;
      epoll_ctl (ctx->ep, EPOLL_CTL_ADD, rtp, &ev);
      c->rtp_fd = rtp;
      c->rtcp_fd = rtcp;
      *rtp_port = port;
      return TRUE;
    }
    close (rtp);
    close (rtcp);
  }
  return FALSE;
}

/* The value of header NAME in HDR (LEN bytes), into OUT; FALSE if absent. */
static gboolean
header_value (const char *hdr, size_t len, const char *name, char *out,
    size_t outlen)
{
  size_t nl = strlen (name);
  const char *end = hdr + len;

  for (const char *l = hdr; l < end;) {
    const char *eol = memchr (l, '\n', end - l);
    if (!eol)
      eol = end;
    if ((size_t) (eol - l) > nl && g_ascii_strncasecmp (l, name, nl) == 0
        && l[nl] == ':') {
      const char *v = l + nl + 1;
      const char *ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
        ve--;
      g_snprintf (out, outlen, "%.*s", (int) (ve - v), v);
      return TRUE;
    }
    l = eol + 1;
  }
  return FALSE;
}

/* The SETUP URL of the first video stream, from its a=control. */
static char *
setup_url (const Conn *c, const char *base, const char *sdp, size_t len)
{
  g_autofree char *text = g_strndup (sdp, len);
  const char *m = strstr (text, "m=video");
  const char *a = m ? strstr (m, "a=control:") : NULL;
  g_autofree char *control = NULL;

  if (!a)
    return NULL;
  a += strlen ("a=control:");
  control = g_strndup (a, strcspn (a, "\r\n"));
  if (g_str_has_prefix (control, "rtsp://"))
    return g_steal_pointer (&control);
  if (g_str_equal (control, "*"))
    return g_strdup (base);
  return g_strdup_printf ("%s%s%s", base,
      g_str_has_suffix (base, "/") ? "" : "/", control);
}

static void
on_response (Ctx *ctx, Conn *c, int tag, const char *hdr, size_t hlen,
    const char *body, size_t blen)
{
  int status = hlen > 12 ? atoi (hdr + 9) : 0;
  char value[512];

  if (c->state == ST_TEARDOWN) {
    conn_release (ctx, c, FALSE);
    c->state = ST_CLOSED;
    return;
  }
  if (c->state < ST_OPTIONS || c->state > ST_PLAY)
    return; /* keep-alive answers and the like */
  c->t_answer[c->state] = now_ns ();
  if (status != 200) {
    static const char *const names[] = { "", "", "OPTIONS", "DESCRIBE", "SETUP",
      "PLAY" };
    char why[64];
    g_snprintf (why, sizeof why, "%s answered %d", names[c->state], status);
    conn_fail (ctx, c, why);
    return;
  }
  switch (c->state) {
    case ST_OPTIONS:
      c->state = ST_DESCRIBE;
      send_request (ctx, c, "DESCRIBE", c->url->text,
          "Accept: application/sdp\r\n");
      break;
    case ST_DESCRIBE: {
      char transport[128];
      guint port;
      if (!header_value (hdr, hlen, "Content-Base", value, sizeof value))
        g_snprintf (value, sizeof value, "%s", c->url->text);
      c->setup_url = setup_url (c, value, body, blen);
      if (!c->setup_url) {
        conn_fail (ctx, c, "no video stream in the SDP");
        return;
      }
      if (ctx->udp) {
        if (!udp_pair (ctx, c, tag, &port)) {
          conn_fail (ctx, c, "no UDP port pair");
          return;
        }
        g_snprintf (transport, sizeof transport,
            "Transport: RTP/AVP;unicast;client_port=%u-%u\r\n", port, port + 1);
      } else {
        g_snprintf (transport, sizeof transport,
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
      }
      c->state = ST_SETUP;
      send_request (ctx, c, "SETUP", c->setup_url, transport);
      break;
    }
    case ST_SETUP:
      if (!header_value (hdr, hlen, "Session", value, sizeof value)) {
        conn_fail (ctx, c, "SETUP answer without Session");
        return;
      }
      value[strcspn (value, ";")] = '\0';
      g_snprintf (c->session, sizeof c->session, "%s", value);
      c->state = ST_PLAY;
      /* ffmpeg and GStreamer send this Range; --no-range tells whether
       * the server's seek path it takes matters. */
      send_request (ctx, c, "PLAY", c->url->text,
          ctx->no_range ? NULL : "Range: npt=0.000-\r\n");
      break;
    case ST_PLAY:
      c->t_play_reply = now_ns ();
      c->state = ST_PLAYING;
      break;
    default:
      break;
  }
}

/* Consumes every complete interleaved frame and RTSP message in C's input. */
static void
parse_input (Ctx *ctx, Conn *c, int tag, gint64 now)
{
  const guint8 *b = c->in->data;
  size_t len = c->in->len, off = 0;

  while (off < len && c->state != ST_FAILED && c->state != ST_CLOSED) {
    const guint8 *p = b + off;
    size_t avail = len - off;

    if (p[0] == '$') {
      size_t flen;
      if (avail < 4)
        break;
      flen = (size_t) p[2] << 8 | p[3];
      if (avail < 4 + flen)
        break;
      if (p[1] == 0)
        on_rtp (ctx, c, p + 4, flen, now);
      off += 4 + flen;
    } else {
      const char *end = memmem (p, avail, "\r\n\r\n", 4);
      char clen[32];
      size_t hlen, blen = 0;
      if (!end) {
        if (avail > 65536)
          conn_fail (ctx, c, "RTSP header too long");
        break;
      }
      hlen = (size_t) ((const guint8 *) end - p) + 4;
      if (header_value ((const char *) p, hlen, "Content-Length", clen,
              sizeof clen))
        blen = strtoul (clen, NULL, 10);
      if (avail < hlen + blen)
        break;
      if (avail >= 5 && memcmp (p, "RTSP/", 5) == 0)
        on_response (ctx, c, tag, (const char *) p, hlen,
            (const char *) p + hlen, blen);
      off += hlen + blen;
    }
  }
  if (c->state != ST_FAILED && c->state != ST_CLOSED && off > 0)
    g_byte_array_remove_range (c->in, 0, off);
}

static void
on_event (Ctx *ctx, Conn *conns, guint64 data, guint32 events)
{
  int tag = (int) (data >> 1);
  Conn *c = &conns[tag];
  gint64 now = now_ns ();
  guint8 buf[65536];

  if (data & 1) {
    ssize_t r;
    if (c->rtp_fd < 0)
      return;
    while ((r = recv (c->rtp_fd, buf, sizeof buf, 0)) > 0)
      on_rtp (ctx, c, buf, (size_t) r, now);
    return;
  }
  if (c->fd < 0)
    return;
  if (c->state == ST_CONNECTING) {
    int err = 0;
    socklen_t elen = sizeof err;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };
    getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err) {
      conn_fail (ctx, c, g_strerror (err));
      return;
    }
    epoll_ctl (ctx->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->t_connected = now;
    c->state = ST_OPTIONS;
    send_request (ctx, c, "OPTIONS", c->url->text, NULL);
    if (!(events & EPOLLIN))
      return;
  }
  /* Bounded per wake-up, so one busy reader cannot starve the others. */
  for (int i = 0; i < 8 && c->fd >= 0; i++) {
    ssize_t r = recv (c->fd, buf, sizeof buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
      break;
    if (r <= 0) {
      conn_fail (ctx, c, r == 0 ? "closed by the server" : g_strerror (errno));
      return;
    }
    g_byte_array_append (c->in, buf, (guint) r);
    if (c->in->len > MAX_BUFFERED) {
      conn_fail (ctx, c, "input buffer overflow");
      return;
    }
    parse_input (ctx, c, tag, now);
    if ((size_t) r < sizeof buf)
      break;
  }
}

static void
poll_once (Ctx *ctx, Conn *conns, int timeout_ms)
{
  struct epoll_event evs[256];
  int n = epoll_wait (ctx->ep, evs, G_N_ELEMENTS (evs), timeout_ms);

  for (int i = 0; i < n; i++)
    on_event (ctx, conns, evs[i].data.u64, evs[i].events);
}

static void
check_deadlines (Ctx *ctx, Conn *conns, guint n, gint64 now)
{
  for (guint i = 0; i < n; i++) {
    Conn *c = &conns[i];
    if (c->state > ST_IDLE && c->state < ST_PLAYING && now > c->deadline)
      conn_fail (ctx, c, "handshake timed out");
  }
}

/* ---- modes -------------------------------------------------------------- */

typedef struct {
  int n;
  int parallel;
  double duration;
  double fps;
  double timeout;
  double settle;
  int warmup;
  int pid;
  gboolean rst;
  GPtrArray *urls;
  char **health;
  char **describe;
  char **command;
} Opts;

static int
mode_first_frame (Ctx *ctx, const Opts *o)
{
  Conn conn = { 0 };
  g_autoptr (GArray) from_play = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) from_connect = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) play_rtp = g_array_new (FALSE, FALSE, sizeof (double));
  /* Where the time before PLAY goes: connect, then each request's round
   * trip. */
  static const char *const step_names[] = { "connect_ms", "options_ms",
    "describe_ms", "setup_ms", "play_ms" };
  GArray *steps[G_N_ELEMENTS (step_names)];
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) errors = g_string_new (NULL);
  int failed = 0;

  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    steps[s] = g_array_new (FALSE, FALSE, sizeof (double));
  conn_reset (&conn);
  for (int run = 0; run < o->n; run++) {
    const Url *url = g_ptr_array_index (o->urls, run % o->urls->len);
    gint64 end;

    /* Random spacing samples every phase of the GOP, instead of locking
     * on to one. */
    g_usleep (g_random_int_range (50, 250) * 1000);
    conn_start (ctx, &conn, url, run % o->urls->len, 0);
    end = conn.t_start + (gint64) (o->timeout * 1e9);
    while (conn.state != ST_FAILED && !conn.t_idr_done && now_ns () < end) {
      poll_once (ctx, &conn, 5);
      check_deadlines (ctx, &conn, 1, now_ns ());
    }
    if (conn.t_idr_done) {
      double fp = ms (conn.t_idr_done - conn.t_play_reply);
      double fc = ms (conn.t_idr_done - conn.t_start);
      double pr = ms (conn.t_first_rtp - conn.t_play_reply);
      g_array_append_val (from_play, fp);
      g_array_append_val (from_connect, fc);
      g_array_append_val (play_rtp, pr);
      for (guint s = 0; s < G_N_ELEMENTS (steps); s++) {
        gint64 from = s == 0 ? conn.t_start
            : s == 1         ? conn.t_connected
                             : conn.t_answer[ST_OPTIONS + s - 2];
        gint64 to =
            s == 0 ? conn.t_connected : conn.t_answer[ST_OPTIONS + s - 1];
        double v = ms (to - from);
        g_array_append_val (steps[s], v);
      }
    } else {
      failed++;
      g_string_append_printf (errors, "%s\"%s\"", errors->len ? "," : "",
          conn.state == ST_FAILED ? conn.error : "no keyframe in time");
    }
    conn_release (ctx, &conn, FALSE);
  }
  conn_reset (&conn);

  g_string_append_printf (out,
      "{\"mode\":\"first-frame\",\"transport\":\"%s\",\"runs\":%d,"
      "\"failed\":%d,\"errors\":[%s],",
      ctx->udp ? "udp" : "tcp", o->n, failed, errors->str);
  print_series (out, "from_play_ms", from_play);
  g_string_append_c (out, ',');
  print_series (out, "from_connect_ms", from_connect);
  g_string_append_c (out, ',');
  print_series (out, "play_to_first_rtp_ms", play_rtp);
  for (guint s = 0; s < G_N_ELEMENTS (steps); s++) {
    g_string_append_c (out, ',');
    print_series (out, step_names[s], steps[s]);
    g_array_unref (steps[s]);
  }
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  return failed ? 1 : 0;
}

/* The newest RTP timestamp any playing reader of each URL has seen. */
static void
newest_ts (const Conn *conns, int n, guint32 *out, guint nurls)
{
  gboolean *seen = g_new0 (gboolean, nurls);

  for (int i = 0; i < n; i++) {
    const Conn *c = &conns[i];
    if (c->state != ST_PLAYING || !c->have_seq)
      continue;
    if (!seen[c->url_idx] || ts_after (c->last_ts, out[c->url_idx]))
      out[c->url_idx] = c->last_ts;
    seen[c->url_idx] = TRUE;
  }
  g_free (seen);
}

static int
mode_readers (Ctx *ctx, const Opts *o)
{
  Conn *conns = g_new0 (Conn, o->n);
  guint nurls = o->urls->len;
  guint64 *url_max = g_new0 (guint64, nurls);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GHashTable) errors = g_hash_table_new (g_str_hash, g_str_equal);
  int started = 0, playing = 0, failed = 0, with_loss = 0, short_ = 0;
  int late = 0, behind = 0;
  guint64 max_deficit = 0;
  guint64 packets = 0, frames = 0, lost = 0, bytes = 0, expected = 0;
  gint64 t0 = now_ns (), setup_end, w0, w1;
  double nominal_s = 0;
  ProcStat before, after;
  GHashTableIter it;
  gpointer key, val;

  ctx->start_ts = g_new0 (guint32, nurls);
  ctx->end_ts = g_new0 (guint32, nurls);
  for (int i = 0; i < o->n; i++)
    conn_reset (&conns[i]);
  /* Handshakes a few at a time, as a crowd of clients arrives, rather than
   * all 400 SETUPs in one burst. */
  for (;;) {
    int busy = 0;
    playing = failed = 0;
    for (int i = 0; i < started; i++) {
      State s = conns[i].state;
      busy += s > ST_IDLE && s < ST_PLAYING;
      playing += s == ST_PLAYING;
      failed += s == ST_FAILED;
    }
    if (playing + failed == o->n
        || now_ns () - t0 > (gint64) (o->timeout * 1e9))
      break;
    while (started < o->n && busy < o->parallel) {
      conn_start (ctx, &conns[started],
          g_ptr_array_index (o->urls, started % nurls), started % nurls,
          started);
      started++;
      busy++;
    }
    poll_once (ctx, conns, 5);
    check_deadlines (ctx, conns, (guint) started, now_ns ());
  }
  setup_end = now_ns ();

  /* One second for every reader's first packets to arrive and the
   * server's per-session start-up work to pass (half a short window: the
   * test suite's smoke run). */
  for (gint64 until = now_ns () + (gint64) (MIN (1.0, o->duration / 2) * 1e9);
       now_ns () < until;)
    poll_once (ctx, conns, 5);

  before = proc_stat (o->pid);
  w0 = now_ns ();
  newest_ts (conns, o->n, ctx->start_ts, nurls);
  ctx->counting = COUNT_OPEN;
  for (gint64 until = w0 + (gint64) (o->duration * 1e9); now_ns () < until;)
    poll_once (ctx, conns, 5);
  w1 = now_ns ();
  after = proc_stat (o->pid);
  newest_ts (conns, o->n, ctx->end_ts, nurls);
  ctx->counting = COUNT_DRAIN;
  /* Readers further back in the queue catch up to the window's end: the
   * end of the last frame in it, not just its first packet. */
  for (gint64 until = now_ns () + 3000000000; now_ns () < until;) {
    gboolean lagging = FALSE;
    for (int i = 0; i < o->n && !lagging; i++)
      lagging = conns[i].state == ST_PLAYING
          && (!conns[i].have_marker
              || ts_after (ctx->end_ts[conns[i].url_idx], conns[i].marker_ts));
    if (!lagging)
      break;
    poll_once (ctx, conns, 5);
  }
  ctx->counting = COUNT_OFF;
  for (guint u = 0; u < nurls; u++)
    nominal_s += (ctx->end_ts[u] - ctx->start_ts[u]) / 90000.0 / nurls;

  for (int i = 0; i < o->n; i++)
    if (conns[i].state == ST_PLAYING)
      url_max[i % nurls] = MAX (url_max[i % nurls], conns[i].frames);
  for (int i = 0; i < o->n; i++) {
    Conn *c = &conns[i];
    if (c->state != ST_PLAYING) {
      const char *e = c->state == ST_FAILED ? c->error : "not started";
      g_hash_table_insert (errors, (gpointer) e,
          GINT_TO_POINTER (
              GPOINTER_TO_INT (g_hash_table_lookup (errors, e)) + 1));
      continue;
    }
    packets += c->packets;
    frames += c->frames;
    lost += c->lost;
    bytes += c->bytes;
    expected += url_max[i % nurls];
    with_loss += c->lost > 0;
    if (c->frames < url_max[i % nurls]) {
      /* Why it is short: started after the window opened (slow set-up, or
       * the server sent it nothing yet), or still behind when it closed. */
      short_++;
      late += c->t_first_rtp == 0 || c->t_first_rtp > w0;
      behind +=
          !c->have_marker || ts_after (ctx->end_ts[c->url_idx], c->marker_ts);
      max_deficit = MAX (max_deficit, url_max[i % nurls] - c->frames);
    }
  }

  g_string_append_printf (out,
      "{\"mode\":\"readers\",\"transport\":\"%s\",\"readers\":%d,"
      "\"urls\":%u,\"playing\":%d,\"failed\":%d,\"setup_s\":%.3f,"
      "\"window_s\":%.3f,\"packets\":%" G_GUINT64_FORMAT
      ",\"bytes\":%" G_GUINT64_FORMAT ",\"lost_packets\":%" G_GUINT64_FORMAT
      ",\"frames\":%" G_GUINT64_FORMAT ",\"frames_expected\":%" G_GUINT64_FORMAT
      ",\"frames_nominal\":%.0f,\"readers_with_loss\":%d,"
      "\"readers_short\":%d,\"short_late_start\":%d,"
      "\"short_behind_at_end\":%d,\"max_frames_short\":%" G_GUINT64_FORMAT
      ",\"fps_per_reader\":%.2f,\"every_frame\":%s,\"errors\":{",
      ctx->udp ? "udp" : "tcp", o->n, nurls, playing, failed,
      ms (setup_end - t0) / 1000, ms (w1 - w0) / 1000, packets, bytes, lost,
      frames, expected, o->fps * nominal_s * playing, with_loss, short_, late,
      behind, max_deficit,
      playing ? frames / (double) playing / (ms (w1 - w0) / 1000) : 0,
      playing == o->n && with_loss == 0 && short_ == 0
              && (double) expected >= 0.97 * o->fps * nominal_s * o->n
          ? "true"
          : "false");
  g_hash_table_iter_init (&it, errors);
  for (int i = 0; g_hash_table_iter_next (&it, &key, &val); i++)
    g_string_append_printf (out, "%s\"%s\":%d", i ? "," : "",
        (const char *) key, GPOINTER_TO_INT (val));
  g_string_append (out, "}");
  if (o->pid > 0 && before.ok && after.ok) {
    g_string_append_printf (out, ",\"server\":{\"cpu_pct\":%.2f,",
        (after.cpu_s - before.cpu_s) / (ms (w1 - w0) / 1000) * 100);
    print_proc (out, "end", after);
    g_string_append (out, "}");
  }
  g_string_append (out, "}\n");
  fputs (out->str, stdout);

  for (int i = 0; i < o->n; i++) {
    conn_release (ctx, &conns[i], FALSE);
    conn_reset (&conns[i]);
  }
  g_free (conns);
  g_free (url_max);
  g_clear_pointer (&ctx->start_ts, g_free);
  g_clear_pointer (&ctx->end_ts, g_free);
  return playing == o->n ? 0 : 1;
}

static int
mode_churn (Ctx *ctx, const Opts *o)
{
  Conn *slots = g_new0 (Conn, o->parallel);
  g_autoptr (GString) out = g_string_new (NULL);
  int total = o->n + o->warmup, started = 0, done = 0, ok = 0, failed = 0;
  ProcStat cold, warm = { 0 }, after_2s, after;
  gint64 t0 = now_ns (), t_warm = 0, t_end;
  /* A short settle (the test suite's smoke run) shortens every wait: the
   * look at 2 s, and the window past the probes. */
  double window = MIN (SETTLE_WINDOW_S, o->settle / 2);
  double early = MIN (2, o->settle / 2);
  char first_error[160] = "";

  cold = proc_stat (o->pid);
  for (int i = 0; i < o->parallel; i++)
    conn_reset (&slots[i]);
  while (done < total) {
    gint64 now = now_ns ();
    for (int i = 0; i < o->parallel; i++) {
      Conn *c = &slots[i];
      gboolean finished = FALSE;

      if (c->state == ST_PLAYING
          && (c->t_first_rtp || now - c->t_play_reply > 1000000000)) {
        if (o->rst) {
          conn_release (ctx, c, TRUE);
          finished = TRUE;
          ok++;
        } else {
          c->state = ST_TEARDOWN;
          c->deadline = now + 2000000000;
          send_request (ctx, c, "TEARDOWN", c->url->text, NULL);
        }
      } else if (c->state == ST_TEARDOWN && now > c->deadline) {
        conn_fail (ctx, c, "no TEARDOWN answer");
      }
      if (c->state == ST_CLOSED && !o->rst) {
        ok++;
        finished = TRUE;
      }
      if (c->state == ST_FAILED) {
        if (!first_error[0])
          g_snprintf (first_error, sizeof first_error, "%s", c->error);
        failed++;
        finished = TRUE;
      }
      if (finished) {
        done++;
        conn_reset (c);
        if (done == o->warmup) {
          /* Pools and caches fill on the first sessions: growth counts from
           * after them. */
          for (gint64 until = now_ns () + (gint64) (early / 2 * 1e9);
               now_ns () < until;)
            poll_once (ctx, slots, 5);
          warm = settled_stat (o->pid, window);
          t_warm = now_ns ();
        }
      }
      if (c->state == ST_IDLE && started < total
          && (started < o->warmup || done >= o->warmup)) {
        conn_start (ctx, c, g_ptr_array_index (o->urls, started % o->urls->len),
            started % o->urls->len, i);
        started++;
      }
    }
    poll_once (ctx, slots, 2);
    check_deadlines (ctx, slots, (guint) o->parallel, now_ns ());
  }
  t_end = now_ns ();
  if (!t_warm) {
    warm = cold;
    t_warm = t0;
  }
  /* The server frees a session when it notices the connection is gone;
   * give it the settle time before the last look. */
  if (o->pid > 0)
    g_usleep ((gulong) (early * 1e6));
  after_2s = proc_stat (o->pid);
  if (o->settle > early + window)
    g_usleep ((gulong) ((o->settle - early - window) * 1e6));
  after = settled_stat (o->pid, window);

  g_string_append_printf (out,
      "{\"mode\":\"churn\",\"drop\":\"%s\",\"cycles\":%d,\"warmup\":%d,"
      "\"ok\":%d,\"failed\":%d,\"first_error\":\"%s\",\"seconds\":%.3f,"
      "\"cycles_per_s\":%.1f",
      o->rst ? "rst" : "teardown", o->n, o->warmup, ok, failed, first_error,
      ms (t_end - t_warm) / 1000, o->n / (ms (t_end - t_warm) / 1000));
  if (o->pid > 0 && after.ok) {
    g_string_append_c (out, ',');
    print_proc (out, "cold", cold);
    g_string_append_c (out, ',');
    print_proc (out, "before", warm);
    g_string_append_c (out, ',');
    print_proc (out, "after_2s", after_2s);
    g_string_append_c (out, ',');
    print_proc (out, "after", after);
    g_string_append_printf (out, ",\"early_s\":%.1f,\"settle_s\":%.1f", early,
        MAX (o->settle, early + window));
    g_string_append_printf (out,
        ",\"rss_growth_mib\":%.2f,\"threads_growth\":%d,\"fds_growth\":%d",
        after.rss_mib - warm.rss_mib, after.threads - warm.threads,
        after.fds - warm.fds);
  }
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  g_free (slots);
  return failed ? 1 : 0;
}

/* ---- startup: blocking probes of a process being born ------------------- */

/* Connects to HOST_PORT on loopback within 100 ms, or -1. */
static int
connect_blocking (const struct sockaddr_storage *addr, socklen_t len)
{
  int fd = socket (addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct pollfd pfd = { .fd = fd, .events = POLLOUT };
  int err = 0;
  socklen_t elen = sizeof err;

  if (fd < 0)
    return -1;
  if (connect (fd, (const struct sockaddr *) addr, len) < 0) {
    if (errno != EINPROGRESS || poll (&pfd, 1, 100) != 1
        || getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
      close (fd);
      return -1;
    }
  }
  return fd;
}

/* Sends REQ and reads until the peer closes, a full RTSP answer with its
 * body arrives, or 500 ms pass. */
static char *
exchange (int fd, const char *req)
{
  GString *r = g_string_new (NULL);
  gint64 end = now_ns () + 500000000;

  if (!send_all (fd, req, strlen (req)))
    return g_string_free (r, FALSE);
  while (now_ns () < end) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char buf[8192], clen[32];
    const char *he;
    ssize_t n;

    if (poll (&pfd, 1, 50) != 1)
      continue;
    n = recv (fd, buf, sizeof buf, 0);
    if (n <= 0 && !(n < 0 && errno == EAGAIN))
      break;
    if (n > 0)
      g_string_append_len (r, buf, n);
    he = strstr (r->str, "\r\n\r\n");
    if (he
        && header_value (r->str, (size_t) (he - r->str) + 4, "Content-Length",
            clen, sizeof clen)
        && r->len >= (size_t) (he - r->str) + 4 + strtoul (clen, NULL, 10))
      break;
  }
  return g_string_free (r, FALSE);
}

static gboolean
describe_ok (const Url *u)
{
  int fd = connect_blocking (&u->addr, u->addrlen);
  g_autofree char *req = NULL, *ans = NULL;

  if (fd < 0)
    return FALSE;
  req = g_strdup_printf ("DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\n"
                         "Accept: application/sdp\r\n\r\n",
      u->text);
  ans = exchange (fd, req);
  close (fd);
  return g_str_has_prefix (ans, "RTSP/1.0 200") && strstr (ans, "m=video");
}

/* /health answers 200 and counts every port open. */
static gboolean
health_ok (const Url *u, const char *path)
{
  int fd = connect_blocking (&u->addr, u->addrlen);
  g_autofree char *req = NULL, *ans = NULL;
  const char *o, *t;

  if (fd < 0)
    return FALSE;
  req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Connection: close\r\n\r\n",
      path);
  ans = exchange (fd, req);
  close (fd);
  if (!g_str_has_prefix (ans, "HTTP/1.1 200"))
    return FALSE;
  o = strstr (ans, "\"open_ports\"");
  t = strstr (ans, "\"total_ports\"");
  return o && t && atoi (strchr (o, ':') + 1) == atoi (strchr (t, ':') + 1);
}

static int
mode_startup (const Opts *o)
{
  g_autoptr (GArray) health_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) describe_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GString) out = g_string_new (NULL);
  Url health = { 0 };
  char path[256] = "/health";
  GArray *urls = g_array_new (FALSE, TRUE, sizeof (Url));
  int failed = 0;

  if (o->health && o->health[0]) {
    /* http://HOST:PORT/PATH, parsed with the RTSP code: same shape. */
    g_autofree char *as_rtsp = g_strdup_printf ("rtsp://%s",
        o->health[0] + (g_str_has_prefix (o->health[0], "http://") ? 7 : 0));
    const char *slash = strchr (as_rtsp + 7, '/');
    if (!url_parse (&health, as_rtsp))
      return 2;
    if (slash)
      g_snprintf (path, sizeof path, "%s", slash);
  }
  for (int i = 0; o->describe && o->describe[i]; i++) {
    Url u = { 0 };
    if (!url_parse (&u, o->describe[i]))
      return 2;
    g_array_append_val (urls, u);
  }

  for (int run = 0; run < o->n; run++) {
    gint64 t0 = now_ns (), end = t0 + (gint64) (o->timeout * 1e9);
    gint64 t_health = health.text ? 0 : -1, t_desc = urls->len ? 0 : -1;
    gboolean *done = g_new0 (gboolean, urls->len);
    pid_t pid = fork ();
    int status;

    if (pid == 0) {
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, 1);
      dup2 (null, 2);
      execvp (o->command[0], o->command);
      _exit (127);
    }
    while ((t_health == 0 || t_desc == 0) && now_ns () < end) {
      guint ndone = 0;
      if (waitpid (pid, &status, WNOHANG) == pid) {
        pid = -1;
        break;
      }
      if (t_health == 0 && health_ok (&health, path))
        t_health = now_ns ();
      for (guint i = 0; i < urls->len; i++) {
        if (!done[i])
          done[i] = describe_ok (&g_array_index (urls, Url, i));
        ndone += done[i];
      }
      if (t_desc == 0 && ndone == urls->len)
        t_desc = now_ns ();
      g_usleep (1000);
    }
    if (t_health > 0) {
      double v = ms (t_health - t0);
      g_array_append_val (health_ms, v);
    }
    if (t_desc > 0) {
      double v = ms (t_desc - t0);
      g_array_append_val (describe_ms, v);
    }
    failed += t_health == 0 || t_desc == 0;
    if (pid > 0) {
      gint64 kill_end = now_ns () + 10 * G_GINT64_CONSTANT (1000000000);
      kill (pid, SIGTERM);
      while (waitpid (pid, &status, WNOHANG) == 0) {
        if (now_ns () > kill_end) {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          break;
        }
        g_usleep (2000);
      }
    }
    g_free (done);
  }

  g_string_append_printf (out,
      "{\"mode\":\"startup\",\"runs\":%d,\"failed\":%d,", o->n, failed);
  print_series (out, "health_ms", health_ms);
  g_string_append_c (out, ',');
  print_series (out, "describe_all_ms", describe_ms);
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  g_array_unref (urls);
  return failed ? 1 : 0;
}

/* ---- free-ports ---------------------------------------------------------- */

/* N TCP ports on 127.0.0.1 that were free a moment ago: the kernel picks
 * each (bind to port 0), all are held open together so that no two are the
 * same, then closed for the servers to take. */
static int
mode_free_ports (int n)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree int *fds = g_new (int, n);
  int rc = 0, i;

  for (i = 0; i < n; i++) {
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    fds[i] = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0 || bind (fds[i], (struct sockaddr *) &a, sizeof a) < 0
        || getsockname (fds[i], (struct sockaddr *) &a, &len) < 0) {
      fprintf (stderr, "rtsp-bench-client: free-ports: %s\n", strerror (errno));
      rc = 1;
      if (fds[i] >= 0)
        close (fds[i]);
      break;
    }
    g_string_append_printf (out, "%s%u", i ? " " : "", ntohs (a.sin_port));
  }
  while (i-- > 0)
    close (fds[i]);
  if (rc == 0)
    printf ("%s\n", out->str);
  return rc;
}

/* ---- main --------------------------------------------------------------- */

static void
usage (void)
{
  fprintf (stderr,
      "usage: rtsp-bench-client first-frame|readers|churn [options] URL...\n"
      "       rtsp-bench-client startup [options] -- COMMAND [ARG]...\n"
      "       rtsp-bench-client free-ports -n N\n"
      "  -n N            runs, readers or cycles\n"
      "  -t tcp|udp      RTP transport (default tcp)\n"
      "  -d SECONDS      readers: how long to count packets (default 5)\n"
      "  -p N            handshakes in flight (readers 32, churn 8)\n"
      "  --pid PID       the server's process, for CPU, RSS, threads, fds\n"
      "  --fps N         the stream's frame rate (default 30)\n"
      "  --timeout S     first-frame: per run; readers: set-up; startup: per "
      "run\n"
      "  --drop rst|teardown  churn: how a reader leaves (default rst)\n"
      "  --no-range      PLAY without Range: npt=0.000-\n"
      "  --warmup N      churn: cycles before the 'before' snapshot (50)\n"
      "  --settle S      churn: time from the last cycle to the end of the\n"
      "                  'after' snapshot (12; one more is taken after 2 s);\n"
      "                  'before' and 'after' are the fewest threads and fds\n"
      "                  seen over 2.5 s, past the server's probes (under\n"
      "                  S = 5, the 2 s and the 2.5 s are both S/2)\n"
      "  --health URL    startup: poll this /health until 200, all ports open\n"
      "  --describe URL  startup: poll DESCRIBE on it until 200 (repeat)\n");
}

int
main (int argc, char **argv)
{
  Opts o = { .n = 10,
    .parallel = 0,
    .duration = 5,
    .fps = 30,
    .timeout = 0,
    .settle = 12,
    .warmup = 50,
    .rst = TRUE };
  g_autofree char *transport = NULL, *drop = NULL;
  Ctx ctx = { 0 };
  GOptionEntry entries[] = {
    { "count", 'n', 0, G_OPTION_ARG_INT, &o.n, NULL, NULL },
    { "transport", 't', 0, G_OPTION_ARG_STRING, &transport, NULL, NULL },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &o.duration, NULL, NULL },
    { "parallel", 'p', 0, G_OPTION_ARG_INT, &o.parallel, NULL, NULL },
    { "pid", 0, 0, G_OPTION_ARG_INT, &o.pid, NULL, NULL },
    { "fps", 0, 0, G_OPTION_ARG_DOUBLE, &o.fps, NULL, NULL },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o.timeout, NULL, NULL },
    { "drop", 0, 0, G_OPTION_ARG_STRING, &drop, NULL, NULL },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &o.warmup, NULL, NULL },
    { "settle", 0, 0, G_OPTION_ARG_DOUBLE, &o.settle, NULL, NULL },
    { "no-range", 0, 0, G_OPTION_ARG_NONE, &ctx.no_range, NULL, NULL },
    { "health", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.health, NULL, NULL },
    { "describe", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.describe, NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) octx = g_option_context_new (NULL);
  g_autoptr (GError) err = NULL;
  struct rlimit rl;
  const char *mode;
  int dashdash = argc, rc;

  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--")) {
      dashdash = i;
      break;
    }
  if (dashdash < argc)
    o.command = argv + dashdash + 1;
  argc = dashdash;
  g_option_context_add_main_entries (octx, entries, NULL);
  g_option_context_set_help_enabled (octx, FALSE);
  if (!g_option_context_parse (octx, &argc, &argv, &err) || argc < 2) {
    if (err)
      fprintf (stderr, "rtsp-bench-client: %s\n", err->message);
    usage ();
    return 2;
  }
  mode = argv[1];
  ctx.udp = transport && g_str_equal (transport, "udp");
  if (transport && !ctx.udp && !g_str_equal (transport, "tcp")) {
    usage ();
    return 2;
  }
  o.rst = !drop || g_str_equal (drop, "rst");
  if (o.n < 1 || o.duration <= 0) {
    usage ();
    return 2;
  }

  if (g_str_equal (mode, "free-ports"))
    return mode_free_ports (o.n);
  if (g_str_equal (mode, "startup")) {
    if (!o.command || !o.command[0]) {
      usage ();
      return 2;
    }
    if (o.timeout <= 0)
      o.timeout = 10;
    rc = mode_startup (&o);
    g_strfreev (o.health);
    g_strfreev (o.describe);
    return rc;
  }

  o.urls = g_ptr_array_new ();
  for (int i = 2; i < argc; i++) {
    Url *u = g_new0 (Url, 1);
    if (!url_parse (u, argv[i])) {
      fprintf (stderr, "rtsp-bench-client: bad URL %s\n", argv[i]);
      return 2;
    }
    g_ptr_array_add (o.urls, u);
  }
  if (o.urls->len == 0) {
    usage ();
    return 2;
  }
  /* 400 readers over UDP hold 800 sockets besides their 400 TCP ones. */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
  signal (SIGPIPE, SIG_IGN);
  ctx.ep = epoll_create1 (EPOLL_CLOEXEC);

  if (g_str_equal (mode, "first-frame")) {
    if (o.timeout <= 0)
      o.timeout = 5;
    rc = mode_first_frame (&ctx, &o);
  } else if (g_str_equal (mode, "readers")) {
    if (o.parallel <= 0)
      o.parallel = 32;
    if (o.timeout <= 0)
      o.timeout = 30;
    rc = mode_readers (&ctx, &o);
  } else if (g_str_equal (mode, "churn")) {
    if (o.parallel <= 0)
      o.parallel = 8;
    if (o.warmup < 0)
      o.warmup = 0;
    rc = mode_churn (&ctx, &o);
  } else {
    usage ();
    rc = 2;
  }
  close (ctx.ep);
  for (guint i = 0; i < o.urls->len; i++) {
    Url *u = g_ptr_array_index (o.urls, i);
    g_free (u->text);
    g_free (u);
  }
  g_ptr_array_unref (o.urls);
  return rc;
}
