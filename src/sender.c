/* sender: see sender.h. */
#define _GNU_SOURCE /* sendmmsg */
#include "sender.h"

#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtcpbuffer.h>

/* Packets due this soon go with the ones due now: one wake-up, not two. */
#define SLACK (1 * GST_MSECOND)
/* Sender reports: RFC 3550's 5 s minimum, the first with the first packet. */
#define SR_INTERVAL (5 * GST_SECOND)
/* A reader this far behind its schedule (a frozen process, a long stall)
 * goes on from the next keyframe instead of catching up in a burst. */
#define MAX_BEHIND GST_SECOND
/* A camera nobody reads only keeps its counters: this often, on a grid all
 * such cameras share. */
#define IDLE_TICK (100 * GST_MSECOND)
/* A multicast group nobody was seen on for this long stops. */
#define GROUP_GRACE (2 * GST_SECOND)
#define BATCH 64
/* How long a client whose write failed is kept (see hold()). */
#define HOLD (2 * GST_SECOND)
/* How soon a TCP reader whose connection was full is tried again. */
#define RETRY (10 * GST_MSECOND)

/* One reader of one stream (kept on its GstRTSPStreamTransport), or a
 * stream's multicast group. Its stream is the camera's timeline shifted by
 * DELTA: packet G goes to it at t0 + due(G) + DELTA, with the timestamp
 * ts(G) + DELTA, so every reader's timestamps follow the wall clock alike,
 * whatever packet it is at. */
typedef struct {
  guint64 next;         /* position of the next packet (rtp_clip.h) */
  gint64 delta;         /* ns */
  gboolean resync;      /* go on from the next keyframe */
  gboolean full;        /* TCP: its connection refused the last write */
  guint64 sent_to;      /* the packet after the last one it was sent */
  gboolean in_frame;    /* that last one did not end its frame */
  GstClockTime held_at; /* when its client was last held (see hold()) */
  guint plan;           /* bumped at each PLAY; ARMED != PLAN: set up again */
  guint armed;
  GWeakRef client; /* TCP: whose connection it writes to */
  gboolean placed; /* unicast: its PLAY was planned (rts_feed_plan_play) */
  GstClockTime next_sr;
  guint32 packets, octets; /* sent since its PLAY, for its reports */
  /* UDP and multicast: where to */
  struct sockaddr_storage rtp_to, rtcp_to;
  socklen_t to_len;
  gboolean v6;
} Reader;

enum { RTP_V4, RTP_V6, RTCP_V4, RTCP_V6, MRTP, MRTCP, N_SOCKETS };

typedef struct {
  GstRTSPStream *stream;
  const RtsRtpTrack *track;
  guint32 ssrc;
  guint16 seq_base;
  guint32 ts_base;
  GstRTSPStreamTransport *house;
  GSocket *sockets[N_SOCKETS]; /* looked up once they exist */
  guint64 head;                /* the camera's timeline: next packet due */
  Reader group;                /* the multicast group */
  gboolean group_on;
  GstClockTime group_seen;
} Stream;

struct RtsFeed {
  gint ref;
  GMutex lock; /* everything below but the counters */
  char *cname;
  RtsRtpClip *clip;
  Stream streams[2];
  guint n_streams;
  GstClockTime t0; /* monotonic ns: the timeline's 0, on a whole second */
  gboolean stalled;
  gboolean removed;
  GArray *held; /* Held: clients whose write failed, kept a while */
  /* The sender's: under its lock. */
  GstClockTime next_due;
  gboolean kicked;
  /* Atomic. */
  guint64 packets, frames, bytes, waits, frames_dropped, resyncs;
};

typedef struct {
  GstRTSPClient *client; /* a reference */
  GstClockTime until;
} Held;

/* The one sending thread and the feeds it serves. */
static struct {
  GMutex lock;
  GCond cond;
  GThread *thread;
  GPtrArray *feeds; /* references */
  gboolean wake;
  gboolean quit;
} S;

static GQuark reader_quark;

static GstClockTime
now_ns (void)
{
  return (GstClockTime) g_get_monotonic_time () * GST_USECOND;
}

static void
count (guint64 *counter, guint64 n)
{
  __atomic_fetch_add (counter, n, __ATOMIC_RELAXED);
}

static RtsFeed *
feed_ref (RtsFeed *f)
{
  g_atomic_int_inc (&f->ref);
  return f;
}

static void
feed_unref (gpointer data)
{
  RtsFeed *f = data;

  if (!g_atomic_int_dec_and_test (&f->ref))
    return;
  /* The streams and sockets went in rts_feed_free(). */
  for (guint i = 0; i < f->held->len; i++)
    g_object_unref (g_array_index (f->held, Held, i).client);
  g_array_free (f->held, TRUE);
  rts_rtp_clip_unref (f->clip);
  g_free (f->cname);
  g_mutex_clear (&f->lock);
  g_free (f);
}

static void
reader_free (gpointer data)
{
  Reader *rd = data;

  g_weak_ref_clear (&rd->client);
  g_free (rd);
}

static Reader *
reader_new (void)
{
  Reader *rd = g_new0 (Reader, 1);

  g_weak_ref_init (&rd->client, NULL);
  return rd;
}

/* ------------------------------------------------------------------------ */
/* Where readers start */

/* Under F's lock: a reader's start at the video's keyframe KEY, due at
 * once: its shift DELTA is the camera's frame playing at NOW less KEY
 * (whole frames), and on the audio track it starts on the first packet
 * from KEY's time on. With AFTER (a video position), KEY is the first
 * keyframe at or after it, if that is later than the one of the GOP
 * playing; and the keyframe is due no earlier than NOT_BEFORE (the
 * reader's own timeline, from T0: after what it was sent), on the frame
 * grid. */
