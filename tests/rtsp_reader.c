/* rtsp_reader: see rtsp_reader.h. */
#include "rtsp_reader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define KEEPALIVE_US (20 * G_USEC_PER_SEC)
/* A thread starved for a second on a loaded 2-core machine must not lose
 * UDP packets in the kernel: 4 MiB is seconds of a 1 Mbit/s camera. */
#define UDP_RCVBUF (4 << 20)

/* One stream set up: video (the first), audio (rts_reader_play_av). */
typedef struct {
  char *setup_url;
  guint clock_rate; /* the SDP's rtpmap; 90,000 for video */
  gboolean h265;    /* the rtpmap names H265 (else H.264 is assumed) */
  RtsReaderStats stats;
  gboolean have_seq;
  guint16 next_seq;
  gboolean in_frame; /* the last packet did not end a frame */
  guint32 last_ts;
  /* Sender reports: the wall clock (s) and RTP timestamp of each, and the
   * least "arrival time less presentation time" over the RTP packets, the
   * one least delayed on its way (see rts_reader_stats). */
  double sr_wall[16];
  guint32 sr_ts[16];
  guint32 sr_ssrc[16];
  guint n_sr;
  double min_offset;
  gboolean frame_key;    /* the frame being received has an IDR */
  gboolean gap_pending;  /* it is the first after a jump */
  gboolean await_replay; /* the next packet is the first after a re-PLAY */
  guint channel;         /* TCP: its RTP's interleaved channel, RTCP's next */
} Track;

struct RtsReader {
  RtsReaderTransport transport;
  GSocket *ctl;
  GSocket *rtp;  /* UDP only */
  GSocket *rtcp; /* UDP only */
  char *url;
  char *session;
  guint session_timeout;
  guint server_rtcp_port; /* UDP: the server's, from SETUP's Transport */
  guint cseq;
  GByteArray *in; /* bytes read from ctl and not yet parsed */
  GMutex lock;    /* protects the tracks' counters, error */
  Track tracks[2];
  guint n_tracks;      /* asked for on interleaved channels 2i and 2i+1 */
  gboolean audio_only; /* track 0 (video) not set up */
  GThread *thread;
  gint stop; /* atomic */
  char *error;
  gint64 last_keepalive;
};

/* Whether an H.264 RTP payload (RFC 6184) carries an IDR picture or the
 * parameter sets that begin one: a single NAL unit, an aggregate (STAP-A),
 * or the first fragment (FU-A). */
static gboolean
h264_key (const guint8 *p, gsize len)
{
  guint type;

  if (len < 1)
    return FALSE;
  type = p[0] & 0x1f;
  if (type == 5 || type == 7)
    return TRUE;
  if (type == 28)
    return len >= 2 && (p[1] & 0x80) && ((p[1] & 0x1f) == 5);
  if (type == 24) {
    for (gsize i = 1; i + 2 < len;) {
      gsize n = (gsize) ((p[i] << 8) | p[i + 1]);
      guint t = p[i + 2] & 0x1f;
      if (t == 5 || t == 7)
        return TRUE;
      i += 2 + n;
    }
  }
  return FALSE;
}

/* An H.265 payload holding a random access picture or its parameter sets
 * (IRAP 16-21, VPS/SPS/PPS 32-34), alone, aggregated (48) or the first
 * fragment of one (49). */
static gboolean
h265_key_type (guint type)
{
  return (type >= 16 && type <= 21) || (type >= 32 && type <= 34);
}

static gboolean
h265_key (const guint8 *p, gsize len)
{
  guint type;

  if (len < 2)
    return FALSE;
  type = (p[0] >> 1) & 0x3f;
  if (type == 49)
    return len >= 3 && (p[2] & 0x80) && h265_key_type (p[2] & 0x3f);
  if (type == 48) {
    for (gsize i = 2; i + 2 < len;) {
      gsize n = (gsize) ((p[i] << 8) | p[i + 1]);
      if (h265_key_type ((p[i + 2] >> 1) & 0x3f))
        return TRUE;
      i += 2 + n;
    }
    return FALSE;
  }
  return h265_key_type (type);
}