static void
start_at (RtsFeed *f, GstClockTime now, const guint64 *after,
    GstClockTime not_before, guint64 first[2], gint64 *delta)
{
  const RtsRtpTrack *v = f->streams[0].track;
  guint64 cur = rts_rtp_track_at_or_before (v, now - f->t0);
  guint64 key = rts_rtp_track_key_at_or_before (v, cur);
  GstClockTime at = rts_rtp_track_due (v, cur);
  GstClockTime key_at;

  if (after)
    key = MAX (key, rts_rtp_track_key_at_or_after (v, *after));
  if (not_before > at)
    at = rts_rtp_track_due (v, rts_rtp_track_at_or_after (v, not_before));
  key_at = rts_rtp_track_due (v, key);
  *delta = (gint64) at - (gint64) key_at;
  first[0] = key;
  if (f->n_streams > 1)
    first[1] = rts_rtp_track_at_or_after (f->streams[1].track, key_at);
}

/* Under F's lock: the start of a reader joining at NOW: the keyframe of
 * the GOP playing now. */
static void
join_point (RtsFeed *f, GstClockTime now, guint64 first[2], gint64 *delta)
{
  start_at (f, now, NULL, 0, first, delta);
}

static void
plan_reader (Reader *rd, guint64 first, gint64 delta, GstRTSPClient *client)
{
  rd->next = first;
  rd->delta = delta;
  rd->resync = FALSE;
  rd->full = FALSE;
  rd->plan++;
  rd->next_sr = 0;
  rd->packets = rd->octets = 0;
  g_weak_ref_set (&rd->client, client);
}

static guint16
seq_of (const Stream *st, guint64 g)
{
  return (guint16) (st->seq_base + g);
}

/* Under F's lock: the reader of TR, planned now if its PLAY was not seen
 * (it then starts as any joining reader). */
static Reader *
reader_of (RtsFeed *f, guint index, GstRTSPStreamTransport *tr,
    GstClockTime now)
{
  Reader *rd = g_object_get_qdata (G_OBJECT (tr), reader_quark);
  guint64 first[2];
  gint64 delta;

  if (rd)
    return rd;
  rd = reader_new ();
  join_point (f, now, first, &delta);
  plan_reader (rd, first[index], delta, NULL);
  g_object_set_qdata_full (G_OBJECT (tr), reader_quark, rd, reader_free);
  return rd;
}

/* Which of F's streams TR reads: 0 video, 1 audio; F->n_streams for
 * neither. */
static guint
stream_index (const RtsFeed *f, GstRTSPStreamTransport *tr)
{
  GstRTSPStream *stream = gst_rtsp_stream_transport_get_stream (tr);
  guint index = 0;

  while (index < f->n_streams && f->streams[index].stream != stream)
    index++;
  return index;
}

/* The RTP timestamp ST's stream has at presentation time PTS of the
 * camera's timeline, for a reader whose timeline is shifted by DELTA (see
 * Reader): rounded as a packet's is, so that a packet at PTS has it. */
static guint32
ts_at (const Stream *st, GstClockTime pts, gint64 delta)
{
  return st->ts_base + rts_rtp_track_ticks_at (st->track, pts)
      + (guint32) rts_rtp_track_ticks_in (st->track, delta);
}

void
rts_feed_plan_play (RtsFeed *f, GstRTSPClient *client,
    GstRTSPSessionMedia *sessmedia, GstRTSPMessage *response)
{
  g_autoptr (GPtrArray) trs = gst_rtsp_session_media_get_transports (sessmedia);
  GString *info = g_string_new (NULL);
  GstClockTime now = now_ns ();
  guint64 first[2];
  gint64 delta, start_delta;
  GstClockTime start;
  struct {
    GstRTSPStreamTransport *tr;
    guint index;
    Reader *rd;
  } planned[2];
  guint n = 0;

  g_mutex_lock (&f->lock);
  /* A second PLAY of a session (after a PAUSE, or while playing): its
   * readers go on from the first keyframe none of them has been sent
   * (video, or audio alone), never back to the start of the GOP playing:
   * their sequence numbers would go backwards on the same SSRC, packets
   * they had sent again (seen: -85 after PAUSE and PLAY; -14 for a
   * session of audio alone, whose place was not looked at); and no
   * earlier than each one's next packet was due, so that no timestamp
   * repeats or goes back (seen: a PLAY while playing gave the keyframe
   * the timestamp of the frame just sent). */
  {
    guint64 after = 0;
    GstClockTime not_before = 0;
    gboolean again = FALSE;
    for (guint i = 0; i < trs->len; i++) {
      GstRTSPStreamTransport *tr = g_ptr_array_index (trs, i);
      Reader *rd = tr ? g_object_get_qdata (G_OBJECT (tr), reader_quark) : NULL;
      const RtsRtpTrack *t;
      GstClockTime next_at;
      guint index;
      if (!rd || !rd->placed)
        continue;
      index = stream_index (f, tr);
      if (index == f->n_streams)
        continue;
      t = f->streams[index].track;
      next_at = rts_rtp_track_due (t, rd->next);
      /* The video's own place; the audio's as the video frame from its
       * time on. */
      after = MAX (after,
          index == 0
              ? rd->next
              : rts_rtp_track_at_or_after (f->streams[0].track, next_at));
      if ((gint64) next_at + rd->delta > 0)
        not_before =
            MAX (not_before, (GstClockTime) ((gint64) next_at + rd->delta));
      again = TRUE;
    }
    start_at (f, now, again ? &after : NULL, not_before, first, &delta);
  }
  /* Where the stream starts: its keyframe. */
  start = rts_rtp_track_pts (f->streams[0].track, first[0]);
  start_delta = delta;
  for (guint i = 0; i < trs->len && n < G_N_ELEMENTS (planned); i++) {
    GstRTSPStreamTransport *tr = g_ptr_array_index (trs, i);
    const GstRTSPTransport *tt;
    guint index;
    Reader *rd;

    if (!tr)
      continue;
    index = stream_index (f, tr);
    if (index == f->n_streams)
      continue;
    tt = gst_rtsp_stream_transport_get_transport (tr);
    if (tt->lower_transport == GST_RTSP_LOWER_TRANS_UDP_MCAST) {
      /* One group for every multicast reader: the first one starts it as
       * any reader starts; later ones join what it sends. */
      Stream *st = &f->streams[index];
      rd = &st->group;
      if (!st->group_on) {
        plan_reader (rd, first[index], delta, NULL);
        st->group_on = TRUE;
      }
      st->group_seen = now;
      if (index == 0) {
        start = rts_rtp_track_pts (st->track, rd->next);
        start_delta = rd->delta;
      }
    } else {
      rd = g_object_get_qdata (G_OBJECT (tr), reader_quark);
      if (!rd) {
        rd = reader_new ();
        g_object_set_qdata_full (G_OBJECT (tr), reader_quark, rd, reader_free);
      }
      plan_reader (rd, first[index], delta, client);
      rd->placed = TRUE;
    }
    planned[n].tr = tr;
    planned[n].index = index;
    planned[n++].rd = rd;
  }
  /* RTP-Info: each stream's first sequence number, and its RTP timestamp
   * at one same instant, the keyframe's (RFC 2326, 12.33: the time of the
   * Range),
   * not at its own first packet: the audio's comes up to a packet later
   * than the keyframe, and a client that maps both streams onto one
   * timeline by these (ffmpeg does until its first sender reports) would
   * see the streams drift apart by that much, then jump back. */
  for (guint i = 0; i < n; i++) {
    const GstRTSPUrl *url = gst_rtsp_stream_transport_get_url (planned[i].tr);
    Stream *st = &f->streams[planned[i].index];
    g_autofree char *uri = NULL;
    g_autofree char *control = NULL;

    if (!url)
      continue;
    control = gst_rtsp_stream_get_control (st->stream);
    uri = gst_rtsp_url_get_request_uri_with_control (url, control);
    g_string_append_printf (info, "%surl=%s;seq=%u;rtptime=%u",
        info->len ? "," : "", uri, seq_of (st, planned[i].rd->next),
        ts_at (st, start, start_delta));
  }
  g_mutex_unlock (&f->lock);
  gst_rtsp_message_remove_header (response, GST_RTSP_HDR_RTP_INFO, -1);
  if (info->len)
    gst_rtsp_message_take_header (response, GST_RTSP_HDR_RTP_INFO,
        g_string_free (info, FALSE));
  else
    g_string_free (info, TRUE);
}

/* ------------------------------------------------------------------------ */
/* Sending */

static int
stream_fd (Stream *st, guint which)
{
  if (!st->sockets[which]) {
    GSocketFamily family = which == RTP_V6 || which == RTCP_V6
        ? G_SOCKET_FAMILY_IPV6
        : G_SOCKET_FAMILY_IPV4;
    switch (which) {
      case RTP_V4:
      case RTP_V6:
        st->sockets[which] =
            gst_rtsp_stream_get_rtp_socket (st->stream, family);
        break;
      case RTCP_V4:
      case RTCP_V6:
        st->sockets[which] =
            gst_rtsp_stream_get_rtcp_socket (st->stream, family);
        break;
      case MRTP:
        st->sockets[which] =
            gst_rtsp_stream_get_rtp_multicast_socket (st->stream, family);
        break;
      default:
        st->sockets[which] =
            gst_rtsp_stream_get_rtcp_multicast_socket (st->stream, family);
        break;
    }
  }
  return st->sockets[which] ? g_socket_get_fd (st->sockets[which]) : -1;
}

static gboolean
native_address (const char *host, guint port, struct sockaddr_storage *out,
    socklen_t *len, gboolean *v6)
{
  g_autoptr (GInetAddress) addr =
      host ? g_inet_address_new_from_string (host) : NULL;
  g_autoptr (GSocketAddress) sa = NULL;

  if (!addr)
    return FALSE;
  sa = g_inet_socket_address_new (addr, (guint16) port);
  *len = (socklen_t) g_socket_address_get_native_size (sa);
  *v6 = g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6;
  return g_socket_address_to_native (sa, out, sizeof *out, NULL);
}

static void
on_message_sent (GstRTSPStreamTransport *trans, gpointer data)
{
  /* Nothing: gst-rtsp-server's own handler wakes the stream's send
   * thread, which has nothing to send here, once per frame per reader. */
}

/* Sets RD up for what its transport TT now is: where UDP goes, and no
 * wake-up of gst-rtsp-server's send thread per TCP write (the stream
 * installs its handler each time it adds the transport, i.e. at a PLAY). */