static void
count_rtp (RtsReader *r, Track *t, const guint8 *p, gsize len)
{
  guint16 seq;
  guint32 ts;

  /* Version 2, and a header's worth: anything else is not RTP. */
  if (len < 12 || (p[0] >> 6) != 2)
    return;
  seq = (guint16) ((p[2] << 8) | p[3]);
  ts = ((guint32) p[4] << 24) | ((guint32) p[5] << 16) | ((guint32) p[6] << 8)
      | p[7];
  g_mutex_lock (&r->lock);
  {
    gsize start = 12 + 4 * (p[0] & 0x0f);
    if ((p[0] & 0x10) && start + 4 <= len)
      start += 4 + 4 * (gsize) ((p[start + 2] << 8) | p[start + 3]);
    /* The video's pictures: H.264 (the default cameras' codec) or H.265,
     * as the SDP said. */
    if (t == &r->tracks[0] && start < len
        && (t->h265 ? h265_key (p + start, len - start)
                    : h264_key (p + start, len - start)))
      t->frame_key = TRUE;
  }
  if (!t->have_seq) {
    t->stats.first_seq = seq;
    t->stats.first_ts = ts;
    t->stats.ssrc = ((guint32) p[8] << 24) | ((guint32) p[9] << 16)
        | ((guint32) p[10] << 8) | p[11];
  }
  if (t->await_replay) {
    t->stats.have_replay_seq = TRUE;
    t->stats.replay_seq = seq;
    t->await_replay = FALSE;
  }
  /* Timestamps only go forward, and a frame after a finished one has one
   * of its own. */
  if (t->have_seq && (gint32) (ts - t->last_ts) < 0)
    t->stats.ts_backwards++;
  if (t->have_seq && !t->in_frame && ts == t->last_ts && t == &r->tracks[0])
    t->stats.ts_repeated++;
  if (t->have_seq && t->in_frame && ts != t->last_ts)
    t->stats.frames_cut++;
  if (t->have_seq && seq != t->next_seq) {
    guint16 skipped = (guint16) (seq - t->next_seq);
    t->stats.gaps++;
    /* A jump backwards (a duplicate or a reorder) loses nothing. */
    if (skipped < 0x8000)
      t->stats.lost += skipped;
    else
      t->stats.backwards++;
    if (t->in_frame && t->last_ts == ts)
      t->stats.gaps_mid_frame++;
    t->stats.last_gap_ts_delta = ts - t->last_ts;
    t->gap_pending = TRUE;
  }
  t->in_frame = !(p[1] & 0x80);
  t->last_ts = ts;
  t->have_seq = TRUE;
  t->next_seq = (guint16) (seq + 1);
  {
    double offset = g_get_real_time () / 1e6
        - (gint32) (ts - t->stats.first_ts) / (double) t->clock_rate;
    if (t->stats.packets == 0 || offset < t->min_offset)
      t->min_offset = offset;
  }
  t->stats.packets++;
  t->stats.bytes += len;
  if (p[1] & 0x80) {
    if (t->stats.frames == 0)
      t->stats.first_frame_key = t->frame_key;
    t->stats.frames++;
    t->stats.keyframes += t->frame_key;
    if (t->gap_pending && !t->frame_key)
      t->stats.delta_after_gap++;
    t->gap_pending = FALSE;
    t->frame_key = FALSE;
  }
  t->stats.last_us = g_get_monotonic_time ();
  if (!t->stats.first_us)
    t->stats.first_us = t->stats.last_us;
  g_mutex_unlock (&r->lock);
}

/* A compound RTCP packet: a sender report first (RFC 3550 6.4.1) is kept
 * to compare with the stream it reports on. */
static void
count_rtcp (RtsReader *r, Track *t, const guint8 *p, gsize len)
{
  g_mutex_lock (&r->lock);
  t->stats.rtcp++;
  if (len >= 28 && (p[0] >> 6) == 2 && p[1] == 200 && t->n_sr < 16) {
    guint32 sec = ((guint32) p[8] << 24) | ((guint32) p[9] << 16)
        | ((guint32) p[10] << 8) | p[11];
    guint32 frac = ((guint32) p[12] << 24) | ((guint32) p[13] << 16)
        | ((guint32) p[14] << 8) | p[15];
    t->sr_wall[t->n_sr] = (sec - 2208988800u) + frac / 4294967296.0;
    t->sr_ts[t->n_sr] = ((guint32) p[16] << 24) | ((guint32) p[17] << 16)
        | ((guint32) p[18] << 8) | p[19];
    t->sr_ssrc[t->n_sr] = ((guint32) p[4] << 24) | ((guint32) p[5] << 16)
        | ((guint32) p[6] << 8) | p[7];
    t->n_sr++;
  }
  /* The SDES packet after it (RFC 3550 6.5): its first chunk's CNAME. */
  for (gsize at = 0; at + 4 <= len;) {
    gsize size = 4 + 4 * (gsize) ((p[at + 2] << 8) | p[at + 3]);
    if (at + size > len)
      break;
    if (p[at + 1] == 202 && size >= 10 && p[at + 8] == 1
        && 10 + (gsize) p[at + 9] <= size) {
      gsize n = MIN (p[at + 9], sizeof t->stats.rtcp_cname - 1);
      memcpy (t->stats.rtcp_cname, p + at + 10, n);
      t->stats.rtcp_cname[n] = '\0';
    }
    at += size;
  }
  g_mutex_unlock (&r->lock);
}