static void
arm (Reader *rd, GstRTSPStreamTransport *tr, const GstRTSPTransport *tt)
{
  rd->armed = rd->plan;
  if (tt->lower_transport == GST_RTSP_LOWER_TRANS_TCP) {
    gst_rtsp_stream_transport_set_message_sent_full (tr, on_message_sent, NULL,
        NULL);
    return;
  }
  {
    gboolean mcast = tt->lower_transport == GST_RTSP_LOWER_TRANS_UDP_MCAST;
    guint rtp = mcast ? tt->port.min : tt->client_port.min;
    guint rtcp = mcast ? tt->port.max : tt->client_port.max;
    socklen_t len;
    if (!native_address (tt->destination, rtp, &rd->rtp_to, &rd->to_len,
            &rd->v6)
        || !native_address (tt->destination, rtcp, &rd->rtcp_to, &len, &rd->v6))
      rd->to_len = 0;
  }
}

static GstBuffer *
make_packet (const Stream *st, guint64 g, guint32 ts_shift)
{
  const RtsRtpPacket *p = rts_rtp_track_packet (st->track, g);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, p->size, NULL);
  GstMapInfo map;
  guint16 seq = seq_of (st, g);
  guint32 ts = st->ts_base + rts_rtp_track_ticks (st->track, g) + ts_shift;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memcpy (map.data, p->data, p->size);
  GST_WRITE_UINT16_BE (map.data + 2, seq);
  GST_WRITE_UINT32_BE (map.data + 4, ts);
  GST_WRITE_UINT32_BE (map.data + 8, st->ssrc);
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* Under F's lock: CLIENT's write just failed. gst-rtsp-server 1.22 answers
 * a failed write (the peer gone, the backlog full) by closing the client
 * from an idle source in the client's own context that holds no reference
 * to it (rtsp-client.c, do_send_data_list): a client finalized before that
 * source ran was then closed after it was freed, and the heap corrupted
 * (seen under churn: a reader reset while its frame was being written).
 * Such a client is kept alive here long after that source ran. */
static void
hold (RtsFeed *f, GstRTSPClient *client, GstClockTime now)
{
  Held h = { g_object_ref (client), now + HOLD };
  g_array_append_val (f->held, h);
}

/* Under F's lock: the clients held long enough, let go of in LATER. */
static void
release_held (RtsFeed *f, GstClockTime now, GPtrArray *later)
{
  guint n = 0;

  while (n < f->held->len && g_array_index (f->held, Held, n).until <= now)
    g_ptr_array_add (later, g_array_index (f->held, Held, n++).client);
  if (n)
    g_array_remove_range (f->held, 0, n);
}

/* The packets FIRST.. (N of them) to a TCP reader, in one write through
 * CLIENT's connection; FALSE when it took none (its connection is full). */
static gboolean
send_tcp (Stream *st, Reader *rd, GstRTSPStreamTransport *tr, guint64 first,
    guint n)
{
  guint32 shift = (guint32) rts_rtp_track_ticks_in (st->track, rd->delta);
  GstBufferList *list = gst_buffer_list_new_sized (n);
  gboolean ok;

  for (guint i = 0; i < n; i++)
    gst_buffer_list_add (list, make_packet (st, first + i, shift));
  ok = gst_rtsp_stream_transport_send_rtp_list (tr, list);
  gst_buffer_list_unref (list);
  return ok;
}

/* The same to a UDP reader or group, in one system call; FALSE when some
 * were refused (the socket's buffer is full). */
static gboolean
send_udp (Stream *st, Reader *rd, guint64 first, guint n, gboolean group)
{
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH][2];
  guint8 hdr[BATCH][12];
  guint32 shift = (guint32) rts_rtp_track_ticks_in (st->track, rd->delta);
  int fd = stream_fd (st, group ? MRTP : rd->v6 ? RTP_V6 : RTP_V4);
  int sent;

  if (fd < 0 || rd->to_len == 0)
    return FALSE;
  memset (msgs, 0, sizeof (struct mmsghdr) * n);
  for (guint i = 0; i < n; i++) {
    guint64 g = first + i;
    const RtsRtpPacket *p = rts_rtp_track_packet (st->track, g);
    memcpy (hdr[i], p->data, 12);
    GST_WRITE_UINT16_BE (hdr[i] + 2, seq_of (st, g));
    GST_WRITE_UINT32_BE (hdr[i] + 4,
        st->ts_base + rts_rtp_track_ticks (st->track, g) + shift);
    GST_WRITE_UINT32_BE (hdr[i] + 8, st->ssrc);
    iov[i][0].iov_base = hdr[i];
    iov[i][0].iov_len = 12;
    iov[i][1].iov_base = (void *) (p->data + 12);
    iov[i][1].iov_len = p->size - 12;
    msgs[i].msg_hdr.msg_name = &rd->rtp_to;
    msgs[i].msg_hdr.msg_namelen = rd->to_len;
    msgs[i].msg_hdr.msg_iov = iov[i];
    msgs[i].msg_hdr.msg_iovlen = 2;
  }
  /* Never waits: a full buffer loses packets, as UDP does, and the sender
   * goes on to the next reader. (GSocket would poll until there is room,
   * stalling every camera.) */
  do
    sent = sendmmsg (fd, msgs, n, MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  return sent == (int) n;
}

/* A sender report and the CNAME that ties a camera's streams together. Its
 * timestamp is the one every reader's stream has now (see Reader): "now"
 * read off both clocks together, not the tick's NOW, which is as old as
 * the sends to every reader before this one (milliseconds under load,
 * and a reader maps the two streams of a camera onto each other by
 * these reports). */