static gboolean
send_all (GSocket *sock, const char *data, gsize len, GError **error)
{
  while (len > 0) {
    gssize n = g_socket_send (sock, data, len, NULL, error);
    if (n < 0)
      return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}

/* Reads what is there on the control connection, waiting until DEADLINE
 * (monotonic us) for something. FALSE on timeout, EOF or error. */
static gboolean
fill (RtsReader *r, gint64 deadline, GError **error)
{
  guint8 buf[65536];
  gint64 left = deadline - g_get_monotonic_time ();
  gssize n;

  if (left <= 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
    return FALSE;
  }
  if (!g_socket_condition_timed_wait (r->ctl, G_IO_IN, left, NULL, error))
    return FALSE;
  n = g_socket_receive (r->ctl, (char *) buf, sizeof buf, NULL, error);
  if (n < 0)
    return FALSE;
  if (n == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
        "the server closed the connection");
    return FALSE;
  }
  g_byte_array_append (r->in, buf, n);
  return TRUE;
}

static const guint8 *
find_bytes (const guint8 *hay, gsize len, const char *needle)
{
  gsize n = strlen (needle);
  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (hay + i, needle, n) == 0)
      return hay + i;
  return NULL;
}

/* Value of header NAME in a response's header block, or NULL. */
static char *
header (const char *head, const char *name)
{
  g_autofree char *key = g_strdup_printf ("\r\n%s:", name);
  const char *p = g_strstr_len (head, -1, "\r\n");
  gsize klen = strlen (key);

  for (; p; p = strstr (p + 2, "\r\n")) {
    if (g_ascii_strncasecmp (p, key, klen) == 0) {
      const char *v = p + klen;
      const char *end = strstr (v, "\r\n");
      while (*v == ' ' || *v == '\t')
        v++;
      return g_strndup (v, end ? (gsize) (end - v) : strlen (v));
    }
  }
  return NULL;
}

/* Takes what is complete at the head of the input: interleaved frames are
 * counted; a whole response is returned in HEAD/BODY (TRUE). FALSE when
 * more bytes are needed. */
static gboolean
parse_one (RtsReader *r, gboolean *got_response, char **head, char **body)
{
  const guint8 *d = r->in->data;
  gsize len = r->in->len;

  *got_response = FALSE;
  if (len == 0)
    return FALSE;
  if (d[0] == '$') {
    gsize size;
    if (len < 4)
      return FALSE;
    size = (gsize) ((d[2] << 8) | d[3]);
    if (len < 4 + size)
      return FALSE;
    /* A channel no stream was set up on is dropped. */
    for (guint i = 0; i < r->n_tracks; i++) {
      Track *t = &r->tracks[i];
      if (d[1] == t->channel)
        count_rtp (r, t, d + 4, size);
      else if (d[1] == t->channel + 1)
        count_rtcp (r, t, d + 4, size);
    }
    g_byte_array_remove_range (r->in, 0, 4 + size);
    return TRUE;
  }
  const guint8 *end = find_bytes (d, len, "\r\n\r\n");
  if (!end)
    return FALSE;
  gsize head_len = end - d + 4;
  g_autofree char *h = g_strndup ((const char *) d, head_len);
  g_autofree char *cl = header (h, "Content-Length");
  gsize body_len = cl ? strtoul (cl, NULL, 10) : 0;
  if (len < head_len + body_len)
    return FALSE;
  if (body)
    *body = g_strndup ((const char *) d + head_len, body_len);
  if (head)
    *head = g_steal_pointer (&h);
  g_byte_array_remove_range (r->in, 0, head_len + body_len);
  *got_response = TRUE;
  return TRUE;
}

/* Sends METHOD with EXTRA headers and waits for its answer, counting any
 * RTP that arrives first. Returns the status, -1 with ERROR set. */
static int
request (RtsReader *r, const char *method, const char *url, const char *extra,
    double timeout, char **head_out, char **body_out, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout * 1e6);
  g_autofree char *session =
      r->session ? g_strdup_printf ("Session: %s\r\n", r->session) : NULL;
  g_autofree char *req =
      g_strdup_printf ("%s %s RTSP/1.0\r\nCSeq: %u\r\nUser-Agent: "
                       "rtsp-test-reader\r\n%s%s\r\n",
          method, url, ++r->cseq, session ? session : "", extra ? extra : "");

  if (!send_all (r->ctl, req, strlen (req), error))
    return -1;
  for (;;) {
    gboolean got = FALSE;
    g_autofree char *head = NULL;
    g_autofree char *body = NULL;

    while (parse_one (r, &got, &head, &body) && !got)
      ;
    if (got) {
      if (!g_str_has_prefix (head, "RTSP/1.0 ")) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            "%s: not an RTSP answer: %.40s", method, head);
        return -1;
      }
      if (head_out)
        *head_out = g_steal_pointer (&head);
      if (body_out)
        *body_out = g_steal_pointer (&body);
      return atoi ((head_out ? *head_out : head) + 9);
    }
    if (!fill (r, deadline, error)) {
      g_prefix_error (error, "%s: ", method);
      return -1;
    }
  }
}