static void
send_report (RtsFeed *f, Stream *st, Reader *rd, GstRTSPStreamTransport *tr,
    gboolean group, GstClockTime now, GPtrArray *later)
{
  GstBuffer *buf = gst_rtcp_buffer_new (1500);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  struct timespec mono, real;
  GstClockTime at, exact;
  guint64 ticks, ntp;
  guint32 ts;

  clock_gettime (CLOCK_MONOTONIC, &mono); /* g_get_monotonic_time's clock */
  clock_gettime (CLOCK_REALTIME, &real);
  at = GST_TIMESPEC_TO_TIME (mono);
  /* The NTP time of the instant the RTP timestamp names, not of AT: the
   * two agree to the nanosecond, whatever the clock rate. Rounded to a
   * tick, AT would be up to half a tick off (62 us at 8 kHz), and every
   * report would shift the reader's mapping of the stream a little. */
  ticks = gst_util_uint64_scale (at - f->t0, st->track->clock_rate, GST_SECOND);
  exact =
      f->t0 + gst_util_uint64_scale (ticks, GST_SECOND, st->track->clock_rate);
  ts = st->ts_base + (guint32) ticks;
  ntp = gst_rtcp_unix_to_ntp (GST_TIMESPEC_TO_TIME (real) - (at - exact));

  rd->next_sr = now + SR_INTERVAL;
  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SR, &packet);
  gst_rtcp_packet_sr_set_sender_info (&packet, st->ssrc, ntp, ts, rd->packets,
      rd->octets);
  gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SDES, &packet);
  gst_rtcp_packet_sdes_add_item (&packet, st->ssrc);
  gst_rtcp_packet_sdes_add_entry (&packet, GST_RTCP_SDES_CNAME,
      (guint8) MIN (strlen (f->cname), 255), (const guint8 *) f->cname);
  gst_rtcp_buffer_unmap (&rtcp);
  if (tr) {
    GstRTSPClient *client = g_weak_ref_get (&rd->client);
    if (client) {
      if (!gst_rtsp_stream_transport_send_rtcp (tr, buf))
        hold (f, client, now);
      g_ptr_array_add (later, client);
    }
  } else {
    int fd = stream_fd (st, group ? MRTCP : rd->v6 ? RTCP_V6 : RTCP_V4);
    GstMapInfo map;
    if (fd >= 0 && rd->to_len && gst_buffer_map (buf, &map, GST_MAP_READ)) {
      sendto (fd, map.data, map.size, MSG_DONTWAIT,
          (struct sockaddr *) &rd->rtcp_to, rd->to_len);
      gst_buffer_unmap (buf, &map);
    }
  }
  gst_buffer_unref (buf);
}

static GstClockTime
reader_due (const RtsFeed *f, const Stream *st, const Reader *rd)
{
  gint64 due = (gint64) f->t0 + (gint64) rts_rtp_track_due (st->track, rd->next)
      + rd->delta;

  return due > 0 ? (GstClockTime) due : 0;
}

/* Under F's lock: RD goes on from the next keyframe, due at once (on the
 * camera's frame grid for video). Its sequence numbers jump ahead (the
 * packets it missed) and its timestamps keep following the wall clock. */
static void
resync (RtsFeed *f, Stream *st, Reader *rd, gboolean video, GstClockTime now)
{
  const RtsRtpTrack *t = st->track;
  GstClockTime pos = now - f->t0;
  guint64 g = video ? rts_rtp_track_key_at_or_after (t, rd->next) : rd->next;
  GstClockTime at =
      video ? rts_rtp_track_due (t, rts_rtp_track_at_or_before (t, pos)) : pos;

  rd->next = g;
  rd->delta = (gint64) at - (gint64) rts_rtp_track_due (t, g);
  rd->resync = FALSE;
  count (&f->resyncs, 1);
}

/* Under F's lock: resync(), counting what a reader whose connection was
 * FULL skips of the video, in frames (a full connection's cost); returns
 * when its next packet is due. */
static GstClockTime
skip_ahead (RtsFeed *f, Stream *st, Reader *rd, gboolean video, gboolean full,
    GstClockTime now)
{
  GstClockTime was = reader_due (f, st, rd), due;

  resync (f, st, rd, video, now);
  due = reader_due (f, st, rd);
  if (full && video && due > was)
    count (&f->frames_dropped,
        gst_util_uint64_scale (due - was, st->track->frames,
            st->track->length));
  return due;
}

/* Under F's lock: what is due to RD (the transport TR, NULL for the group),
 * sent; returns when its next packet is due. */
static GstClockTime
serve (RtsFeed *f, guint index, Reader *rd, GstRTSPStreamTransport *tr,
    const GstRTSPTransport *tt, GstClockTime now, GPtrArray *later)
{
  Stream *st = &f->streams[index];
  gboolean group = tr == NULL;
  gboolean tcp = !group && tt->lower_transport == GST_RTSP_LOWER_TRANS_TCP;
  GstRTSPClient *client = NULL;
  gboolean can_send = !f->stalled;
  GstClockTime due;
  guint64 first;
  guint n = 0;
  gboolean finish;

  if (!group && rd->armed != rd->plan)
    arm (rd, tr, tt);
  if (tcp) {
    /* gst-rtsp-server holds no reference to the client a transport writes
     * to: ours keeps it alive while we write. None: the client is gone
     * (reset under churn), and the transport with it soon; or its PLAY's
     * answer is not out yet (the transport joins the stream just before),
     * and rts_feed_plan_play() places it in a moment. */
    client = g_weak_ref_get (&rd->client);
    if (client)
      g_ptr_array_add (later, client); /* let go outside the feed's lock */
    can_send = can_send && client;
  } else if (rd->to_len == 0 || (!group && !rd->placed)) {
    /* A UDP reader waits for its PLAY's plan as a TCP one does (above):
     * sent its stream from where the sender first saw it, it then got
     * the planned start's packets after those, a jump back (seen once
     * under the sanitizer, a reader of the RTSP storm test). */
    can_send = FALSE;
  }
  due = reader_due (f, st, rd);
  if (due + MAX_BEHIND < now)
    rd->resync = TRUE;
  /* A frame a full reader was sent the start of goes out whole before
   * the skip: its packets go 64 at a time, and a reader full in the
   * middle of a large frame (over 88 KB) went on from the next keyframe
   * without the rest (ffmpeg: "corrupt decoded frame"). They are due
   * already. */
  finish = rd->resync && can_send && index == 0 && rd->full && rd->in_frame
      && rd->next == rd->sent_to;
  if (rd->resync && can_send && !finish)
    due = skip_ahead (f, st, rd, index == 0, rd->full, now);
  first = rd->next;
  while (due <= now + SLACK) {
    rd->next++;
    if (!can_send) {
      /* Nothing goes out (the stall fault); afterwards a keyframe first. */
      rd->resync = rd->resync || f->stalled;
      first = rd->next;
      due = reader_due (f, st, rd);
      continue;
    }
    n++;
    due = reader_due (f, st, rd);
    gboolean frame_end =
        finish && rts_rtp_track_packet (st->track, rd->next - 1)->marker;
    if (n == BATCH || due > now + SLACK || frame_end) {
      gboolean ok = tcp ? send_tcp (st, rd, tr, first, n)
                        : send_udp (st, rd, first, n, group);
      if (ok) {
        rd->packets += n;
        for (guint i = 0; i < n; i++)
          rd->octets += rts_rtp_track_packet (st->track, first + i)->size - 12;
        rd->full = FALSE;
        rd->sent_to = rd->next;
        rd->in_frame = !rts_rtp_track_packet (st->track, rd->next - 1)->marker;
        if (frame_end) {
          /* The frame is whole: now the skip. */
          finish = FALSE;
          due = skip_ahead (f, st, rd, TRUE, TRUE, now);
        }
      } else if (tcp) {
        /* Refused again and again while it stays full: held anew often
         * enough that every refusal is covered for most of HOLD. */
        if (!rd->full || now >= rd->held_at + HOLD / 4) {
          hold (f, client, now);
          rd->held_at = now;
        }
        /* Its connection is full (gst-rtsp-server still holds an earlier
         * write, or the socket is): it waits, losing nothing, its place
         * kept at the refused packets, tried again in a moment; a reader
         * that stalled for a few hundred milliseconds (a busy machine)
         * then catches up. Full for over MAX_BEHIND, it goes on from the
         * first keyframe after that place (above): its sequence numbers
         * jump by less than a GOP. */
        if (!rd->full)
          count (&f->waits, 1);
        rd->next = first;
        rd->full = TRUE;
        return now + RETRY;
      }
      first = rd->next;
      n = 0;
    }
  }
  /* After its first packets, not before: a report on a stream the reader
   * has not seen yet tells it nothing. */
  if (can_send && rd->packets && now >= rd->next_sr)
    send_report (f, st, rd, tcp ? tr : NULL, group, now, later);
  return due;
}

/* Under F's lock: the camera's own timeline up to NOW, counted (but
 * during a stall); returns when its next video packet is due, and in LATE
 * how far behind it the sender found it, if over MAX_BEHIND (else 0). */
static GstClockTime
advance_head (RtsFeed *f, GstClockTime now, GstClockTime *late)
{
  Stream *st = &f->streams[0];
  const RtsRtpTrack *t = st->track;
  GstClockTime pos = now + SLACK - f->t0;

  *late = 0;
  /* A frozen process: what fell due meanwhile never went anywhere. */
  if (rts_rtp_track_due (t, st->head) + MAX_BEHIND < pos) {
    *late = pos - rts_rtp_track_due (t, st->head);
    st->head = rts_rtp_track_at_or_after (t, pos - MAX_BEHIND);
  }
  while (rts_rtp_track_due (t, st->head) <= pos) {
    const RtsRtpPacket *p = rts_rtp_track_packet (t, st->head);
    if (!f->stalled) {
      count (&f->packets, 1);
      count (&f->bytes, p->size);
      count (&f->frames, p->marker);
    }
    st->head++;
  }
  return f->t0 + rts_rtp_track_due (t, st->head);
}