static gboolean
bind_udp_pair (RtsReader *r, guint *rtp_port, GError **error)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  /* RTP wants an even port and RTCP the next one; the kernel hands out
   * either parity, so try a few. */
  for (guint attempt = 0; attempt < 50; attempt++) {
    g_autoptr (GSocket) a = NULL, b = NULL;
    g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
    g_autoptr (GSocketAddress) local = NULL;
    g_autoptr (GSocketAddress) next = NULL;
    guint port;

    a = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
        G_SOCKET_PROTOCOL_UDP, error);
    if (!a || !g_socket_bind (a, any, FALSE, error))
      return FALSE;
    local = g_socket_get_local_address (a, error);
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    if (port % 2 || port >= 65535)
      continue;
    b = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
        G_SOCKET_PROTOCOL_UDP, error);
    next = g_inet_socket_address_new (lo, port + 1);
    if (!b || !g_socket_bind (b, next, FALSE, NULL))
      continue;
    /* Past net.core.rmem_max where allowed (root, as in CI): Debian's
     * default caps a UDP buffer at about a second of stream. */
    if (!g_socket_set_option (a, SOL_SOCKET, SO_RCVBUFFORCE, UDP_RCVBUF, NULL))
      g_socket_set_option (a, SOL_SOCKET, SO_RCVBUF, UDP_RCVBUF, NULL);
    g_socket_set_blocking (a, FALSE);
    g_socket_set_blocking (b, FALSE);
    r->rtp = g_steal_pointer (&a);
    r->rtcp = g_steal_pointer (&b);
    *rtp_port = port;
    return TRUE;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
      "no free UDP port pair on 127.0.0.1");
  return FALSE;
}

/* Track T's SETUP URL from the SDP's first MEDIA ("video", "audio")
 * section: its control attribute, resolved against Content-Base (or the
 * request URL); and its clock rate, from its rtpmap. FALSE if the SDP has
 * no such section or it no control. */
static gboolean
media_setup (RtsReader *r, Track *t, const char *head, const char *sdp,
    const char *media)
{
  g_autofree char *base = header (head, "Content-Base");
  g_autofree char *m_line = g_strdup_printf ("m=%s ", media);
  const char *m = strstr (sdp, m_line);
  const char *m_end = m ? strstr (m + 2, "\nm=") : NULL;
  const char *c = m ? strstr (m, "a=control:") : NULL;
  const char *map = m ? strstr (m, "a=rtpmap:") : NULL;
  g_autofree char *control = NULL;

  if (!c || (m_end && c > m_end))
    return FALSE;
  /* a=rtpmap:96 H264/90000 */
  t->clock_rate = 90000;
  if (map && (!m_end || map < m_end)) {
    const char *slash = strchr (map, '/');
    const char *eol = map + strcspn (map, "\r\n");
    if (slash && slash < eol)
      t->clock_rate = (guint) strtoul (slash + 1, NULL, 10);
    t->h265 = g_strstr_len (map, eol - map, " H265/") != NULL;
  }
  if (t->clock_rate == 0)
    t->clock_rate = 90000;
  {
    /* a=ssrc:432283952 cname:cam1 */
    const char *cn = m ? strstr (m, " cname:") : NULL;
    if (cn && (!m_end || cn < m_end)) {
      cn += strlen (" cname:");
      g_strlcpy (t->stats.sdp_cname, cn,
          MIN (sizeof t->stats.sdp_cname, strcspn (cn, "\r\n") + 1));
    }
  }
  c += strlen ("a=control:");
  control = g_strndup (c, strcspn (c, "\r\n"));
  if (g_str_has_prefix (control, "rtsp://")) {
    t->setup_url = g_steal_pointer (&control);
    return TRUE;
  }
  if (!base)
    base = g_strdup_printf ("%s/", r->url);
  t->setup_url = g_strdup_printf ("%s%s%s", base,
      g_str_has_suffix (base, "/") ? "" : "/", control);
  return TRUE;
}

static void
reader_free (RtsReader *r)
{
  if (r->ctl)
    g_socket_close (r->ctl, NULL);
  g_clear_object (&r->ctl);
  g_clear_object (&r->rtp);
  g_clear_object (&r->rtcp);
  g_free (r->url);
  for (guint i = 0; i < G_N_ELEMENTS (r->tracks); i++)
    g_free (r->tracks[i].setup_url);
  g_free (r->session);
  g_free (r->error);
  g_byte_array_unref (r->in);
  g_mutex_clear (&r->lock);
  g_free (r);
}

/* The last path segment of URL ("stream=0"): what RTP-Info's url and a
 * SETUP URL made from the SDP have in common, however each was spelled. */
static const char *
last_segment (const char *url, gsize len)
{
  const char *p = url + len;

  while (p > url && p[-1] != '/')
    p--;
  return p;
}

/* The PLAY answer's RTP-Info: the entry of each stream set up, found by
 * its URL (url=...;seq=N;rtptime=T, entries separated by commas). */
static void
parse_rtpinfo (RtsReader *r, const char *head)
{
  g_autofree char *info = header (head, "RTP-Info");
  g_auto (GStrv) entries = info ? g_strsplit (info, ",", -1) : NULL;

  for (guint e = 0; entries && entries[e]; e++) {
    const char *url = strstr (entries[e], "url=");
    const char *seq = strstr (entries[e], "seq=");
    const char *ts = strstr (entries[e], "rtptime=");
    gsize url_len;

    if (!url || !ts)
      continue;
    url += 4;
    url_len = strcspn (url, ";");
    for (guint i = 0; i < r->n_tracks; i++) {
      Track *t = &r->tracks[i];
      const char *mine = last_segment (t->setup_url, strlen (t->setup_url));
      const char *theirs = last_segment (url, url_len);
      if (strlen (mine) != (gsize) (url + url_len - theirs)
          || strncmp (mine, theirs, strlen (mine)) != 0)
        continue;
      t->stats.have_rtpinfo = seq != NULL;
      t->stats.rtpinfo_no_seq = seq == NULL;
      if (seq)
        t->stats.rtpinfo_seq = (guint16) strtoul (seq + 4, NULL, 10);
      t->stats.rtpinfo_ts = (guint32) strtoul (ts + 8, NULL, 10);
    }
  }
}

static RtsReader *play (guint port, const char *path,
    RtsReaderTransport transport, gboolean range, gboolean audio,
    gboolean audio_only, guint rcvbuf, double timeout, GError **error);

RtsReader *
rts_reader_play (guint port, const char *path, RtsReaderTransport transport,
    double timeout, GError **error)
{
  return play (port, path, transport, FALSE, FALSE, FALSE, 0, timeout, error);
}

RtsReader *
rts_reader_play_range (guint port, const char *path,
    RtsReaderTransport transport, gboolean range, double timeout,
    GError **error)
{
  return play (port, path, transport, range, FALSE, FALSE, 0, timeout, error);
}

RtsReader *
rts_reader_play_rcvbuf (guint port, const char *path,
    RtsReaderTransport transport, guint rcvbuf, double timeout, GError **error)
{
  return play (port, path, transport, FALSE, FALSE, FALSE, rcvbuf, timeout,
      error);
}

RtsReader *
rts_reader_play_av (guint port, const char *path, double timeout,
    GError **error)
{
  return play (port, path, RTS_READER_TCP, FALSE, TRUE, FALSE, 0, timeout,
      error);
}

RtsReader *
rts_reader_play_audio (guint port, const char *path, double timeout,
    GError **error)
{
  return play (port, path, RTS_READER_TCP, FALSE, FALSE, TRUE, 0, timeout,
      error);
}

/* SETUP of track I: over TCP on channels 2I and 2I+1, over UDP (video
 * only) to a port pair of our own. The first SETUP's answer names the
 * session, which every later request carries. */
static int
setup (RtsReader *r, guint i, double timeout, GError **error)
{
  g_autofree char *head = NULL, *transport_hdr = NULL, *session = NULL;
  guint rtp_port = 0;
  int status;

  if (r->transport == RTS_READER_UDP) {
    if (!bind_udp_pair (r, &rtp_port, error))
      return -1;
    transport_hdr =
        g_strdup_printf ("Transport: RTP/AVP;unicast;client_port=%u-%u\r\n",
            rtp_port, rtp_port + 1);
  } else {
    transport_hdr =
        g_strdup_printf ("Transport: RTP/AVP/TCP;unicast;interleaved=%u-%u\r\n",
            2 * i, 2 * i + 1);
    r->tracks[i].channel = 2 * i;
  }
  status = request (r, "SETUP", r->tracks[i].setup_url, transport_hdr, timeout,
      &head, NULL, error);
  if (status != 200 || r->session)
    return status;
  session = header (head, "Session");
  if (!session) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "SETUP: 200 without a Session header");
    return -1;
  }
  {
    const char *t = strstr (session, "timeout=");
    r->session_timeout = t ? (guint) atoi (t + strlen ("timeout=")) : 60;
  }
  r->session = g_strndup (session, strcspn (session, ";"));
  {
    g_autofree char *tr = header (head, "Transport");
    const char *sp = tr ? strstr (tr, "server_port=") : NULL;
    const char *dash = sp ? strchr (sp, '-') : NULL;
    if (dash)
      r->server_rtcp_port = (guint) atoi (dash + 1);
  }
  return status;
}