/* Everything of F that is due at NOW; returns when something is next. */
static GstClockTime
feed_tick (RtsFeed *f, GstClockTime now)
{
  g_autoptr (GPtrArray) later = g_ptr_array_new_with_free_func (g_object_unref);
  GstClockTime head, late, next = G_MAXUINT64;
  gboolean readers = FALSE;

  g_mutex_lock (&f->lock);
  if (f->removed) {
    g_mutex_unlock (&f->lock);
    return G_MAXUINT64;
  }
  head = advance_head (f, now, &late);
  release_held (f, now, later);
  for (guint i = 0; i < f->n_streams; i++) {
    Stream *st = &f->streams[i];
    GList *trs = gst_rtsp_stream_transport_filter (st->stream, NULL, NULL);
    GstRTSPStreamTransport *mcast = NULL;
    const GstRTSPTransport *mcast_tt = NULL;

    for (GList *l = trs; l; l = l->next) {
      GstRTSPStreamTransport *tr = l->data;
      const GstRTSPTransport *tt;

      g_ptr_array_add (later, tr);
      if (tr == st->house)
        continue;
      tt = gst_rtsp_stream_transport_get_transport (tr);
      readers = TRUE;
      if (tt->lower_transport == GST_RTSP_LOWER_TRANS_UDP_MCAST) {
        /* Served once below, for all of them. */
        if (!mcast) {
          mcast = tr;
          mcast_tt = tt;
        }
        continue;
      }
      next = MIN (next,
          serve (f, i, reader_of (f, i, tr, now), tr, tt, now, later));
    }
    if (mcast) {
      /* The group starts here when its first transport joined the stream
       * before its PLAY answer planned it (rts_feed_plan_play); armed
       * after it is planned, whoever planned it. (Once marked armed
       * without being so, a first group sent nothing while it lasted: a
       * multicast reader got no packet at all, seen once in the suite.) */
      if (!st->group_on) {
        guint64 first[2];
        gint64 delta;
        join_point (f, now, first, &delta);
        plan_reader (&st->group, first[i], delta, NULL);
        st->group_on = TRUE;
      }
      if (st->group.armed != st->group.plan)
        arm (&st->group, mcast, mcast_tt);
      st->group_seen = now;
    }
    g_list_free (trs);
    if (!mcast && st->group_on && now > st->group_seen + GROUP_GRACE)
      st->group_on = FALSE;
    /* Armed once a multicast transport was seen, not just planned. */
    if (st->group_on && st->group.armed == st->group.plan)
      next = MIN (next, serve (f, i, &st->group, NULL, NULL, now, later));
  }
  g_mutex_unlock (&f->lock);
  /* Whatever a reader loses for it is the machine's doing, not the
   * reader's: said where an operator (or a test's post-mortem) looks. */
  if (late)
    rts_warn ("camera %s: frames were due %.1f s ago: the process did not "
              "run (stopped or starved of CPU); its readers go on from a "
              "keyframe",
        f->cname, (double) late / GST_SECOND);
  /* Nobody reading: the counters need no more than a few looks a second. */
  if (!readers)
    return MAX (head, (now / IDLE_TICK + 1) * IDLE_TICK);
  return MIN (next, head);
}

static gpointer
sender_thread (gpointer data)
{
  g_autoptr (GPtrArray) due = g_ptr_array_new ();

  g_mutex_lock (&S.lock);
  while (!S.quit) {
    GstClockTime now = now_ns ();
    GstClockTime earliest = G_MAXUINT64;

    g_ptr_array_set_size (due, 0);
    for (guint i = 0; i < S.feeds->len; i++) {
      RtsFeed *f = g_ptr_array_index (S.feeds, i);
      if (f->kicked || f->next_due <= now + SLACK) {
        f->kicked = FALSE;
        g_ptr_array_add (due, feed_ref (f));
      } else {
        earliest = MIN (earliest, f->next_due);
      }
    }
    S.wake = FALSE;
    g_mutex_unlock (&S.lock);
    for (guint i = 0; i < due->len; i++) {
      RtsFeed *f = g_ptr_array_index (due, i);
      f->next_due = feed_tick (f, now);
    }
    g_mutex_lock (&S.lock);
    for (guint i = 0; i < due->len; i++) {
      RtsFeed *f = g_ptr_array_index (due, i);
      earliest = MIN (earliest, f->kicked ? 0 : f->next_due);
      feed_unref (f);
    }
    if (S.wake || S.quit)
      continue;
    if (earliest == G_MAXUINT64)
      g_cond_wait (&S.cond, &S.lock);
    else if (earliest > now_ns ())
      g_cond_wait_until (&S.cond, &S.lock, (gint64) (earliest / GST_USECOND));
  }
  g_mutex_unlock (&S.lock);
  return NULL;
}

/* ------------------------------------------------------------------------ */

RtsFeed *
rts_feed_new (const RtsFeedSetup *setup)
{
  RtsFeed *f = g_new0 (RtsFeed, 1);
  GstClockTime now = now_ns ();

  if (!reader_quark)
    reader_quark = g_quark_from_static_string ("rts-feed-reader");
  f->ref = 1;
  g_mutex_init (&f->lock);
  f->held = g_array_new (FALSE, FALSE, sizeof (Held));
  f->cname = g_strdup (setup->cname);
  f->clip = rts_rtp_clip_ref (setup->clip);
  /* On a whole second: cameras' frame grids line up, and one wake-up
   * serves them all. */
  f->t0 = now / GST_SECOND * GST_SECOND;
  for (guint i = 0; i < 2 && setup->streams[i]; i++) {
    Stream *st = &f->streams[i];
    st->stream = g_object_ref (setup->streams[i]);
    st->track = rts_rtp_clip_track (f->clip, i);
    st->ssrc = setup->ssrc[i];
    st->house = setup->house[i];
    st->seq_base = (guint16) g_random_int ();
    st->ts_base = g_random_int ();
    f->n_streams++;
  }
  /* The frame playing now counts at once: the camera has data from the
   * start. */
  {
    const RtsRtpTrack *v = f->streams[0].track;
    GstClockTime at =
        rts_rtp_track_due (v, rts_rtp_track_at_or_before (v, now - f->t0));
    f->streams[0].head = rts_rtp_track_at_or_after (v, at);
  }

  g_mutex_lock (&S.lock);
  if (!S.feeds)
    S.feeds = g_ptr_array_new_with_free_func (feed_unref);
  g_ptr_array_add (S.feeds, feed_ref (f));
  f->kicked = TRUE;
  S.wake = TRUE;
  if (!S.thread)
    S.thread = g_thread_new ("rts-sender", sender_thread, NULL);
  g_cond_signal (&S.cond);
  g_mutex_unlock (&S.lock);
  return f;
}