static RtsReader *
play (guint port, const char *path, RtsReaderTransport transport,
    gboolean range, gboolean audio, gboolean audio_only, guint rcvbuf,
    double timeout, GError **error)
{
  RtsReader *r = g_new0 (RtsReader, 1);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, port);
  g_autofree char *head = NULL, *sdp = NULL;
  int status;

  g_mutex_init (&r->lock);
  r->transport = transport;
  r->in = g_byte_array_new ();
  r->url = g_strdup_printf ("rtsp://127.0.0.1:%u%s", port, path);
  r->ctl = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, error);
  if (!r->ctl)
    goto failed;
  g_socket_set_timeout (r->ctl, (guint) timeout + 1);
  if (rcvbuf)
    g_socket_set_option (r->ctl, SOL_SOCKET, SO_RCVBUF, (gint) rcvbuf, NULL);
  if (!g_socket_connect (r->ctl, sa, NULL, error))
    goto failed;

  status = request (r, "OPTIONS", r->url, NULL, timeout, NULL, NULL, error);
  if (status != 200)
    goto bad_status;
  status = request (r, "DESCRIBE", r->url, "Accept: application/sdp\r\n",
      timeout, &head, &sdp, error);
  if (status != 200)
    goto bad_status;
  r->n_tracks = audio || audio_only ? 2 : 1;
  r->audio_only = audio_only;
  for (guint i = 0; i < r->n_tracks; i++) {
    const char *media = i ? "audio" : "video";
    if (!media_setup (r, &r->tracks[i], head, sdp, media)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "DESCRIBE: no %s control URL in the SDP: %s", media, sdp);
      goto failed;
    }
  }
  for (guint i = audio_only ? 1 : 0; i < r->n_tracks; i++) {
    status = setup (r, i, timeout, error);
    if (status != 200)
      goto bad_status;
  }
  g_clear_pointer (&head, g_free);
  status = request (r, "PLAY", r->url, range ? "Range: npt=0-\r\n" : NULL,
      timeout, &head, NULL, error);
  if (status != 200)
    goto bad_status;
  g_mutex_lock (&r->lock);
  parse_rtpinfo (r, head);
  g_mutex_unlock (&r->lock);
  r->last_keepalive = g_get_monotonic_time ();
  return r;

  /* ERRORS */
bad_status:
  if (status >= 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "RTSP request %u answered %d", r->cseq, status);
failed:
  reader_free (r);
  return NULL;
}

/* Whatever the UDP sockets hold now, without waiting. */
static void
drain_udp (RtsReader *r)
{
  guint8 buf[65536];
  gssize n;

  while (
      (n = g_socket_receive (r->rtp, (char *) buf, sizeof buf, NULL, NULL)) > 0)
    count_rtp (r, &r->tracks[0], buf, n);
  while ((n = g_socket_receive (r->rtcp, (char *) buf, sizeof buf, NULL, NULL))
      > 0)
    count_rtcp (r, &r->tracks[0], buf, n);
}

/* One round of receiving, at most WAIT_US long. Responses to keep-alives
 * are read and dropped. FALSE when the connection is gone. */
static gboolean
pump (RtsReader *r, gint64 wait_us, GError **error)
{
  gboolean got;

  if (r->transport == RTS_READER_UDP) {
    g_autoptr (GError) ignore = NULL;
    g_socket_condition_timed_wait (r->rtp, G_IO_IN, wait_us, NULL, &ignore);
    drain_udp (r);
    /* The control connection carries keep-alive answers only. */
    if (g_socket_condition_check (r->ctl, G_IO_IN | G_IO_HUP)) {
      if (!fill (r, g_get_monotonic_time () + 1000, error))
        return FALSE;
    }
  } else {
    g_autoptr (GError) err = NULL;
    if (!fill (r, g_get_monotonic_time () + wait_us, &err)) {
      if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
        g_propagate_error (error, g_steal_pointer (&err));
        return FALSE;
      }
    }
  }
  while (parse_one (r, &got, NULL, NULL))
    ;
  return TRUE;
}

static guint64
packets (RtsReader *r)
{
  guint64 n;
  g_mutex_lock (&r->lock);
  n = r->tracks[r->audio_only ? 1 : 0].stats.packets;
  g_mutex_unlock (&r->lock);
  return n;
}

gboolean
rts_reader_receive (RtsReader *r, guint64 want, double timeout)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout * 1e6);

  g_assert (!r->thread);
  while (packets (r) < want) {
    gint64 left = deadline - g_get_monotonic_time ();
    if (left <= 0 || !pump (r, MIN (left, 100 * 1000), NULL))
      return packets (r) >= want;
  }
  return TRUE;
}

static gpointer
receive_thread (gpointer data)
{
  RtsReader *r = data;
  g_autoptr (GError) err = NULL;

  while (!g_atomic_int_get (&r->stop)) {
    if (g_get_monotonic_time () - r->last_keepalive > KEEPALIVE_US) {
      g_autofree char *req = g_strdup_printf ("GET_PARAMETER %s RTSP/1.0\r\n"
                                              "CSeq: %u\r\nSession: %s\r\n\r\n",
          r->url, ++r->cseq, r->session);
      r->last_keepalive = g_get_monotonic_time ();
      if (!send_all (r->ctl, req, strlen (req), &err))
        break;
    }
    if (!pump (r, 100 * 1000, &err))
      break;
  }
  if (err) {
    g_mutex_lock (&r->lock);
    r->error = g_strdup (err->message);
    g_mutex_unlock (&r->lock);
  }
  return NULL;
}

/* After a PLAY of a session that played before, answered with HEAD: its
 * RTP-Info, and the first packet of each track from now on, noted. */
static void
note_replay (RtsReader *r, const char *head)
{
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->n_tracks; i++) {
    r->tracks[i].stats.have_rtpinfo = FALSE;
    r->tracks[i].stats.rtpinfo_no_seq = FALSE;
    r->tracks[i].await_replay = TRUE;
  }
  parse_rtpinfo (r, head);
  g_mutex_unlock (&r->lock);
}

static gboolean
replay (RtsReader *r, gboolean pause, double timeout)
{
  g_autofree char *head = NULL;

  g_assert (!r->thread);
  if (pause
      && request (r, "PAUSE", r->url, NULL, timeout, NULL, NULL, NULL) != 200)
    return FALSE;
  /* What was sent before the PAUSE was answered: over UDP nothing orders
   * it before the answer, and it may still wait in the socket (the
   * packets of a frame sent after the last receive, about once in thirty
   * pauses). Read now, it counts where it belongs; anything read after the
   * PLAY that is not the packet its RTP-Info names was sent after the
   * PAUSE was answered. */
  if (pause && r->transport == RTS_READER_UDP)
    drain_udp (r);
  if (request (r, "PLAY", r->url, NULL, timeout, &head, NULL, NULL) != 200)
    return FALSE;
  note_replay (r, head);
  return TRUE;
}

gboolean
rts_reader_replay (RtsReader *r, double timeout)
{
  return replay (r, TRUE, timeout);
}

gboolean
rts_reader_play_again (RtsReader *r, double timeout)
{
  return replay (r, FALSE, timeout);
}

int
rts_reader_setup_again (RtsReader *r, gboolean pause_first, double timeout,
    GError **error)
{
  g_autofree char *transport_hdr = NULL;
  g_autofree char *head = NULL;
  GSocket *old[2] = { r->rtp, r->rtcp };
  int status;

  g_assert (!r->thread);
  if (pause_first) {
    status = request (r, "PAUSE", r->url, NULL, timeout, NULL, NULL, error);
    if (status != 200) {
      if (status > 0)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PAUSE: %d", status);
      return -1;
    }
  }
  if (r->transport == RTS_READER_UDP) {
    guint rtp_port = 0;
    if (!bind_udp_pair (r, &rtp_port, error))
      return -1;
    transport_hdr =
        g_strdup_printf ("Transport: RTP/AVP;unicast;client_port=%u-%u\r\n",
            rtp_port, rtp_port + 1);
  } else {
    transport_hdr =
        g_strdup ("Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
  }
  status = request (r, "SETUP", r->tracks[0].setup_url, transport_hdr, timeout,
      &head, NULL, error);
  if (status == 200 && r->transport == RTS_READER_TCP) {
    /* The server may put the stream on other channels than asked (those
     * are taken, by the stream itself: gst-rtsp-server does). */
    g_autofree char *tr = header (head, "Transport");
    const char *il = tr ? strstr (tr, "interleaved=") : NULL;
    if (il)
      r->tracks[0].channel = (guint) atoi (il + strlen ("interleaved="));
  }
  g_clear_pointer (&head, g_free);
  if (r->transport == RTS_READER_UDP) {
    /* Answered 200, the new pair is where the stream goes; otherwise the
     * old one still is. */
    GSocket *drop[2] = { old[0], old[1] };
    if (status != 200) {
      drop[0] = r->rtp;
      drop[1] = r->rtcp;
      r->rtp = old[0];
      r->rtcp = old[1];
    }
    g_clear_object (&drop[0]);
    g_clear_object (&drop[1]);
  }
  if (status != 200 || !pause_first)
    return status;
  if (request (r, "PLAY", r->url, NULL, timeout, &head, NULL, error) != 200) {
    if (error && !*error)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PLAY after SETUP");
    return -1;
  }
  note_replay (r, head);
  return status;
}

void
rts_reader_start_thread (RtsReader *r)
{
  g_assert (!r->thread);
  r->thread = g_thread_new ("rtsp-reader", receive_thread, r);
}

void
rts_reader_stream_stats (RtsReader *r, guint stream, RtsReaderStats *out)
{
  const Track *t = &r->tracks[stream];

  g_assert (stream < r->n_tracks);
  g_mutex_lock (&r->lock);
  *out = t->stats;
  /* A report says "timestamp TS is wall-clock time WALL"; the packets say
   * "TS arrived at this time" (later, by their way and our reading). The
   * least delayed packet is as good as a sent time: the two maps differ
   * by the report's error. */
  out->reports = 0;
  out->report_skew_ms = 0;
  for (guint i = 0; i < t->n_sr && t->stats.packets; i++) {
    double offset = t->sr_wall[i]
        - (gint32) (t->sr_ts[i] - t->stats.first_ts) / (double) t->clock_rate;
    if (t->sr_ssrc[i] != t->stats.ssrc)
      continue;
    if (out->reports++ == 0) {
      out->first_report_wall = t->sr_wall[i];
      out->first_report_ts = t->sr_ts[i];
    }
    out->report_skew_ms =
        MAX (out->report_skew_ms, fabs (t->min_offset - offset) * 1000);
  }
  g_mutex_unlock (&r->lock);
}

void
rts_reader_stats (RtsReader *r, RtsReaderStats *out)
{
  rts_reader_stream_stats (r, 0, out);
}

gboolean
rts_reader_wait_frames (RtsReader *r, guint64 want, double timeout)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout * 1e6);
  RtsReaderStats st;

  for (;;) {
    rts_reader_stats (r, &st);
    if (st.frames >= want)
      return TRUE;
    if (g_get_monotonic_time () > end || rts_reader_error (r))
      return FALSE;
    g_usleep (20 * 1000);
  }
}