void
rts_feed_free (RtsFeed *f)
{
  GThread *stop = NULL;

  if (!f)
    return;
  g_mutex_lock (&S.lock);
  g_ptr_array_remove (S.feeds, f);
  if (S.feeds->len == 0) {
    stop = S.thread;
    S.thread = NULL;
    S.quit = TRUE;
    g_cond_signal (&S.cond);
  }
  g_mutex_unlock (&S.lock);
  /* A tick in progress holds the lock; any later one sees REMOVED. */
  g_mutex_lock (&f->lock);
  f->removed = TRUE;
  for (guint i = 0; i < f->n_streams; i++) {
    Stream *st = &f->streams[i];
    for (guint k = 0; k < N_SOCKETS; k++)
      g_clear_object (&st->sockets[k]);
    g_clear_object (&st->stream);
  }
  g_mutex_unlock (&f->lock);
  if (stop) {
    g_thread_join (stop);
    g_mutex_lock (&S.lock);
    S.quit = FALSE;
    g_mutex_unlock (&S.lock);
  }
  feed_unref (f);
}

void
rts_feed_set_stalled (RtsFeed *f, gboolean stalled)
{
  g_mutex_lock (&f->lock);
  f->stalled = stalled;
  g_mutex_unlock (&f->lock);
}

void
rts_feed_sync (RtsFeed *f)
{
  g_mutex_lock (&f->lock);
  g_mutex_unlock (&f->lock);
}

void
rts_feed_kick (RtsFeed *f)
{
  g_mutex_lock (&S.lock);
  f->kicked = TRUE;
  S.wake = TRUE;
  g_cond_signal (&S.cond);
  g_mutex_unlock (&S.lock);
}

void
rts_feed_counters (RtsFeed *f, RtsFeedCounters *c)
{
  c->packets = __atomic_load_n (&f->packets, __ATOMIC_RELAXED);
  c->frames = __atomic_load_n (&f->frames, __ATOMIC_RELAXED);
  c->bytes = __atomic_load_n (&f->bytes, __ATOMIC_RELAXED);
  c->waits = __atomic_load_n (&f->waits, __ATOMIC_RELAXED);
  c->frames_dropped = __atomic_load_n (&f->frames_dropped, __ATOMIC_RELAXED);
  c->resyncs = __atomic_load_n (&f->resyncs, __ATOMIC_RELAXED);
  c->start_us = (gint64) (f->t0 / GST_USECOND);
}

/* ------------------------------------------------------------------------ */
/* The media's source: what gst-rtsp-server takes for a payloader */

/* An appsrc that answers what gst-rtsp-server asks a payloader ("pt",
 * "mtu"). The caller pushes one packet through it, so that the media
 * prepares (gst-rtsp-server waits for a packet on every stream); the feed
 * sends everything else itself. */
typedef struct {
  GstAppSrc parent;
  guint pt, mtu;
} RtsFeedSrc;

typedef struct {
  GstAppSrcClass parent_class;
} RtsFeedSrcClass;

static GType rts_feed_src_get_type (void);
G_DEFINE_TYPE (RtsFeedSrc, rts_feed_src, GST_TYPE_APP_SRC)

enum { PROP_0, PROP_PT, PROP_MTU, PROP_SEQNUM, PROP_TIMESTAMP };

static void
rts_feed_src_set_property (GObject *object, guint id, const GValue *value,
    GParamSpec *pspec)
{
  RtsFeedSrc *src = (RtsFeedSrc *) object;

  if (id == PROP_PT)
    src->pt = g_value_get_uint (value);
  else if (id == PROP_MTU)
    src->mtu = g_value_get_uint (value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
rts_feed_src_get_property (GObject *object, guint id, GValue *value,
    GParamSpec *pspec)
{
  RtsFeedSrc *src = (RtsFeedSrc *) object;

  if (id == PROP_PT)
    g_value_set_uint (value, src->pt);
  else if (id == PROP_MTU)
    g_value_set_uint (value, src->mtu);
  else if (id == PROP_SEQNUM || id == PROP_TIMESTAMP)
    g_value_set_uint (value, 0);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
rts_feed_src_class_init (RtsFeedSrcClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = rts_feed_src_set_property;
  object_class->get_property = rts_feed_src_get_property;
  g_object_class_install_property (object_class, PROP_PT,
      g_param_spec_uint ("pt", "Payload type", "The stream's payload type", 0,
          127, 96, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_MTU,
      g_param_spec_uint ("mtu", "MTU", "Largest packet (made at start-up)", 28,
          G_MAXUINT, 1400, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /* What gst-rtsp-server makes RTP-Info from when no packet reached a sink
   * (none does here): an answer is needed, or PLAY gets 500; the feed
   * writes the real one (rts_feed_plan_play). */
  g_object_class_install_property (object_class, PROP_SEQNUM,
      g_param_spec_uint ("seqnum", "Sequence number", "Unused: 0", 0,
          G_MAXUINT16, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_TIMESTAMP,
      g_param_spec_uint ("timestamp", "Timestamp", "Unused: 0", 0, G_MAXUINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "Loop camera feed", "Source/Network/RTP",
      "Stands in for a loop camera's payloader; rtsp-test-server's sender "
      "sends its packets",
      "rtsp-test-server");
}

static void
rts_feed_src_init (RtsFeedSrc *src)
{
  src->pt = 96;
  src->mtu = 1400;
  g_object_set (src, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp",
      TRUE, NULL);
}

void
rts_feed_src_register (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    gst_element_register (NULL, RTS_FEED_SRC, GST_RANK_NONE,
        rts_feed_src_get_type ());
    g_once_init_leave (&done, 1);
  }
}