/* Whether every stream set up has had a packet and a sender report of
 * its own. */
static gboolean
reported (RtsReader *r)
{
  for (guint i = 0; i < r->n_tracks; i++) {
    RtsReaderStats st;
    rts_reader_stream_stats (r, i, &st);
    if (st.reports == 0)
      return FALSE;
  }
  return TRUE;
}

gboolean
rts_reader_wait_reports (RtsReader *r, double timeout)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout * 1e6);

  g_assert (!r->thread);
  while (!reported (r)) {
    gint64 left = deadline - g_get_monotonic_time ();
    if (left <= 0 || !pump (r, MIN (left, 100 * 1000), NULL))
      return reported (r);
  }
  return TRUE;
}

const char *
rts_reader_error (RtsReader *r)
{
  const char *e;
  g_mutex_lock (&r->lock);
  e = r->error;
  g_mutex_unlock (&r->lock);
  return e;
}

const char *
rts_reader_session (RtsReader *r)
{
  return r->session;
}

guint
rts_reader_session_timeout (RtsReader *r)
{
  return r->session_timeout;
}

int
rts_reader_teardown (RtsReader *r, double timeout)
{
  g_assert (!r->thread);
  return request (r, "TEARDOWN", r->url, NULL, timeout, NULL, NULL, NULL);
}

gboolean
rts_reader_wait_closed (RtsReader *r, double timeout)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout * 1e6);
  g_autoptr (GError) err = NULL;

  g_assert (!r->thread);
  while (g_get_monotonic_time () < deadline) {
    g_clear_error (&err);
    if (!fill (r, deadline, &err))
      return !g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    g_byte_array_set_size (r->in, 0);
  }
  return FALSE;
}

void
rts_reader_vanish (RtsReader *r, RtsVanish how)
{
  if (r->thread) {
    g_atomic_int_set (&r->stop, 1);
    g_thread_join (r->thread);
    r->thread = NULL;
  }
  if (!r->ctl)
    return;
  switch (how) {
    case RTS_VANISH_TEARDOWN:
      request (r, "TEARDOWN", r->url, NULL, 2, NULL, NULL, NULL);
      break;
    case RTS_VANISH_CLOSE: {
      /* A FIN, not a reset: closing with unread data in the receive queue
       * (interleaved RTP keeps arriving) makes Linux send RST. So say we
       * are done, and read until the server closes its side. */
      gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
      g_socket_shutdown (r->ctl, FALSE, TRUE, NULL);
      while (fill (r, deadline, NULL))
        g_byte_array_set_size (r->in, 0);
      break;
    }
    case RTS_VANISH_RST: {
      struct linger lg = { 1, 0 };
      setsockopt (g_socket_get_fd (r->ctl), SOL_SOCKET, SO_LINGER, &lg,
          sizeof lg);
      break;
    }
  }
  g_socket_close (r->ctl, NULL);
  g_clear_object (&r->ctl);
}

guint64
rts_reader_udp_packets_after (RtsReader *r, double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);
  guint8 buf[65536];
  guint64 n = 0;

  g_assert (r->rtp && !r->ctl);
  /* Whatever was queued before the vanishing does not count. */
  while (g_socket_receive (r->rtp, (char *) buf, sizeof buf, NULL, NULL) > 0)
    ;
  for (gint64 left; (left = end - g_get_monotonic_time ()) > 0;) {
    g_socket_condition_timed_wait (r->rtp, G_IO_IN, left, NULL, NULL);
    while (g_socket_receive (r->rtp, (char *) buf, sizeof buf, NULL, NULL) > 0)
      n++;
  }
  return n;
}

void
rts_reader_close (RtsReader *r, RtsVanish how)
{
  if (!r)
    return;
  rts_reader_vanish (r, how);
  reader_free (r);
}

guint
rts_reader_server_rtcp_port (RtsReader *r)
{
  return r->server_rtcp_port;
}
