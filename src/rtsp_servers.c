/* rtsp_servers: see rtsp_servers.h. */
#include "rtsp_servers.h"

#include "clip.h"
#include "fd_limit.h"
#include "http_route.h"
#include "log.h"
#include "rtp_clip.h"
#include "rtsp_wire.h"
#include "sender.h"
#include "stills.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtcpbuffer.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/rtsp-server/rtsp-server.h>

/* How a camera's clients reach it. Their handlers run on the camera's
 * gst-rtsp-server client thread, and a client can outlive the camera:
 * shutdown waits for readers, not for every connection, and a request
 * read before the sockets were shut is still handled. Each handler enters
 * the gate; the camera, going, closes it, waiting for those inside (their
 * held answers are released first), and later ones find it gone. */
typedef struct {
  gint ref;
  GMutex lock;
  GCond left;
  guint inside;
  RtsRtspServer *srv; /* NULL once the camera is going */
} Gate;

static Gate *
gate_new (RtsRtspServer *srv)
{
  Gate *g = g_new0 (Gate, 1);

  g->ref = 1;
  g_mutex_init (&g->lock);
  g_cond_init (&g->left);
  g->srv = srv;
  return g;
}

static Gate *
gate_ref (Gate *g)
{
  g_atomic_int_inc (&g->ref);
  return g;
}

static void
gate_unref (gpointer data)
{
  Gate *g = data;

  if (!g_atomic_int_dec_and_test (&g->ref))
    return;
  g_mutex_clear (&g->lock);
  g_cond_clear (&g->left);
  g_free (g);
}

static void
gate_unref_closure (gpointer data, GClosure *closure)
{
  gate_unref (data);
}

/* The camera, until gate_leave(); NULL once it is going. */
static RtsRtspServer *
gate_enter (Gate *g)
{
  RtsRtspServer *srv;

  g_mutex_lock (&g->lock);
  srv = g->srv;
  if (srv)
    g->inside++;
  g_mutex_unlock (&g->lock);
  return srv;
}

static void
gate_leave (Gate *g)
{
  g_mutex_lock (&g->lock);
  if (--g->inside == 0)
    g_cond_broadcast (&g->left);
  g_mutex_unlock (&g->lock);
}

static void
gate_close (Gate *g)
{
  g_mutex_lock (&g->lock);
  g->srv = NULL;
  while (g->inside)
    g_cond_wait (&g->left, &g->lock);
  g_mutex_unlock (&g->lock);
}

/* One media per camera, whatever URL a reader used: the stock key includes
 * the host, so "localhost" and "127.0.0.1" readers would each start an
 * encoder of their own. */
typedef struct {
  GstRTSPMediaFactory parent;
} RtsFactory;

typedef struct {
  GstRTSPMediaFactoryClass parent_class;
} RtsFactoryClass;

static GType rts_factory_get_type (void);
G_DEFINE_TYPE (RtsFactory, rts_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

static char *
rts_factory_gen_key (GstRTSPMediaFactory *factory, const GstRTSPUrl *url)
{
  return g_strdup ("camera");
}

static void
rts_factory_class_init (RtsFactoryClass *klass)
{
  GST_RTSP_MEDIA_FACTORY_CLASS (klass)->gen_key = rts_factory_gen_key;
}

static void
rts_factory_init (RtsFactory *factory)
{
}

/* What a browser or curl gets from an RTSP port. gst-rtsp-server takes any
 * HTTP GET for the start of an RTSP-over-HTTP tunnel; one that is not (no
 * x-sessioncookie) it answers 503 "Connection: close" with no body and no
 * Content-Length, and keeps the connection: curl waited for the body until
 * the idle timeout. The answer here says what the port is, and its length
 * ends it. Real tunnels (200) are left as they are. */
typedef struct {
  GstRTSPClient parent;
} RtsClient;

typedef struct {
  GstRTSPClientClass parent_class;
} RtsClientClass;

static GType rts_client_get_type (void);
G_DEFINE_TYPE (RtsClient, rts_client, GST_TYPE_RTSP_CLIENT)

#define GATE_KEY "rts-gate"

static void
tunnel_http_response (const RtsCamera *cam, GstRTSPMessage *request,
    GstRTSPMessage *response)
{
  GstRTSPStatusCode code;
  char *host = NULL;
  char *text;

  if (gst_rtsp_message_parse_response (response, &code, NULL, NULL)
          != GST_RTSP_OK
      || code == GST_RTSP_STS_OK)
    return;
  /* The address the client used, as it used it. */
  gst_rtsp_message_get_header (request, GST_RTSP_HDR_HOST, &host, 0);
  text = g_strdup_printf (
      "This is camera %s's RTSP port, not a web page: play\n"
      "  rtsp://%s%s\n"
      "in an RTSP client (ffplay, VLC, gst-launch-1.0 rtspsrc). The HTTP "
      "API\n(/, /health, /rtsp-urls) is on the server's HTTP port.\n",
      cam->name, host && *host ? host : "HOST:PORT", cam->path);
  gst_rtsp_message_add_header (response, GST_RTSP_HDR_CONTENT_TYPE,
      "text/plain; charset=utf-8");
  gst_rtsp_message_take_body (response, (guint8 *) text, strlen (text));
}

static void
rts_client_tunnel_http_response (GstRTSPClient *client, GstRTSPMessage *request,
    GstRTSPMessage *response)
{
  Gate *gate = g_object_get_data (G_OBJECT (client), GATE_KEY);
  RtsRtspServer *srv = gate ? gate_enter (gate) : NULL;

  if (!srv)
    return;
  tunnel_http_response (rts_rtsp_server_camera (srv), request, response);
  gate_leave (gate);
}

static void
rts_client_class_init (RtsClientClass *klass)
{
  GST_RTSP_CLIENT_CLASS (klass)->tunnel_http_response =
      rts_client_tunnel_http_response;
}

static void
rts_client_init (RtsClient *client)
{
}

/* A server whose clients are RtsClients, set up as the stock
 * create_client sets up its own. */
typedef struct {
  GstRTSPServer parent;
} RtsServer;

typedef struct {
  GstRTSPServerClass parent_class;
} RtsServerClass;

static GType rts_server_get_type (void);
G_DEFINE_TYPE (RtsServer, rts_server, GST_TYPE_RTSP_SERVER)

static GstRTSPClient *
rts_server_create_client (GstRTSPServer *server)
{
  GstRTSPClient *client = g_object_new (rts_client_get_type (), NULL);
  g_autoptr (GstRTSPSessionPool) pool =
      gst_rtsp_server_get_session_pool (server);
  g_autoptr (GstRTSPMountPoints) mounts =
      gst_rtsp_server_get_mount_points (server);
  g_autoptr (GstRTSPAuth) auth = gst_rtsp_server_get_auth (server);
  g_autoptr (GstRTSPThreadPool) threads =
      gst_rtsp_server_get_thread_pool (server);

  gst_rtsp_client_set_session_pool (client, pool);
  gst_rtsp_client_set_mount_points (client, mounts);
  gst_rtsp_client_set_content_length_limit (client,
      gst_rtsp_server_get_content_length_limit (server));
  gst_rtsp_client_set_auth (client, auth);
  gst_rtsp_client_set_thread_pool (client, threads);
  return client;
}

static void
rts_server_class_init (RtsServerClass *klass)
{
  GST_RTSP_SERVER_CLASS (klass)->create_client = rts_server_create_client;
}

static void
rts_server_init (RtsServer *server)
{
}

/* What begins a frame a live camera's joining reader can start on. */
typedef enum {
  JOIN_H264, /* an IDR picture's parameter sets */
  JOIN_H265,
  JOIN_JPEG, /* any frame: each is whole */
} JoinCodec;

struct RtsRtspServer {
  Gate *gate; /* how its clients reach it */
  const RtsCamera *cam;
  char *bind;
  guint port;
  RtsListenState state;
  RtsListenState after_start; /* asked for while starting (a fault) */
  GSocket *socket;            /* NULL while closed */
  RtsAcceptor *acceptor;      /* NULL unless open */
  GstRTSPServer *server;
  GstRTSPMediaFactory *factory;
  GstRTSPMedia *media; /* kept prepared for the server's life */
  gulong probe_id;
  GstPad *probe_pad;
  gpointer first_data_us; /* atomic: monotonic us of the first RTP */
  gint readers; /* atomic: its clients' threads count, the loop reads */
  guint cleanup_id;
  guint nudge_id;          /* see nudge_send_thread */
  gint nudge_last_packets; /* house_packets at the last look */
  gint nudge_last_audio;   /* house_audio_packets at the last look */
  guint64 nudges;          /* wake-ups that found the camera silent */
  gint64 nudge_logged_us;
  GstRTSPStreamTransport *house;       /* on the video stream */
  GstRTSPStreamTransport *house_audio; /* on the audio stream, if any */
  gint house_packets;                  /* atomic */
  gint house_audio_packets;            /* atomic: RTP on the audio stream */
  gulong stall_id;        /* drop probe while a stall fault holds */
  gint64 house_frames;    /* atomic: RTP packets with the marker bit */
  gint64 house_bytes;     /* atomic */
  guint64 sessions_total; /* atomic, as the other counters below */
  gint refuse_udp;        /* atomic: fault: 461 to UDP SETUP */
  gint reject_status;     /* atomic: fault: every request gets it; 0 = off */
  gint answer_delay_ms;   /* atomic: fault: each answer held so long */
  GMutex delay_lock;      /* with delay_cond: wakes held answers when the */
  GCond delay_cond;       /* slow fault is cleared or the server stops */
  guint64 overlay_frames; /* streaming thread only */
  RtsRtspLimits limits;
  guint64 refused;
  guint64 idle_closed;
  guint64 auth_failures; /* atomic: wrong credentials, answered 401 */
  /* Warnings a client can cause at will, at most one a second each. */
  RtsLogLimit log_no_port, log_453, log_455, log_413, log_401;
  RtsLogLimit log_sent;     /* a joiner's sent_through() gave up */
  RtsLogLimit log_unheld;   /* the sinks' hold ended before a joiner's */
  RtsLogLimit log_late_key; /* a PLAY answered before its keyframe */
  /* Loop and file sources: the clip as RTP packets, and what sends them
   * (the media's pipeline carries none). */
  RtsRtpClip *rtp;
  RtsFeed *feed;
  guint sndbuf; /* a TCP reader's send buffer: about a second of stream */
  GMutex snap_lock;
  GBytes *snapshot;       /* latest JPEG, under snap_lock */
  gint64 snapshot_us;     /* when it was taken (real time) */
  gint64 stalled_us;      /* snap_lock: monotonic µs a stall began; 0: none */
  gint64 snap_gate_us;    /* snapq's thread: when a frame last went through */
  RtsStills *stills;      /* loop, file: JPEGs of the clip, STILL_US apart */
  guint64 still_us;       /* loop, file: the time between two stills */
  guint64 clip_us;        /* loop, file: the clip's length */
  gboolean stills_failed; /* no stills pipeline could be made */
  /* A live camera's joining readers, their video held off until a
   * keyframe begins and their audio until the packet their answer names
   * (join_before_answer): Joiner, under join_lock; n_joiners their count,
   * for the probes' quick look. */
  GMutex join_lock;
  GPtrArray *joiners;
  gint n_joiners; /* atomic */
  JoinCodec join_codec;
  guint32 gate_ssrc;  /* atomic: the video's SSRC, from its keyframes */
  guint32 gate_assrc; /* atomic: the audio's, from its packets */
  gint next_aseq;     /* join_lock: the audio's next packet; -1 unknown */
  /* PLAYs from their arrival until hold_until_keyframe has turned their
   * transports off after the answer (gst-rtsp-server turns them on
   * after it) (atomic; changed under join_lock, with join_cond): the
   * sinks wait for them, until hold_until at most. */
  gint plays;
  GCond join_cond;
  gint64 hold_until; /* join_lock: monotonic us */
  /* By stream (0 the video, 1 the audio; atomic; -1 none yet): the last
   * packet a TCP sink let by, and the last the house was sent, with the
   * SSRC it had. Between the two lies what gst-rtsp-server's appsink
   * still holds (see sent_through()). */
  gint tcp_seq[2];
  gint house_seq[2];
  guint32 house_ssrc[2];
  gboolean stopping;
};

/* Requests pass through here before gst-rtsp-server looks at them: the
 * one hook that runs first for every request and may answer it.
 * - The reject fault answers every request with one status (503 or 401);
 *   answering from pre-*-request signals instead corrupts gst-rtsp-server
 *   1.22's heap.
 * - Our own health probe carries a per-process key, so a camera with
 *   credentials is still probed for real (OPTIONS and DESCRIBE) without
 *   the probe knowing its password.
 * - Cameras with credentials chain up to GstRTSPAuth's Basic/Digest check;
 *   a wrong password is logged with the user name, never the password. */
typedef struct {
  GstRTSPAuth parent;
  Gate *gate;
} RtsAuth;

typedef struct {
  GstRTSPAuthClass parent_class;
} RtsAuthClass;

static GType rts_auth_get_type (void);
G_DEFINE_TYPE (RtsAuth, rts_auth, GST_TYPE_RTSP_AUTH)

#define PROBE_HEADER "X-Rts-Probe"
#define READER_KEY "rts-reader" /* ReaderMark */
#define IDLE_KEY "rts-idle-timer"
/* On a session: the connection that made it (a GWeakRef). */
#define SESSION_CLIENT_KEY "rts-session-client"

/* A connection is a reader while it holds a session it made: counted from
 * its first SETUP until its last session ends (TEARDOWN, the session
 * timeout) or it goes. Its clients' thread, the loop (session timeouts)
 * and the client's own end may each end it: atomics, so once. */
typedef struct {
  gint sessions;
  gint reader;
} ReaderMark;

static ReaderMark *
reader_mark (GstRTSPClient *client)
{
  return g_object_get_data (G_OBJECT (client), READER_KEY);
}

static gboolean
is_reader (GstRTSPClient *client)
{
  ReaderMark *m = reader_mark (client);

  return m && g_atomic_int_get (&m->reader);
}

static void
session_client_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}
/* Set on a client refused for a header flood: see within_request_caps. */
#define TRIM_KEY "rts-trim"

/* Readers of every camera of the process. Atomic: each camera's clients
 * run on that camera's own thread (gst-rtsp-server's client thread pool,
 * one per server), so four cameras count on four threads. The limit is
 * checked at SETUP and counted at the session's creation on the same
 * thread; cameras admitting at the same instant may each pass it, so the
 * total can exceed max-readers by at most one per other camera. */
static gint readers_all;

static char probe_key[33];

const char *
rts_rtsp_server_probe_header (void)
{
  static char header[64];

  /* Made once, on the main loop, before any port answers. */
  if (!probe_key[0]) {
    for (guint i = 0; i < 4; i++)
      g_snprintf (probe_key + i * 8, 9, "%08x", g_random_int ());
    g_snprintf (header, sizeof header, PROBE_HEADER ": %s", probe_key);
  }
  return header;
}

static gboolean
is_probe (GstRTSPContext *ctx)
{
  char *value = NULL;
  guint diff = 0;

  if (!ctx->request || !probe_key[0]
      || gst_rtsp_message_get_header_by_name (ctx->request, PROBE_HEADER,
             &value, 0)
          != GST_RTSP_OK
      || strlen (value) != strlen (probe_key))
    return FALSE;
  /* Constant time: the key is a credential. */
  for (gsize i = 0; value[i]; i++)
    diff |= (guint) (value[i] ^ probe_key[i]);
  return diff == 0;
}

/* The user name an Authorization header gives, for the log. */
static char *
auth_user (GstRTSPContext *ctx)
{
  char *value = NULL;

  if (!ctx->request
      || gst_rtsp_message_get_header (ctx->request, GST_RTSP_HDR_AUTHORIZATION,
             &value, 0)
          != GST_RTSP_OK)
    return NULL;
  return rts_auth_header_user (value);
}

/* Answers the request in CTX with STATUS, before gst-rtsp-server handles
 * it (the caller then returns FALSE from the check). A 401 carries a
 * Basic challenge, as a camera whose password changed sends. */
/* What a camera answers: it plays, it records nothing. */
#define METHODS                                                                \
  "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, "           \
  "SET_PARAMETER"

static void
refuse (GstRTSPContext *ctx, GstRTSPStatusCode status)
{
  gst_rtsp_message_init_response (ctx->response, status,
      gst_rtsp_status_as_text (status), ctx->request);
  if (status == GST_RTSP_STS_UNAUTHORIZED)
    gst_rtsp_message_add_header (ctx->response, GST_RTSP_HDR_WWW_AUTHENTICATE,
        "Basic realm=\"" RTS_AUTH_REALM "\"");
  /* RFC 2326, 10: a 405 says what is allowed. */
  if (status == GST_RTSP_STS_METHOD_NOT_ALLOWED)
    gst_rtsp_message_add_header (ctx->response, GST_RTSP_HDR_ALLOW, METHODS);
  gst_rtsp_client_send_message (ctx->client, ctx->session, ctx->response);
}

/* Which of RtsTransports one offer of a Transport header asks for:
 * "RTP/AVP/TCP;..." is TCP; "RTP/AVP;multicast" and
 * "RTP/AVP/UDP;multicast" are multicast (the parameter may sit anywhere
 * after the profile); any other RTP/AVP is unicast UDP. */
static guint
offer_kind (const char *offer)
{
  g_auto (GStrv) params = g_strsplit (offer, ";", -1);

  if (g_ascii_strncasecmp (offer, "RTP/AVP/TCP", 11) == 0)
    return RTS_TRANSPORT_TCP;
  for (guint i = 1; params[i]; i++) {
    if (g_ascii_strcasecmp (g_strstrip (params[i]), "multicast") == 0)
      return RTS_TRANSPORT_MULTICAST;
  }
  return RTS_TRANSPORT_UDP;
}

/* A unicast UDP offer as it can be served: its client_port pair, a single
 * port made the pair RFC 2326 implies (gst-rtsp-server 1.22 sent RTCP to
 * port 65535), or NULL when it names no port there could be (none, 0,
 * beyond 65535): gst-rtsp-server answered 200 and sent nowhere. */
static char *
usable_udp (const char *offer)
{
  g_auto (GStrv) params = g_strsplit (offer, ";", -1);

  for (guint i = 1; params[i]; i++) {
    const char *p = g_strstrip (params[i]);
    char *end;
    guint64 a, b;
    if (g_ascii_strncasecmp (p, "client_port=", 12) != 0)
      continue;
    a = g_ascii_strtoull (p + 12, &end, 10);
    if (end == p + 12 || a == 0 || a >= 65535)
      return NULL;
    if (*end == '\0') {
      g_free (params[i]);
      params[i] =
          g_strdup_printf ("client_port=%u-%u", (guint) a, (guint) a + 1);
      return g_strjoinv (";", params);
    }
    if (*end != '-')
      return NULL;
    b = g_ascii_strtoull (end + 1, &end, 10);
    if (*end != '\0' || b == 0 || b > 65535)
      return NULL;
    return g_strdup (offer);
  }
  return NULL;
}

/* Whether OFFER is to play: no mode, or mode=PLAY (quoted or not, any
 * case). A camera records nothing: gst-rtsp-server answered a
 * mode=record offer 461 after it had made a session, which then held a
 * reader's place until it timed out. */
static gboolean
offer_plays (const char *offer)
{
  g_auto (GStrv) params = g_strsplit (offer, ";", -1);

  for (guint i = 1; params[i]; i++) {
    char *p = g_strstrip (params[i]);
    if (g_ascii_strncasecmp (p, "mode=", 5) != 0)
      continue;
    p += 5;
    if (*p == '"' && p[1] && p[strlen (p) - 1] == '"') {
      p[strlen (p) - 1] = '\0';
      p++;
    }
    return g_ascii_strcasecmp (p, "PLAY") == 0;
  }
  return TRUE;
}

/* A SETUP's Transport header keeps only the transports the camera offers
 * now (its configuration, less UDP and multicast under the refuse-udp
 * fault), in the reader's order, and unicast UDP only with ports to send
 * to (usable_udp); none left is 461, as a camera behind a NAT or a load
 * balancer answers. Rewritten here, before any handler has read it. */
static gboolean
filter_transports (RtsRtspServer *srv, GstRTSPContext *ctx)
{
  guint allowed = srv->cam->transports
      & ~(g_atomic_int_get (&srv->refuse_udp)
              ? RTS_TRANSPORT_UDP | RTS_TRANSPORT_MULTICAST
              : 0);
  char *header = NULL;
  g_autoptr (GPtrArray) offers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  guint n_headers = 0;

  if (!ctx->request || ctx->request->type_data.request.method != GST_RTSP_SETUP)
    return TRUE;
  /* "Transport: a,b" arrives as two Transport headers (GstRTSPConnection
   * splits it), and gst-rtsp-server reads the first: every offer counts,
   * and what is kept goes back as one header. */
  while (gst_rtsp_message_get_header (ctx->request, GST_RTSP_HDR_TRANSPORT,
             &header, (gint) n_headers)
      == GST_RTSP_OK) {
    g_auto (GStrv) parts = g_strsplit (header, ",", -1);
    for (guint i = 0; parts[i]; i++)
      g_ptr_array_add (offers, g_strdup (g_strstrip (parts[i])));
    n_headers++;
  }
  if (n_headers == 0)
    return TRUE;
  guint n_offers = offers->len;
  gboolean changed = FALSE;
  for (guint i = 0; i < n_offers; i++) {
    const char *o = offers->pdata[i];
    guint kind = offer_kind (o);
    char *udp;
    if (!(allowed & kind) || !offer_plays (o))
      continue;
    if (kind != RTS_TRANSPORT_UDP) {
      g_ptr_array_add (kept, (gpointer) o);
      continue;
    }
    udp = usable_udp (o);
    if (!udp) {
      /* The client's own text: quoted, so it cannot forge the line. */
      g_autofree char *shown = rts_log_quote (o, 100);
      rts_warn_limited (&srv->log_no_port,
          "camera %s port %u: SETUP from %s: transport '%s' names "
          "no client_port to send to; left out",
          srv->cam->name, srv->port,
          (const char *) g_object_get_data (G_OBJECT (ctx->client), "rts-peer"),
          shown);
      continue;
    }
    changed = changed || strcmp (udp, o) != 0;
    g_ptr_array_add (offers, udp);
    g_ptr_array_add (kept, udp);
  }
  if (kept->len == n_offers && n_headers == 1 && !changed)
    return TRUE;
  if (kept->len > 0) {
    g_ptr_array_add (kept, NULL);
    g_autofree char *rest = g_strjoinv (",", (char **) kept->pdata);
    gst_rtsp_message_remove_header (ctx->request, GST_RTSP_HDR_TRANSPORT, -1);
    gst_rtsp_message_add_header (ctx->request, GST_RTSP_HDR_TRANSPORT, rest);
    return TRUE;
  }
  refuse (ctx, GST_RTSP_STS_UNSUPPORTED_TRANSPORT);
  return FALSE;
}

/* A SETUP from a connection that is not a reader yet, beyond the reader
 * limits, gets 453 Not Enough Bandwidth (RFC 2326: the resource cannot take
 * one more), logged and counted, before gst-rtsp-server allocates
 * anything for it. */
static gboolean
within_limits (RtsRtspServer *srv, GstRTSPContext *ctx)
{
  const char *which;

  if (!ctx->request || ctx->request->type_data.request.method != GST_RTSP_SETUP
      || is_reader (ctx->client))
    return TRUE;
  if ((guint) g_atomic_int_get (&srv->readers) >= srv->limits.max_readers)
    which = "max-readers-per-camera";
  else if ((guint) g_atomic_int_get (&readers_all)
      >= srv->limits.max_readers_total)
    which = "max-readers";
  else
    return TRUE;
  __atomic_fetch_add (&srv->refused, 1, __ATOMIC_RELAXED);
  rts_warn_limited (&srv->log_453,
      "camera %s port %u: SETUP from %s refused: %s (%u) reached, 453",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (ctx->client), "rts-peer"),
      which,
      g_str_equal (which, "max-readers") ? srv->limits.max_readers_total
                                         : srv->limits.max_readers);
  refuse (ctx, GST_RTSP_STS_NOT_ENOUGH_BANDWIDTH);
  return FALSE;
}

/* Ends a client's connection from any thread: the watch then sees the
 * peer gone and closes the client on its own, normal path
 * (gst_rtsp_client_close() from elsewhere aborted in gst-rtsp-server 1.22
 * on a locked mutex). What was already written still goes out first. */
static void
hang_up (GstRTSPClient *client)
{
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);

  if (conn)
    g_socket_shutdown (gst_rtsp_connection_get_read_socket (conn), TRUE, TRUE,
        NULL);
}

static GstRTSPFilterResult
note_playing (GstRTSPSession *session, GstRTSPSessionMedia *sessmedia,
    gpointer playing)
{
  if (gst_rtsp_session_media_get_rtsp_state (sessmedia)
      == GST_RTSP_STATE_PLAYING)
    *(gboolean *) playing = TRUE;
  return GST_RTSP_FILTER_KEEP;
}

/* A SETUP on a session that is playing gets 455 Method Not Valid in This
 * State, as many cameras answer; after a PAUSE it is taken. RFC 2326 lets
 * a server refuse a transport change mid-play, and gst-rtsp-server 1.22
 * accepts it wrongly: it answers 200 and replaces the transport under a
 * stream that goes on sending where it did, while a loop camera's sender
 * thread may be reading the transport it frees. */
static gboolean
setup_allowed (RtsRtspServer *srv, GstRTSPContext *ctx)
{
  gboolean playing = FALSE;

  if (!ctx->request || ctx->request->type_data.request.method != GST_RTSP_SETUP
      || !ctx->session)
    return TRUE;
  gst_rtsp_session_filter (ctx->session, note_playing, &playing);
  if (!playing) {
    /* The SETUP goes on to replace a paused transport's description,
     * which a send under way may still read (sender.h). */
    if (srv->feed)
      rts_feed_sync (srv->feed);
    return TRUE;
  }
  rts_warn_limited (&srv->log_455,
      "camera %s port %u: SETUP from %s refused: session %s is "
      "playing (a transport can change after PAUSE), 455",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (ctx->client), "rts-peer"),
      gst_rtsp_session_get_sessionid (ctx->session));
  refuse (ctx, GST_RTSP_STS_METHOD_NOT_VALID_IN_THIS_STATE);
  return FALSE;
}

/* A request with more header lines than --max-request-headers gets 413 and
 * its connection is closed. GstRTSPConnection has no cap of its own on the
 * number of lines (each is cut at 4 KiB), so by now the request is parsed;
 * the cap keeps a flood from going further than that, and the memory
 * it took is handed back to the system once the client is gone (glibc
 * keeps freed small blocks otherwise: five floods of 1 MiB of header lines
 * left RSS 7.4 MiB higher for good; with the trim, under 2 MiB). The count
 * reads the message's header array: GstRTSPMessage offers no public
 * count, and the field has been there since 1.0. */
static gboolean
within_request_caps (RtsRtspServer *srv, GstRTSPContext *ctx)
{
  guint n = ctx->request && ctx->request->hdr_fields
      ? ctx->request->hdr_fields->len
      : 0;

  if (n <= srv->limits.max_request_headers)
    return TRUE;
  __atomic_fetch_add (&srv->refused, 1, __ATOMIC_RELAXED);
  rts_warn_limited (&srv->log_413,
      "camera %s port %u: request from %s refused: %u header lines "
      "(max-request-headers %u), 413",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (ctx->client), "rts-peer"), n,
      srv->limits.max_request_headers);
  refuse (ctx, GST_RTSP_STS_REQUEST_ENTITY_TOO_LARGE);
  hang_up (ctx->client);
  g_object_set_data (G_OBJECT (ctx->client), TRIM_KEY, GINT_TO_POINTER (1));
  return FALSE;
}

/* A PLAY's Range ("npt=0.000-", which ffmpeg and GStreamer send) makes
 * gst-rtsp-server 1.22 seek the shared live media: every reader's stream
 * is flushed, the PLAY answer waits for it (tens of ms), a loop camera's
 * timeline starts over, and with many readers joining the seek deadlocks
 * against the session pool's cleanup (seen: 4 hangs in 10 runs of 400
 * readers; under ASan the server then never stopped). With
 * --ignore-play-range (the default) the Range goes before anything reads
 * it. The seek also revived a camera whose UDP path got stuck (README,
 * known issues): without it UDP readers under ASan miss more often. */
static void
drop_play_range (GstRTSPContext *ctx)
{
  if (ctx->request && ctx->request->type_data.request.method == GST_RTSP_PLAY)
    gst_rtsp_message_remove_header (ctx->request, GST_RTSP_HDR_RANGE, -1);
}

/* Leaves CLIENT's list of sessions without DATA, the session an
 * unauthenticated request named (see session_request_authenticated). */
static GstRTSPFilterResult
forget_session (GstRTSPClient *client, GstRTSPSession *session, gpointer data)
{
  return session == data ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

/* gst-rtsp-server 1.22 asks for credentials only where a request reaches
 * the camera's media (DESCRIBE, SETUP): its URL check authenticates no
 * method by default. A PLAY, PAUSE, TEARDOWN or GET/SET_PARAMETER naming a
 * session was taken from anyone who knew the session's id: a connection
 * without credentials paused and tore down an authenticated reader. Such
 * requests, and any request that names a session, now need the camera's
 * credentials too (clients send them with every request once asked).
 * gst-rtsp-server has by then added the named session to the requesting
 * connection's own, and stops every session on that list when the
 * connection closes: a refused request takes it off again (taken off, a
 * session is left as it is: drop-backlog, the default). TRUE when the
 * request has the credentials, else it has been answered 401 with the
 * camera's challenge. */
static gboolean
session_request_authenticated (GstRTSPAuth *auth, GstRTSPContext *ctx)
{
  GstRTSPAuthClass *klass = GST_RTSP_AUTH_GET_CLASS (auth);
  GstRTSPMethod method =
      ctx->request ? ctx->request->type_data.request.method : 0;

  if (!ctx->session
      && !(method
          & (GST_RTSP_PLAY | GST_RTSP_PAUSE | GST_RTSP_TEARDOWN
              | GST_RTSP_GET_PARAMETER | GST_RTSP_SET_PARAMETER)))
    return TRUE;
  if (ctx->token
      || (klass->authenticate && klass->authenticate (auth, ctx) && ctx->token))
    return TRUE;
  if (ctx->session)
    g_list_free_full (gst_rtsp_client_session_filter (ctx->client,
                          forget_session, ctx->session),
        g_object_unref);
  gst_rtsp_message_init_response (ctx->response, GST_RTSP_STS_UNAUTHORIZED,
      gst_rtsp_status_as_text (GST_RTSP_STS_UNAUTHORIZED), ctx->request);
  if (klass->generate_authenticate_header)
    klass->generate_authenticate_header (auth, ctx);
  gst_rtsp_client_send_message (ctx->client, NULL, ctx->response);
  return FALSE;
}

static gboolean
auth_check (RtsRtspServer *srv, GstRTSPAuth *auth, GstRTSPContext *ctx,
    const char *check)
{
  guint status = (guint) g_atomic_int_get (&srv->reject_status);
  gboolean url = g_strcmp0 (check, GST_RTSP_AUTH_CHECK_URL) == 0;

  /* A multicast reader gets the camera's group, port and TTL: one that
   * names its own destination or TTL could send the camera's stream
   * anywhere, or further than configured. */
  if (g_strcmp0 (check, GST_RTSP_AUTH_CHECK_TRANSPORT_CLIENT_SETTINGS) == 0)
    return FALSE;

  if (status) {
    if (!url)
      return TRUE;
    refuse (ctx, status);
    return FALSE;
  }
  if (url && !within_request_caps (srv, ctx))
    return FALSE;
  /* A camera records nothing: gst-rtsp-server's own 405 said no Allow. */
  if (url && ctx->request
      && (ctx->request->type_data.request.method == GST_RTSP_ANNOUNCE
          || ctx->request->type_data.request.method == GST_RTSP_RECORD)) {
    refuse (ctx, GST_RTSP_STS_METHOD_NOT_ALLOWED);
    return FALSE;
  }
  if ((g_strcmp0 (srv->cam->auth, "basic")
          && g_strcmp0 (srv->cam->auth, "digest"))
      || is_probe (ctx)
      || (GST_RTSP_AUTH_CLASS (rts_auth_parent_class)->check (auth, ctx, check)
          && (!url || session_request_authenticated (auth, ctx)))) {
    if (url && srv->limits.ignore_play_range)
      drop_play_range (ctx);
    return !url
        || (setup_allowed (srv, ctx) && filter_transports (srv, ctx)
            && within_limits (srv, ctx));
  }
  {
    g_autofree char *user = auth_user (ctx);
    if (user) {
      __atomic_fetch_add (&srv->auth_failures, 1, __ATOMIC_RELAXED);
      rts_warn_limited (&srv->log_401,
          "camera %s port %u: wrong credentials from %s (user '%s'): "
          "401",
          srv->cam->name, srv->port,
          (const char *) g_object_get_data (G_OBJECT (ctx->client), "rts-peer"),
          user);
    }
  }
  return FALSE;
}

static gboolean
rts_auth_check (GstRTSPAuth *auth, GstRTSPContext *ctx, const char *check)
{
  Gate *gate = ((RtsAuth *) auth)->gate;
  RtsRtspServer *srv = gate_enter (gate);
  gboolean ok;

  if (!srv) {
    /* The camera is going: its port closed already. */
    if (g_strcmp0 (check, GST_RTSP_AUTH_CHECK_URL) == 0)
      refuse (ctx, GST_RTSP_STS_SERVICE_UNAVAILABLE);
    return FALSE;
  }
  ok = auth_check (srv, auth, ctx, check);
  gate_leave (gate);
  return ok;
}

static void
rts_auth_finalize (GObject *object)
{
  g_clear_pointer (&((RtsAuth *) object)->gate, gate_unref);
  G_OBJECT_CLASS (rts_auth_parent_class)->finalize (object);
}

static void
rts_auth_class_init (RtsAuthClass *klass)
{
  GST_RTSP_AUTH_CLASS (klass)->check = rts_auth_check;
  G_OBJECT_CLASS (klass)->finalize = rts_auth_finalize;
}

static void
rts_auth_init (RtsAuth *auth)
{
}

/* The camera's credentials, if it has any, and the role that may play. */
static GstRTSPAuth *
make_auth (RtsRtspServer *srv, GstRTSPMediaFactory *factory)
{
  RtsAuth *auth = g_object_new (rts_auth_get_type (), NULL);
  const RtsCamera *cam = srv->cam;

  auth->gate = gate_ref (srv->gate);
  /* Before the credentials: a Digest entry is hashed with the realm. */
  gst_rtsp_auth_set_realm (GST_RTSP_AUTH (auth), RTS_AUTH_REALM);
  if (!g_strcmp0 (cam->auth, "basic") || !g_strcmp0 (cam->auth, "digest")) {
    g_autoptr (GstRTSPToken) token =
        gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
            "viewer", NULL);
    if (!g_strcmp0 (cam->auth, "basic")) {
      g_autofree char *pair = g_strconcat (cam->user, ":", cam->password, NULL);
      g_autofree char *basic =
          g_base64_encode ((const guchar *) pair, strlen (pair));
      gst_rtsp_auth_add_basic (GST_RTSP_AUTH (auth), basic, token);
      gst_rtsp_auth_set_supported_methods (GST_RTSP_AUTH (auth),
          GST_RTSP_AUTH_BASIC);
    } else {
      gst_rtsp_auth_add_digest (GST_RTSP_AUTH (auth), cam->user, cam->password,
          token);
      gst_rtsp_auth_set_supported_methods (GST_RTSP_AUTH (auth),
          GST_RTSP_AUTH_DIGEST);
    }
    gst_rtsp_media_factory_add_role (factory, "viewer",
        GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
        GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
  }
  return GST_RTSP_AUTH (auth);
}

static void arm_idle_timer (RtsRtspServer *srv, GstRTSPClient *client);

/* CLIENT is no reader any more (once, whoever asks first): WHY says how. */
static void
end_reader (RtsRtspServer *srv, GstRTSPClient *client, const char *why)
{
  ReaderMark *m = reader_mark (client);

  if (!m || !g_atomic_int_compare_and_exchange (&m->reader, 1, 0))
    return;
  gint now = g_atomic_int_add (&srv->readers, -1) - 1;
  g_atomic_int_add (&readers_all, -1);
  rts_info ("reader disconnected: camera %s port %u from %s%s, %d reader(s) "
            "now",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (client), "rts-peer"), why,
      now);
}

/* A reader of a live camera waiting for a keyframe: taken in as its PLAY
 * answer is about to go (join_before_answer), its streams turned off once
 * gst-rtsp-server has turned them on (hold_until_keyframe), and each on
 * again at its first packet (sink_gate): the video's the first of the
 * first keyframe that began after it came, the audio's the one payloaded
 * next once the answer's RTP-Info is written. */
typedef struct {
  GstRTSPStreamTransport *trans;  /* its video; NULL: none set up */
  GstRTSPStreamTransport *atrans; /* its audio; NULL: none, or not held */
  GstRTSPSessionMedia *sm;
  GstRTSPSession *session; /* not a reference: compared only */
  gint seq;                /* the video's first packet; -1 until it began */
  gint aseq;               /* the audio's; -1 until the answer named it */
  gboolean vdone;          /* the video is on again (or given up on) */
  gboolean adone;          /* the audio */
  gboolean answered;       /* the answer went and the streams are off */
  gint64 named_us; /* when its answer was written (monotonic); 0 before */
} Joiner;

static void
joiner_free (gpointer data)
{
  Joiner *j = data;

  g_clear_object (&j->trans);
  g_clear_object (&j->atrans);
  g_object_unref (j->sm);
  g_free (j);
}

/* After the joiners changed, under join_lock: their count for the
 * probes. */
static void
set_joiners_count (RtsRtspServer *srv)
{
  g_atomic_int_set (&srv->n_joiners, (gint) srv->joiners->len);
}

/* Whether the RTP packet RTP begins an access unit a decoder can start
 * from: with config-interval=-1 the payloader puts the parameter sets
 * before every keyframe, the first of them (SPS; VPS) alone or first in
 * an aggregation packet; a JPEG's first fragment (offset 0, RFC 2435). */
static gboolean
starts_keyframe (GstRTPBuffer *rtp, JoinCodec codec)
{
  const guint8 *p = gst_rtp_buffer_get_payload (rtp);
  guint len = gst_rtp_buffer_get_payload_len (rtp);

  if (codec == JOIN_H265 && len >= 2) {
    guint type = (p[0] >> 1) & 0x3f;
    /* An aggregation packet (48): header, then size and unit. */
    return type == 32 || (type == 48 && len >= 5 && ((p[4] >> 1) & 0x3f) == 32);
  }
  if (codec == JOIN_H264 && len >= 1) {
    guint type = p[0] & 0x1f;
    /* STAP-A (24): header, then size and unit. */
    return type == 7 || (type == 24 && len >= 4 && (p[3] & 0x1f) == 7);
  }
  if (codec == JOIN_JPEG && len >= 4)
    return p[1] == 0 && p[2] == 0 && p[3] == 0;
  return FALSE;
}

/* Whether the joiner's session still plays TRANS, its stream INDEX: a
 * TEARDOWN or a PAUSE may have come since, which a transport turned on
 * again would outlive. */
static gboolean
still_joining (const Joiner *j, guint index, GstRTSPStreamTransport *trans)
{
  return gst_rtsp_session_media_get_rtsp_state (j->sm) == GST_RTSP_STATE_PLAYING
      && gst_rtsp_session_media_get_transport (j->sm, index) == trans;
}

/* Whether the joiner has both its streams on again, or given up on. */
static gboolean
joined (const Joiner *j)
{
  return (!j->trans || j->vdone) && (!j->atrans || j->aseq < 0 || j->adone);
}

/* The live encoder's output, packet by packet: the first packet of a
 * keyframe is the one the readers waiting for one start on (sink_gate
 * turns their video on as it reaches them). Streaming thread. */
static GstPadProbeReturn
keyframe_gate (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RtsRtspServer *srv = data;
  GstBuffer *first = NULL;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  if (!g_atomic_int_get (&srv->n_joiners))
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    first =
        gst_buffer_list_length (list) ? gst_buffer_list_get (list, 0) : NULL;
  } else {
    first = GST_PAD_PROBE_INFO_BUFFER (info);
  }
  if (!first || !gst_rtp_buffer_map (first, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  if (starts_keyframe (&rtp, srv->join_codec)) {
    g_mutex_lock (&srv->join_lock);
    g_atomic_int_set ((gint *) &srv->gate_ssrc,
        (gint) gst_rtp_buffer_get_ssrc (&rtp));
    for (guint i = 0; i < srv->joiners->len; i++) {
      Joiner *j = srv->joiners->pdata[i];
      if (j->trans && j->seq < 0)
        j->seq = gst_rtp_buffer_get_seq (&rtp);
    }
    g_cond_broadcast (&srv->join_cond);
    g_mutex_unlock (&srv->join_lock);
  }
  gst_rtp_buffer_unmap (&rtp);
  return GST_PAD_PROBE_OK;
}

/* The last packet of a buffer list; NULL if it is empty. */
static GstBuffer *
list_last (GstBufferList *list)
{
  guint n = gst_buffer_list_length (list);

  return n ? gst_buffer_list_get (list, n - 1) : NULL;
}

/* The last packet of the buffer or list a probe sees. */
static GstBuffer *
probe_last (GstPadProbeInfo *info)
{
  return info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST
      ? list_last (GST_PAD_PROBE_INFO_BUFFER_LIST (info))
      : GST_PAD_PROBE_INFO_BUFFER (info);
}

/* A live camera's audio, packet by packet: the sequence number of the
 * next is the one a joining reader's answer names (join_before_answer),
 * and its audio starts on (sink_gate). Any packet may start a decoder,
 * so none is waited for: the answer names one not yet made. Streaming
 * thread. */
static GstPadProbeReturn
audio_gate (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RtsRtspServer *srv = data;
  GstBuffer *last = probe_last (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  if (!last || !gst_rtp_buffer_map (last, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&srv->join_lock);
  srv->next_aseq = (gst_rtp_buffer_get_seq (&rtp) + 1) & 0xffff;
  g_atomic_int_set ((gint *) &srv->gate_assrc,
      (gint) gst_rtp_buffer_get_ssrc (&rtp));
  g_mutex_unlock (&srv->join_lock);
  gst_rtp_buffer_unmap (&rtp);
  return GST_PAD_PROBE_OK;
}

/* Whether BUF is a packet of the stream of SSRC (atomic) that is SEQ or,
 * with LATER, comes after it. */
static gboolean
is_gate_packet (GstBuffer *buf, guint32 *ssrc, gint seq, gboolean later)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean is;
  guint16 ahead;

  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return FALSE;
  ahead = (guint16) (gst_rtp_buffer_get_seq (&rtp) - (guint16) seq);
  is = (later ? ahead < 0x8000 : ahead == 0)
      && gst_rtp_buffer_get_ssrc (&rtp)
          == (guint32) g_atomic_int_get ((gint *) ssrc);
  gst_rtp_buffer_unmap (&rtp);
  return is;
}

/* How long the sinks wait for PLAYs being handled (see sink_gate): from
 * the first's arrival, while the readers wait for their keyframes (their
 * streams are off, but a packet the sinks let by then could still be in
 * gst-rtsp-server's appsink when it turns them on after the answer: 3
 * audio joins in 56); and from the last answer, until
 * hold_until_keyframe has turned its streams off again, which takes well
 * under a millisecond, but longer than the 50 ms this was on a starved
 * machine (a TCP joiner got the frame before its keyframe under the
 * sanitizers beside other tests, now and then). */
#define PLAY_HOLD_US (50 * 1000)
#define ANSWER_HOLD_US (200 * 1000)

/* A PLAY of a live camera begins (pre-play-request) or ends
 * (hold_until_keyframe; an answer that is no 200). Client thread. */
static void
count_play (RtsRtspServer *srv, gint delta)
{
  g_mutex_lock (&srv->join_lock);
  if (delta > 0 && !srv->plays)
    srv->hold_until = g_get_monotonic_time () + PLAY_HOLD_US;
  if (delta > 0 || srv->plays > 0)
    g_atomic_int_add (&srv->plays, delta);
  g_cond_broadcast (&srv->join_cond);
  g_mutex_unlock (&srv->join_lock);
}

/* A sink of the camera's pipeline (TCP: the appsink gst-rtsp-server
 * sends interleaved data from; UDP: its multiudpsink), packet by packet:
 * when the keyframe's first packet reaches it, the readers waiting on
 * this transport are turned on, so that packet is the first they get.
 * Turned on upstream instead, they were sent what the sinks' queues
 * still held of the frame before. Streaming thread. */
typedef struct {
  RtsRtspServer *srv;
  gboolean tcp;
  gint stream;    /* TCP: the stream it carries (0, 1); -1 not known */
  gint64 last_us; /* TCP: when it last let a packet by (monotonic) */
} SinkGate;

/* gst-rtsp-server's TCP sender thread takes each packet (or list) from
 * the appsink after the gate let it by, and hands it to the transports
 * on by then: one turned on as its first packet reaches the gate was now
 * and then sent the packet before too (the end of the frame before the
 * keyframe; 5 joins in 111 of a live camera with audio). The sender
 * hands a packet to every transport it sends to before it sends any,
 * the house's among them, so once the house was sent the last packet a
 * sink let by, a transport turned on is sent nothing from before. This
 * waits for that, SENT_WAIT_US at most: gst-rtsp-server takes nothing
 * from the appsink while every reader it sends to is stuck. (It waited a
 * fixed 3 ms after the packet before: a starved machine's sender, under
 * the sanitizers, now and then took longer.) Past it, a warning says
 * before WHAT the packets did not go. */
#define SENT_WAIT_US (100 * 1000)

static void
sent_through (RtsRtspServer *srv, gint stream, const char *what)
{
  gint64 end = g_get_monotonic_time () + SENT_WAIT_US;

  if (stream < 0)
    return;
  for (;;) {
    gint want = g_atomic_int_get (&srv->tcp_seq[stream]);
    gint have = g_atomic_int_get (&srv->house_seq[stream]);
    /* The house at or past the sink's last. */
    if (want < 0 || (guint16) (want - have) >= 0x8000 || want == have)
      return;
    if (g_get_monotonic_time () >= end)
      break;
    g_usleep (100);
  }
  rts_log_limited (&srv->log_sent, "warn",
      "camera %s: gst-rtsp-server did not send the packets before %s "
      "within %d ms; the reader may get them",
      srv->cam->name, what, SENT_WAIT_US / 1000);
}

/* A TCP sink let the packet or list INFO by: its stream is the one whose
 * SSRC the house saw (none for RTCP). */
static void
passed (SinkGate *g, GstPadProbeInfo *info)
{
  RtsRtspServer *srv = g->srv;
  GstBuffer *last = probe_last (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  g->last_us = g_get_monotonic_time ();
  if (!last || !gst_rtp_buffer_map (last, GST_MAP_READ, &rtp))
    return;
  for (gint i = 0; i < 2; i++)
    if (g_atomic_int_get (&srv->house_seq[i]) >= 0
        && (guint32) g_atomic_int_get ((gint *) &srv->house_ssrc[i])
            == gst_rtp_buffer_get_ssrc (&rtp)) {
      g->stream = i;
      g_atomic_int_set (&srv->tcp_seq[i], gst_rtp_buffer_get_seq (&rtp));
    }
  gst_rtp_buffer_unmap (&rtp);
}

/* How long after the packet before it a TCP sink turns a joiner on when
 * its stream is not known yet (no packet of it reached the house). */
#define SETTLE_US (3 * 1000)

/* A TCP sink is about to let by a joiner's first packet: whatever it let
 * by before must have gone to the transports that were on. */
static void
settle (SinkGate *g)
{
  gint64 wait = g->last_us + SETTLE_US - g_get_monotonic_time ();

  if (g->stream >= 0)
    sent_through (g->srv, g->stream, "a joining reader's first");
  else if (wait > 0)
    g_usleep ((gulong) wait);
}

/* Whether the buffer or list INFO carries the packet is_gate_packet()
 * looks for. */
static gboolean
holds_packet (GstPadProbeInfo *info, guint32 *ssrc, gint seq, gboolean later)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    for (guint i = 0; i < gst_buffer_list_length (list); i++)
      if (is_gate_packet (gst_buffer_list_get (list, i), ssrc, seq, later))
        return TRUE;
    return FALSE;
  }
  return is_gate_packet (GST_PAD_PROBE_INFO_BUFFER (info), ssrc, seq, later);
}

/* Whether TRANS is over TCP. */
static gboolean
is_tcp (GstRTSPStreamTransport *trans)
{
  return gst_rtsp_stream_transport_get_transport (trans)->lower_transport
      == GST_RTSP_LOWER_TRANS_TCP;
}

/* The stream of J that begins in INFO, a packet reaching a sink of TCP
 * or UDP: 0 the video, 1 the audio, -1 neither. The audio's from the
 * named packet on: an audio packet is never lost on the way, but one
 * taken as the start after it would be worse than a late one (silence
 * for good). */
static gint
starting_stream (RtsRtspServer *srv, const Joiner *j, GstPadProbeInfo *info,
    gboolean tcp)
{
  if (j->trans && !j->vdone && j->seq >= 0 && is_tcp (j->trans) == tcp
      && holds_packet (info, &srv->gate_ssrc, j->seq, FALSE))
    return 0;
  if (j->atrans && !j->adone && j->aseq >= 0 && is_tcp (j->atrans) == tcp
      && holds_packet (info, &srv->gate_assrc, j->aseq, TRUE))
    return 1;
  return -1;
}

/* How long a sink holds a reader's first packet for its PLAY answer to
 * go first (see sink_gate): far longer than it takes (the answer goes as
 * soon as the keyframe has begun), short enough for the others. */
#define ANSWER_FIRST_US (500 * 1000)

/* The same for an audio packet: any later one can start the reader's
 * audio, so the sink holds the others' for less (a live camera's audio
 * gone for 250 ms is logged as a stall). The answer goes about as soon as
 * the packet is named, a packet's time (20 ms) before it comes. */
#define ANSWER_FIRST_AUDIO_US (100 * 1000)

/* The sinks' hold for PLAYs ended while a reader's answer had gone and
 * its streams, which gst-rtsp-server turns on after the answer, were not
 * off again yet (its client thread starved between the two): the packet
 * let by now may go to it, before the first its RTP-Info names. Said, so
 * that a test that sees it knows why. join_lock held. */
static void
warn_unheld (RtsRtspServer *srv)
{
  for (guint i = 0; i < srv->joiners->len; i++) {
    const Joiner *j = srv->joiners->pdata[i];

    if (j->named_us && !j->answered) {
      rts_warn_limited (&srv->log_unheld,
          "camera %s: its sinks' hold ended %" G_GINT64_FORMAT
          " ms after a PLAY's answer, that reader's streams not off again "
          "yet; it may get packets from before the first its RTP-Info names",
          srv->cam->name, (g_get_monotonic_time () - j->named_us) / 1000);
      return;
    }
  }
}

static GstPadProbeReturn
sink_gate (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  SinkGate *g = data;
  RtsRtspServer *srv = g->srv;
  gboolean settled = FALSE;
  gint64 start;

  /* One critical section from the hold below to the packet's record
   * (passed()), the lock a PLAY takes to start the hold (count_play) and
   * to name its first packets (join_before_answer): a packet is let by
   * either before, and recorded for sent_through() to wait for, or after,
   * and held. Read without the lock, a packet that found no PLAY was
   * recorded only after the answer's sent_through() had looked, and the
   * sender gave it to the reader turned on after the answer: an MJPEG
   * camera's joiner got the audio packet 2 before the named one, none the
   * next, then the named (1 join in 240 under the sanitizers with four
   * busy processes; the streaming thread was preempted between the two
   * for the keyframe's wait). */
  g_mutex_lock (&srv->join_lock);
  /* A PLAY's transport is on from gst-rtsp-server's start of it until
   * hold_until_keyframe turns it off: what went out meanwhile was the
   * middle of a frame (on a loaded machine, now and then). Bounded: a
   * PLAY held by the slow fault lets the others' packets go. The end is
   * read anew after each wake: join_before_answer moves it. */
  while (srv->plays && g_get_monotonic_time () < srv->hold_until)
    g_cond_wait_until (&srv->join_cond, &srv->join_lock, srv->hold_until);
  if (srv->plays)
    warn_unheld (srv);
  /* A reader's first packet waits for its answer (its RTP-Info names
   * that packet): sent before it, over TCP, the packet came before the
   * answer, which a client may drop. A reader whose answer has not gone
   * by then is not turned on (hold_until_keyframe waits on). */
  start = g_get_monotonic_time ();
  while (srv->joiners->len) {
    gboolean unsettled = FALSE;
    gint64 wake = 0;
    for (guint i = srv->joiners->len; i-- > 0;) {
      Joiner *j = srv->joiners->pdata[i];
      gint stream = starting_stream (srv, j, info, g->tcp);
      GstRTSPStreamTransport *trans = stream ? j->atrans : j->trans;
      if (stream < 0)
        continue;
      if (!j->answered) {
        gint64 end = start + (stream ? ANSWER_FIRST_AUDIO_US : ANSWER_FIRST_US);
        if (g_get_monotonic_time () < end)
          wake = wake ? MIN (wake, end) : end;
        /* Past it: the audio starts on a packet after the answer, the
         * video is given up on (hold_until_keyframe waits anew). */
        else if (!stream)
          g_ptr_array_remove_index_fast (srv->joiners, i);
        continue;
      }
      if (g->tcp && !settled) {
        unsettled = TRUE;
        break;
      }
      if (still_joining (j, (guint) stream, trans))
        gst_rtsp_stream_transport_set_active (trans, TRUE);
      *(stream ? &j->adone : &j->vdone) = TRUE;
      if (joined (j))
        g_ptr_array_remove_index_fast (srv->joiners, i);
    }
    /* Not under the lock: the answers and other sinks go on meanwhile;
     * then the joiners are looked at anew. */
    if (unsettled) {
      g_mutex_unlock (&srv->join_lock);
      settle (g);
      settled = TRUE;
      g_mutex_lock (&srv->join_lock);
      continue;
    }
    if (!wake)
      break;
    g_cond_wait_until (&srv->join_cond, &srv->join_lock, wake);
  }
  set_joiners_count (srv);
  if (g->tcp)
    passed (g, info);
  g_mutex_unlock (&srv->join_lock);
  return GST_PAD_PROBE_OK;
}

/* Every sink gst-rtsp-server adds to a live camera's pipeline gets
 * sink_gate (the RTCP ones and the audio's too: the packet's sequence
 * number and SSRC tell). */
static void
gate_sink (GstBin *pipeline, GstBin *bin, GstElement *el, gpointer data)
{
  RtsRtspServer *srv = data;
  GstElementFactory *f = gst_element_get_factory (el);
  const char *name = f ? gst_plugin_feature_get_name (f) : "";
  gboolean tcp = g_str_equal (name, "appsink");
  SinkGate *g;

  if (!tcp && !g_str_equal (name, "multiudpsink"))
    return;
  g_autoptr (GstPad) pad = gst_element_get_static_pad (el, "sink");
  if (!pad)
    return;
  g = g_new0 (SinkGate, 1);
  g->srv = srv;
  g->tcp = tcp;
  g->stream = -1;
  gst_pad_add_probe (pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, sink_gate, g,
      g_free);
}

/* A live encoder is asked for a keyframe, upstream from the payloader
 * (the event GstVideo's force-key-unit helpers make). */
static void
request_keyframe (RtsRtspServer *srv)
{
  g_autoptr (GstElement) pay = gst_pad_get_parent_element (srv->probe_pad);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (pay, "sink");
  GstStructure *st = gst_structure_new ("GstForceKeyUnit", "running-time",
      G_TYPE_UINT64, GST_CLOCK_TIME_NONE, "all-headers", G_TYPE_BOOLEAN, TRUE,
      "count", G_TYPE_UINT, 0, NULL);

  gst_pad_push_event (sink,
      gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, st));
}

/* The joiner of SM, under join_lock; NULL if none. */
static Joiner *
find_joiner (RtsRtspServer *srv, GstRTSPSessionMedia *sm)
{
  for (guint i = 0; i < srv->joiners->len; i++) {
    Joiner *j = srv->joiners->pdata[i];
    if (j->sm == sm)
      return j;
  }
  return NULL;
}

/* Under join_lock. TRANS and ATRANS as Joiner has them. */
static Joiner *
add_joiner (RtsRtspServer *srv, GstRTSPStreamTransport *trans,
    GstRTSPStreamTransport *atrans, GstRTSPContext *ctx)
{
  Joiner *j = g_new0 (Joiner, 1);

  j->trans = trans ? g_object_ref (trans) : NULL;
  j->atrans = atrans ? g_object_ref (atrans) : NULL;
  j->sm = g_object_ref (ctx->sessmedia);
  j->session = ctx->session;
  j->seq = -1;
  j->aseq = -1;
  g_ptr_array_add (srv->joiners, j);
  set_joiners_count (srv);
  return j;
}

/* The transport of stream INDEX (0 the video, 1 the audio) of a live
 * camera's PLAY that waits for its first packet; NULL when there is none:
 * not set up, or multicast (a group is shared: one reader's turning it
 * off is all's). */
static GstRTSPStreamTransport *
gated_transport (GstRTSPContext *ctx, guint index)
{
  GstRTSPStreamTransport *trans = ctx && ctx->sessmedia
          && index < gst_rtsp_media_n_streams (
                 gst_rtsp_session_media_get_media (ctx->sessmedia))
      ? gst_rtsp_session_media_get_transport (ctx->sessmedia, index)
      : NULL;

  if (!trans
      || gst_rtsp_stream_transport_get_transport (trans)->lower_transport
          == GST_RTSP_LOWER_TRANS_UDP_MCAST)
    return NULL;
  return trans;
}

/* RTP-Info's entry for TRANS's stream, in MSG, names SEQ; no packet if
 * SEQ is negative (not known: gst-rtsp-server's names the payloader's
 * next, which is not the reader's first). */
static void
name_first_packet (GstRTSPMessage *msg, GstRTSPStreamTransport *trans, gint seq)
{
  char *info = NULL;
  g_autofree char *control = NULL;
  char *edited;

  if (!trans
      || gst_rtsp_message_get_header (msg, GST_RTSP_HDR_RTP_INFO, &info, 0)
          != GST_RTSP_OK)
    return;
  control = gst_rtsp_stream_get_control (
      gst_rtsp_stream_transport_get_stream (trans));
  edited = control ? wire_rtpinfo_set_seq (info, control, seq) : NULL;
  if (edited) {
    gst_rtsp_message_remove_header (msg, GST_RTSP_HDR_RTP_INFO, -1);
    gst_rtsp_message_add_header (msg, GST_RTSP_HDR_RTP_INFO, edited);
    free (edited);
  }
}

/* A live camera's joining reader would get the rest of the frame being
 * encoded, and the next, before the keyframe it asked for: a decoder
 * starts on pictures whose references it never had (H.265: "Could not
 * find ref with POC", about every other join). It starts on the first
 * keyframe that begins once its PLAY answer is about to go, and the
 * answer waits for that keyframe to begin, so that its RTP-Info names
 * that packet: gst-rtsp-server's named the payloader's next one, a few
 * before (2 to 23 seen), which GStreamer's jitter buffer took for lost
 * and waited its whole latency for (rtspsrc: 2 s) before the first
 * picture. The wait is the encoder's for the frame it is asked to make a
 * keyframe: two and a half frames, 500 ms to 1 s (a loaded machine's
 * encoder is late: x265 took 270 ms with two other busy processes on
 * two cores, past the 250 ms this was); past it, the answer goes as it
 * was. The audio's entry names the next packet its payloader makes, on
 * which the reader's audio starts: gst-rtsp-server's named one 1 to 4
 * before, and the sound came 2 s after the picture. Client thread;
 * gst-rtsp-server turns the reader's streams on after the answer, and
 * hold_until_keyframe turns them off again. */
static void
join_before_answer (RtsRtspServer *srv, GstRTSPContext *ctx,
    GstRTSPMessage *msg)
{
  GstRTSPStreamTransport *trans = gated_transport (ctx, 0);
  GstRTSPStreamTransport *atrans = gated_transport (ctx, 1);
  gint seq = -1, aseq = -1;
  gint64 frames = G_USEC_PER_SEC * 5 / 2 * srv->cam->fps_d / srv->cam->fps_n;
  gint64 wait = CLAMP (frames, 500000, 1000000);
  gint64 end = g_get_monotonic_time () + wait;
  g_autoptr (GPtrArray) all = NULL;
  Joiner *j;

  if (!trans && !atrans)
    return;
  /* Its streams are off while it waits (gst-rtsp-server turns them on
   * after the answer): its video was on already, and the sinks' hold
   * (from pre-play-request) can end before a slow encoder's keyframe
   * comes (an H.265 reader got the end of the frame before, now and
   * then); its audio, sent over TCP before the answer, left rtspsrc
   * with no picture and no sound for good, 4 plays in 20. */
  g_mutex_lock (&srv->join_lock);
  if (!find_joiner (srv, ctx->sessmedia))
    add_joiner (srv, trans, atrans, ctx);
  all = gst_rtsp_session_media_get_transports (ctx->sessmedia);
  /* NULL where a stream is not set up. */
  for (guint i = 0; i < all->len; i++)
    if (all->pdata[i])
      gst_rtsp_stream_transport_set_active (all->pdata[i], FALSE);
  g_mutex_unlock (&srv->join_lock);
  if (trans)
    request_keyframe (srv);
  g_mutex_lock (&srv->join_lock);
  while (trans && (j = find_joiner (srv, ctx->sessmedia)) && j->seq < 0
      && g_cond_wait_until (&srv->join_cond, &srv->join_lock, end))
    ;
  j = find_joiner (srv, ctx->sessmedia);
  if (j) {
    seq = j->trans ? j->seq : -1;
    /* Named now, under the lock audio_gate takes: that packet has not
     * been made yet, so it cannot reach a sink before the joiner is
     * known to wait for it. */
    if (j->atrans && srv->next_aseq >= 0) {
      j->aseq = aseq = srv->next_aseq;
      j->adone = FALSE;
    }
    j->named_us = g_get_monotonic_time ();
  }
  /* The sinks' hold (pre-play-request) counts from now: the wait may
   * have outlasted it, and the reader's streams go on after the answer
   * until hold_until_keyframe turns them off. */
  if (srv->plays > 0)
    srv->hold_until = g_get_monotonic_time () + ANSWER_HOLD_US;
  g_mutex_unlock (&srv->join_lock);
  /* The sinks hold every packet from now; one they let by before could
   * still be in gst-rtsp-server's appsink (see sent_through()), and
   * would go to the reader once its streams are on (an audio packet 2
   * before the named one, now and then, when the sinks' first hold had
   * ended before the keyframe came). */
  for (gint i = 0; i < 2; i++)
    sent_through (srv, i, "a PLAY answer");
  /* Too late (the encoder is starved): the reader's first packet will
   * be the keyframe's, not known yet, and the answer names none; a
   * client then starts on the first it gets (a named packet it never got
   * held GStreamer's jitter buffer for 2 s). */
  if (trans && seq < 0)
    rts_info_limited (&srv->log_late_key,
        "camera %s: no keyframe began within %" G_GINT64_FORMAT
        " ms of a PLAY; its answer's RTP-Info names no first packet",
        srv->cam->name, wait / 1000);
  name_first_packet (msg, trans, seq);
  name_first_packet (msg, atrans, aseq);
}

/* After the answer (join_before_answer): the reader's streams, which
 * gst-rtsp-server has just turned on, are turned off until their first
 * packets (sink_gate). A reader not waiting (it came too late for its
 * keyframe) waits for the next, asked for now, its audio left on.
 * Client thread. */
static void
hold_until_keyframe (RtsRtspServer *srv, GstRTSPContext *ctx)
{
  GstRTSPStreamTransport *trans = gated_transport (ctx, 0);
  gboolean ask = FALSE;
  Joiner *j;

  if (!srv->joiners)
    return;
  g_mutex_lock (&srv->join_lock);
  j = find_joiner (srv, ctx->sessmedia);
  if (!j && trans) {
    j = add_joiner (srv, trans, NULL, ctx);
    ask = TRUE;
  }
  if (j) {
    if (j->trans)
      gst_rtsp_stream_transport_set_active (j->trans, FALSE);
    if (j->atrans && j->aseq >= 0)
      gst_rtsp_stream_transport_set_active (j->atrans, FALSE);
    j->answered = TRUE;
    g_cond_broadcast (&srv->join_cond);
  }
  g_mutex_unlock (&srv->join_lock);
  if (ask)
    request_keyframe (srv);
  count_play (srv, -1);
}

/* A session going (TEARDOWN, PAUSE, its end) is no longer waited for: the
 * gate must not turn its transport back on. SM NULL: every media of
 * SESSION. */
static void
forget_joiner (RtsRtspServer *srv, GstRTSPSession *session,
    GstRTSPSessionMedia *sm)
{
  if (!srv->joiners || !g_atomic_int_get (&srv->n_joiners))
    return;
  g_mutex_lock (&srv->join_lock);
  for (guint i = srv->joiners->len; i-- > 0;) {
    Joiner *j = srv->joiners->pdata[i];
    if (sm ? j->sm == sm : j->session == session)
      g_ptr_array_remove_index_fast (srv->joiners, i);
  }
  set_joiners_count (srv);
  g_mutex_unlock (&srv->join_lock);
}

static void
client_closed (GstRTSPClient *client, RtsRtspServer *srv)
{
  if (g_object_get_data (G_OBJECT (client), TRIM_KEY))
    malloc_trim (0);
  end_reader (srv, client, "");
}

static void
new_session (GstRTSPClient *client, GstRTSPSession *session, RtsRtspServer *srv)
{
  ReaderMark *m = reader_mark (client);
  GWeakRef *maker;

  gst_rtsp_session_set_timeout (session, srv->limits.session_timeout);
  if (!m)
    return;
  maker = g_new0 (GWeakRef, 1);
  __atomic_fetch_add (&srv->sessions_total, 1, __ATOMIC_RELAXED);
  g_weak_ref_init (maker, client);
  g_object_set_data_full (G_OBJECT (session), SESSION_CLIENT_KEY, maker,
      session_client_free);
  g_atomic_int_inc (&m->sessions);
  /* A reader is a connection that sets up a session; health probes only
   * send OPTIONS and never count. */
  if (!g_atomic_int_compare_and_exchange (&m->reader, 0, 1))
    return;
  /* A reader is no longer idle. */
  g_object_set_data (G_OBJECT (client), IDLE_KEY, NULL);
  gint now = g_atomic_int_add (&srv->readers, 1) + 1;
  g_atomic_int_add (&readers_all, 1);
  rts_info ("reader connected: camera %s port %u from %s session %s, "
            "%u reader(s) now",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (client), "rts-peer"),
      gst_rtsp_session_get_sessionid (session), now);
}

/* A session is gone (TEARDOWN, or timed out): when it was its
 * connection's last, the connection is no reader any more, and idle
 * again (it held a reader's place for as long as it stayed open, and a
 * limit of readers per camera refused others for it). */
static void
session_removed (GstRTSPSession *session, RtsRtspServer *srv)
{
  GWeakRef *maker = g_object_get_data (G_OBJECT (session), SESSION_CLIENT_KEY);
  g_autoptr (GstRTSPClient) client = maker ? g_weak_ref_get (maker) : NULL;
  ReaderMark *m = client ? reader_mark (client) : NULL;
  g_autofree char *why = NULL;

  forget_joiner (srv, session, NULL);
  if (!m || !g_atomic_int_dec_and_test (&m->sessions))
    return;
  if (srv->stopping) {
    end_reader (srv, client, ": the server is stopping");
    return;
  }
  why = g_strdup_printf (": its session %s ended",
      gst_rtsp_session_get_sessionid (session));
  end_reader (srv, client, why);
  arm_idle_timer (srv, client);
}

/* A connection's idle timer: owned by its timeout source, on the main
 * loop, which the client cancels (IDLE_KEY) when it becomes a reader or
 * goes, from its own thread: a timer firing then must neither outlive
 * the timer's data nor use a client being finalized. */
typedef struct {
  Gate *gate;
  GWeakRef client;
} IdleTimer;

static void
idle_timer_free (gpointer data)
{
  IdleTimer *t = data;

  g_weak_ref_clear (&t->client);
  gate_unref (t->gate);
  g_free (t);
}

static void
idle_timer_cancel (gpointer source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

/* A connection that holds no session after the idle timeout is closed:
 * a half-open or slow client must not hold a slot forever. */
static gboolean
on_idle_timeout (gpointer data)
{
  IdleTimer *t = data;
  g_autoptr (GstRTSPClient) client = g_weak_ref_get (&t->client);
  RtsRtspServer *srv = client ? gate_enter (t->gate) : NULL;

  if (!srv)
    return G_SOURCE_REMOVE;
  __atomic_fetch_add (&srv->idle_closed, 1, __ATOMIC_RELAXED);
  rts_info ("camera %s port %u: closing connection from %s: no session "
            "after %u s",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (client), "rts-peer"),
      srv->limits.idle_timeout);
  hang_up (client);
  gate_leave (t->gate);
  return G_SOURCE_REMOVE;
}

static void unsync_sinks (GstRTSPMedia *media);

/* A reader's PLAY has been answered and its transport is on the stream:
 * it gets a keyframe within a frame rather than at the camera's next GOP.
 * (gst-rtsp-server's own seek on PLAY used to do it for live encoders,
 * flushing every reader, which --ignore-play-range stops: see
 * drop_play_range.) */
static void
play_request (GstRTSPClient *client, GstRTSPContext *ctx, RtsRtspServer *srv)
{
  if (srv->feed) {
    /* Its keyframe, planned when the answer went out (on_send_message),
     * goes now rather than at the camera's next frame. */
    rts_feed_kick (srv->feed);
  } else if (srv->probe_pad) {
    /* gst-rtsp-server turns rate control on at every PLAY (no ONVIF
     * Rate-Control header means yes), and with it its TCP sink's sync:
     * that sink would hold each frame for its timestamp again (see
     * unsync_sink). Not rate control itself turned off: that also zeroes
     * the sender reports' timestamps (ONVIF replay), and ffmpeg then
     * jumped its timestamps by hours. */
    unsync_sinks (ctx->media ? ctx->media : srv->media);
    hold_until_keyframe (srv, ctx);
  }
}

/* Whether CLIENT's peer has closed its connection or reset it (a byte
 * peeked says no: one pipelined request more is still a live peer). */
static gboolean
peer_gone (GstRTSPClient *client)
{
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);
  GSocket *sock = conn ? gst_rtsp_connection_get_read_socket (conn) : NULL;
  char byte;
  ssize_t n;

  if (!sock)
    return TRUE;
  n = recv (g_socket_get_fd (sock), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0
      || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* The slow fault: an answer waits its time on the client's thread, which
 * the camera's clients share, so the camera answers one request at a time
 * like a small one on a busy CPU; it goes at once when the fault is
 * cleared or the server stops. One whose asker has hung up goes at once
 * too, checked every 50 ms: a health probe gives up at its timeout, and
 * with a delay past it every probe's abandoned request would be held in
 * turn, the wait of everyone behind growing for as long as the fault
 * lasts (seen: 25 s for an OPTIONS 40 s into a 5,000 ms fault). A PLAY
 * answer waits before its sender plans it, the moment the readers'
 * transports have joined the stream and wait for their plan
 * (rts_feed_plan_play). */
static void
hold_answer (RtsRtspServer *srv, GstRTSPClient *client)
{
  gint ms = g_atomic_int_get (&srv->answer_delay_ms);
  gint64 end, now;

  if (ms <= 0)
    return;
  end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&srv->delay_lock);
  while (g_atomic_int_get (&srv->answer_delay_ms) > 0 && !peer_gone (client)
      && (now = g_get_monotonic_time ()) < end)
    g_cond_wait_until (&srv->delay_cond, &srv->delay_lock,
        MIN (end, now + 50 * G_TIME_SPAN_MILLISECOND));
  g_mutex_unlock (&srv->delay_lock);
}

/* An answer about to go. A loop camera's PLAY answer: its sender decides
 * where the reader starts (the keyframe of the GOP playing now) and says
 * so in RTP-Info. gst-rtsp-server's own RTP-Info would describe a
 * pipeline that carries no data. */
static void
send_message (GstRTSPClient *client, GstRTSPContext *ctx, GstRTSPMessage *msg,
    RtsRtspServer *srv)
{
  GstRTSPStatusCode code;

  if (gst_rtsp_message_get_type (msg) != GST_RTSP_MESSAGE_RESPONSE)
    return;
  hold_answer (srv, client);
  /* gst-rtsp-server's OPTIONS lists ANNOUNCE and RECORD, which get 405. */
  if (ctx && ctx->request
      && ctx->request->type_data.request.method == GST_RTSP_OPTIONS
      && gst_rtsp_message_remove_header (msg, GST_RTSP_HDR_PUBLIC, -1)
          == GST_RTSP_OK)
    gst_rtsp_message_add_header (msg, GST_RTSP_HDR_PUBLIC, METHODS);
  /* A live camera's PLAY: answered 200, it waits for the reader's
   * keyframe; one that fails never reaches play-request. */
  if (srv->joiners && ctx && ctx->request
      && ctx->request->type_data.request.method == GST_RTSP_PLAY
      && gst_rtsp_message_parse_response (msg, &code, NULL, NULL)
          == GST_RTSP_OK) {
    if (code == GST_RTSP_STS_OK)
      join_before_answer (srv, ctx, msg);
    else
      count_play (srv, -1);
  }
  if (!srv->feed || !ctx || !ctx->request || !ctx->sessmedia
      || ctx->request->type_data.request.method != GST_RTSP_PLAY
      || gst_rtsp_message_parse_response (msg, &code, NULL, NULL) != GST_RTSP_OK
      || code != GST_RTSP_STS_OK)
    return;
  rts_feed_plan_play (srv->feed, client, ctx->sessmedia, msg);
}

/* The client signals' handlers: each through the camera's gate. */
static void
on_client_closed (GstRTSPClient *client, Gate *gate)
{
  RtsRtspServer *srv = gate_enter (gate);

  if (srv) {
    client_closed (client, srv);
    gate_leave (gate);
  }
}

static void
on_new_session (GstRTSPClient *client, GstRTSPSession *session, Gate *gate)
{
  RtsRtspServer *srv = gate_enter (gate);

  if (srv) {
    new_session (client, session, srv);
    gate_leave (gate);
  }
}

static void
on_play_request (GstRTSPClient *client, GstRTSPContext *ctx, Gate *gate)
{
  RtsRtspServer *srv = gate_enter (gate);

  if (srv) {
    play_request (client, ctx, srv);
    gate_leave (gate);
  }
}

static GstRTSPStatusCode
on_pre_play_request (GstRTSPClient *client, GstRTSPContext *ctx, Gate *gate)
{
  RtsRtspServer *srv = gate_enter (gate);

  if (srv) {
    count_play (srv, 1);
    gate_leave (gate);
  }
  return GST_RTSP_STS_OK;
}

/* Before gst-rtsp-server turns a session's transports off (PAUSE,
 * TEARDOWN): a reader waiting for a keyframe is no longer waited for. */
static GstRTSPStatusCode
on_pre_stop_request (GstRTSPClient *client, GstRTSPContext *ctx, Gate *gate)
{
  RtsRtspServer *srv = gate_enter (gate);

  if (srv) {
    forget_joiner (srv, ctx->session, ctx->sessmedia);
    gate_leave (gate);
  }
  return GST_RTSP_STS_OK;
}

static void
on_send_message (GstRTSPClient *client, GstRTSPContext *ctx,
    GstRTSPMessage *msg, Gate *gate)
{
  RtsRtspServer *srv = gate_enter (gate);

  if (srv) {
    send_message (client, ctx, msg, srv);
    gate_leave (gate);
  }
}

static void
on_session_removed (GstRTSPSessionPool *pool, GstRTSPSession *session,
    Gate *gate)
{
  RtsRtspServer *srv = gate_enter (gate);

  if (srv) {
    session_removed (session, srv);
    gate_leave (gate);
  }
}

static void
connect_client (GstRTSPClient *client, const char *signal, GCallback handler,
    Gate *gate)
{
  g_signal_connect_data (client, signal, handler, gate_ref (gate),
      gate_unref_closure, 0);
}

/* CLIENT is closed if it holds no session after the idle timeout (from
 * now): at its start, and when its last session ended. */
static void
arm_idle_timer (RtsRtspServer *srv, GstRTSPClient *client)
{
  IdleTimer *idle = g_new0 (IdleTimer, 1);
  GSource *timer = g_timeout_source_new_seconds (srv->limits.idle_timeout);

  idle->gate = gate_ref (srv->gate);
  g_weak_ref_init (&idle->client, client);
  g_source_set_callback (timer, on_idle_timeout, idle, idle_timer_free);
  g_source_attach (timer, NULL);
  g_object_set_data_full (G_OBJECT (client), IDLE_KEY, timer,
      idle_timer_cancel);
}

static void
on_client_connected (GstRTSPServer *server, GstRTSPClient *client,
    RtsRtspServer *srv)
{
  g_object_set_data_full (G_OBJECT (client), READER_KEY, g_new0 (ReaderMark, 1),
      g_free);
  arm_idle_timer (srv, client);
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);
  g_autoptr (GSocketAddress) remote = NULL;
  char *peer = NULL;

  if (conn) {
    GSocket *sock = gst_rtsp_connection_get_read_socket (conn);
    remote = g_socket_get_remote_address (sock, NULL);
    /* RTP over TCP is many small writes: without this, Nagle's algorithm
     * holds each one for the reader's delayed ACK (40 ms here, measured
     * on a joining reader's first keyframe). */
    g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    /* About a second of the stream (Linux doubles it), not the 4 MiB
     * autotuning grows to: a reader that stops reading is one whose stream
     * waits once this is full and skips ahead a second later (sender.c),
     * not one 30 s behind, holding 4 MiB of kernel memory. */
    if (srv->sndbuf)
      g_socket_set_option (sock, SOL_SOCKET, SO_SNDBUF, (gint) srv->sndbuf,
          NULL);
    /* A longer Content-Length is refused before a byte of the body is
     * read: the connection closes (gst-rtsp-server answers nothing). */
    gst_rtsp_connection_set_content_length_limit (conn,
        srv->limits.max_request_bytes);
  }
  if (G_IS_INET_SOCKET_ADDRESS (remote)) {
    GInetSocketAddress *in = G_INET_SOCKET_ADDRESS (remote);
    g_autofree char *ip =
        g_inet_address_to_string (g_inet_socket_address_get_address (in));
    peer = g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (in));
  } else {
    peer = g_strdup ("unknown");
  }
  g_object_set_data_full (G_OBJECT (client), "rts-peer", peer, g_free);
  g_object_set_data_full (G_OBJECT (client), GATE_KEY, gate_ref (srv->gate),
      gate_unref);
  connect_client (client, "new-session", G_CALLBACK (on_new_session),
      srv->gate);
  connect_client (client, "closed", G_CALLBACK (on_client_closed), srv->gate);
  connect_client (client, "play-request", G_CALLBACK (on_play_request),
      srv->gate);
  connect_client (client, "send-message", G_CALLBACK (on_send_message),
      srv->gate);
  if (srv->joiners) {
    connect_client (client, "pre-play-request",
        G_CALLBACK (on_pre_play_request), srv->gate);
    connect_client (client, "pre-pause-request",
        G_CALLBACK (on_pre_stop_request), srv->gate);
    connect_client (client, "pre-teardown-request",
        G_CALLBACK (on_pre_stop_request), srv->gate);
  }
}

/* Reaps sessions whose readers vanished without TEARDOWN (UDP readers
 * killed mid-stream), after the RTSP session timeout. */
static gboolean
cleanup_sessions (gpointer data)
{
  RtsRtspServer *srv = data;
  g_autoptr (GstRTSPSessionPool) pool =
      gst_rtsp_server_get_session_pool (srv->server);
  gst_rtsp_session_pool_cleanup (pool);
  return G_SOURCE_CONTINUE;
}

static GSocket *
listen_socket (const char *bind, guint port, const RtsCamera *cam,
    GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (bind);
  g_autoptr (GSocketAddress) sa = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GError) err = NULL;

  if (!addr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "bind address '%s' is not an IP address", bind);
    return NULL;
  }
  sa = g_inet_socket_address_new (addr, port);
  sock = g_socket_new (g_inet_address_get_family (addr), G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);
  if (!sock)
    goto failed;
  /* allow_reuse: a port we closed for a fault, or a quick restart, must be
   * bindable again while old connections sit in TIME_WAIT. */
  if (!g_socket_bind (sock, sa, TRUE, &err))
    goto failed;
  g_socket_set_listen_backlog (sock, 128);
  if (!g_socket_listen (sock, &err))
    goto failed;
  /* A connection gone between the poll and the accept must not block the
   * loop in g_socket_accept. */
  g_socket_set_blocking (sock, FALSE);
  return g_steal_pointer (&sock);

  /* ERRORS */
failed:
  g_set_error (error, G_IO_ERROR, err->code,
      "cannot listen on RTSP port %u (camera %s) at %s: %s", port, cam->name,
      bind, err->message);
  return NULL;
}

RtsRtspServer *
rts_rtsp_server_new (const RtsCamera *cam, const char *bind,
    const RtsRtspLimits *limits, GError **error)
{
  RtsRtspServer *srv;
  GSocket *sock;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GstRTSPMountPoints) mounts = NULL;
  GstRTSPMediaFactory *factory;

  sock = listen_socket (bind, cam->port, cam, error);
  if (!sock)
    return NULL;

  srv = g_new0 (RtsRtspServer, 1);
  srv->gate = gate_new (srv);
  g_mutex_init (&srv->snap_lock);
  g_mutex_init (&srv->delay_lock);
  g_mutex_init (&srv->join_lock);
  g_cond_init (&srv->join_cond);
  g_cond_init (&srv->delay_cond);
  srv->cam = cam;
  srv->limits = *limits;
  srv->bind = g_strdup (bind);
  srv->socket = sock;
  srv->state = RTS_LISTEN_STARTING;
  srv->after_start = RTS_LISTEN_OPEN;
  local = g_socket_get_local_address (sock, NULL);
  srv->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  srv->server = g_object_new (rts_server_get_type (), NULL);
  g_signal_connect (srv->server, "client-connected",
      G_CALLBACK (on_client_connected), srv);
  {
    g_autoptr (GstRTSPSessionPool) pool =
        gst_rtsp_server_get_session_pool (srv->server);
    g_signal_connect_data (pool, "session-removed",
        G_CALLBACK (on_session_removed), gate_ref (srv->gate),
        gate_unref_closure, 0);
  }

  factory = g_object_new (rts_factory_get_type (), NULL);
  /* Shared: N readers of one camera cost one encoder. */
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  /* TCP and UDP always: the house reader needs the TCP sink and warm-up
   * plugs the UDP one. The camera's own choice is enforced per SETUP
   * (filter_transports). */
  gst_rtsp_media_factory_set_protocols (factory,
      GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_TCP
          | (cam->transports & RTS_TRANSPORT_MULTICAST
                  ? GST_RTSP_LOWER_TRANS_UDP_MCAST
                  : 0));
  if (cam->transports & RTS_TRANSPORT_MULTICAST) {
    /* The camera's one group and its ports: a pool of exactly that, which
     * the video stream, then the audio one, take their pairs from. */
    g_autoptr (GstRTSPAddressPool) pool = gst_rtsp_address_pool_new ();
    gst_rtsp_address_pool_add_range (pool, cam->mcast_group, cam->mcast_group,
        cam->mcast_port_min, cam->mcast_port_max, cam->mcast_ttl);
    gst_rtsp_media_factory_set_address_pool (factory, pool);
    gst_rtsp_media_factory_set_max_mcast_ttl (factory, cam->mcast_ttl);
    /* Bound to the group, not to any address: cameras share the port
     * numbers on groups of their own. */
    gst_rtsp_media_factory_set_bind_mcast_address (factory, TRUE);
  }
  srv->factory = g_object_ref (factory);
  {
    g_autoptr (GstRTSPAuth) auth = make_auth (srv, factory);
    gst_rtsp_server_set_auth (srv->server, auth);
  }
  mounts = gst_rtsp_server_get_mount_points (srv->server);
  gst_rtsp_mount_points_add_factory (mounts, cam->path, factory);

  return srv;
}

static GstPadProbeReturn
on_first_data (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RtsRtspServer *srv = data;

  g_atomic_pointer_set (&srv->first_data_us,
      GSIZE_TO_POINTER ((gsize) g_get_monotonic_time ()));
  return GST_PAD_PROBE_REMOVE;
}

/* The house was sent RTP of STREAM: the packet's SSRC first, then its
 * number, which tells sent_through() the SSRC is known. */
static void
note_sent (RtsRtspServer *srv, guint stream, GstRTPBuffer *rtp)
{
  g_atomic_int_set ((gint *) &srv->house_ssrc[stream],
      (gint) gst_rtp_buffer_get_ssrc (rtp));
  g_atomic_int_set (&srv->house_seq[stream], gst_rtp_buffer_get_seq (rtp));
}

/* The house reader: an in-process transport that takes every packet and
 * drops it. With it the camera always has one active reader, so
 * gst-rtsp-server never pauses the shared media when the last real reader
 * leaves and never resumes it for the next: that pause/resume is where its
 * races live (a DESCRIBE during teardown gets 503; a reader PLAYing into a
 * pipeline coming back gets nothing). Real readers only ever join a running
 * stream. It also sees every packet leaving the camera, and so counts what
 * every reader gets: packets, bytes, and frames (the RTP marker bit ends
 * each access unit). Only RTP counts as video: RTCP sender reports go on
 * while a camera is frozen. Runs on the stream's send thread. */
static gboolean
count_packet (GstBuffer **buffer, guint idx, gpointer data)
{
  RtsRtspServer *srv = data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  g_atomic_int_inc (&srv->house_packets);
  __atomic_fetch_add (&srv->house_bytes, (gint64) gst_buffer_get_size (*buffer),
      __ATOMIC_RELAXED);
  if (gst_rtp_buffer_map (*buffer, GST_MAP_READ, &rtp)) {
    if (gst_rtp_buffer_get_marker (&rtp))
      __atomic_fetch_add (&srv->house_frames, 1, __ATOMIC_RELAXED);
    note_sent (srv, 0, &rtp);
    gst_rtp_buffer_unmap (&rtp);
  }
  return TRUE;
}

static gboolean
house_send_rtp (GstBuffer *buffer, guint8 channel, gpointer data)
{
  return count_packet (&buffer, 0, data);
}

static gboolean
house_send_rtp_list (GstBufferList *list, guint8 channel, gpointer data)
{
  gst_buffer_list_foreach (list, count_packet, data);
  return TRUE;
}

static gboolean
house_send_rtcp (GstBuffer *buffer, guint8 channel, gpointer data)
{
  return TRUE;
}

static gboolean
house_send_rtcp_list (GstBufferList *list, guint8 channel, gpointer data)
{
  return TRUE;
}

/* gst-rtsp-server plugs a transport's sink into the running pipeline when
 * the first reader of that kind arrives, through an idle probe that asserts
 * on a race with other readers joining (seen: a UDP and a TCP reader
 * joining at once abort the process in
 * create_and_plug_queue_to_linked_stream_probe_cb). Plug the UDP and the
 * TCP sinks now, before the pipeline runs and before anyone can join. */
static gboolean plug_multicast_sink (RtsRtspServer *srv, GstRTSPStream *stream,
    GstRTSPTransport *udp);

static gboolean
plug_all_sinks (RtsRtspServer *srv, GstRTSPStream *stream,
    const GstRTSPTransport *tcp)
{
  GstRTSPTransport *udp = NULL;
  gboolean ok;

  gst_rtsp_transport_new (&udp);
  udp->trans = GST_RTSP_TRANS_RTP;
  udp->profile = GST_RTSP_PROFILE_AVP;
  udp->lower_transport = GST_RTSP_LOWER_TRANS_UDP;
  ok = gst_rtsp_stream_complete_stream (stream, tcp);
  /* A camera that offers no UDP opens no UDP port: nothing listens that the
   * configuration did not ask for. Otherwise sockets for both families, so
   * neither kind of reader triggers a late allocation; IPv6 may be absent
   * (containers), which is fine. */
  if (ok && srv->cam->transports & RTS_TRANSPORT_UDP) {
    ok = gst_rtsp_stream_allocate_udp_sockets (stream, G_SOCKET_FAMILY_IPV4,
        udp, FALSE);
    gst_rtsp_stream_allocate_udp_sockets (stream, G_SOCKET_FAMILY_IPV6, udp,
        FALSE);
    ok = ok && gst_rtsp_stream_complete_stream (stream, udp);
  }
  if (ok && srv->cam->transports & RTS_TRANSPORT_MULTICAST)
    ok = plug_multicast_sink (srv, stream, udp);
  gst_rtsp_transport_free (udp);
  return ok;
}

/* A camera is the one sender in its group, so a sender report heard there
 * is its own, looped back (always so when the group is routed via lo). Let
 * through, rtpbin takes it for another sender using our SSRC, changes
 * SSRC and sends BYE, and readers stop (ffmpeg ended after a few frames,
 * exit 0). Readers' receiver reports go on to rtpbin. */
static GstPadProbeReturn
drop_own_sender_report (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  gboolean own = FALSE;

  if (gst_rtcp_buffer_map (GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ,
          &rtcp)) {
    own = gst_rtcp_buffer_get_first_packet (&rtcp, &packet)
        && gst_rtcp_packet_get_type (&packet) == GST_RTCP_TYPE_SR;
    gst_rtcp_buffer_unmap (&rtcp);
  }
  return own ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* The pipeline gst-rtsp-server made around the media's element (it has
 * no getter for it), or NULL. */
static GstBin *
media_pipeline (GstRTSPMedia *media)
{
  g_autoptr (GstElement) bin = gst_rtsp_media_get_element (media);
  GstObject *parent = bin ? gst_object_get_parent (GST_OBJECT (bin)) : NULL;

  if (parent && !GST_IS_BIN (parent))
    g_clear_object (&parent);
  return (GstBin *) parent;
}

/* FN (element, DATA) for every element of MEDIA's pipeline, those inside
 * its bins too. One added meanwhile starts the walk over: FN may see an
 * element twice, and every caller's FN is harmless twice. */
static void
each_element (GstRTSPMedia *media, void (*fn) (GstElement *, gpointer),
    gpointer data)
{
  g_autoptr (GstBin) pipeline = media_pipeline (media);
  g_autoptr (GstIterator) it = NULL;
  GValue item = G_VALUE_INIT;

  if (!pipeline)
    return;
  it = gst_bin_iterate_recurse (pipeline);
  for (GstIteratorResult r;
       (r = gst_iterator_next (it, &item)) != GST_ITERATOR_DONE
       && r != GST_ITERATOR_ERROR;) {
    if (r == GST_ITERATOR_RESYNC) {
      gst_iterator_resync (it);
      continue;
    }
    fn (g_value_get_object (&item), data);
    g_value_reset (&item);
  }
  g_value_unset (&item);
}

/* The udpsrc reading the socket DATA gets drop_own_sender_report. */
static void
filter_socket_rtcp (GstElement *el, gpointer data)
{
  g_autoptr (GSocket) used = NULL;

  if (!g_object_class_find_property (G_OBJECT_GET_CLASS (el), "socket")
      || !g_str_equal (G_OBJECT_TYPE_NAME (el), "GstUDPSrc"))
    return;
  g_object_get (el, "socket", &used, NULL);
  if (used == data) {
    g_autoptr (GstPad) src = gst_element_get_static_pad (el, "src");
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, drop_own_sender_report,
        NULL, NULL);
  }
}

/* The udpsrc reading SOCKET, among the media's elements, gets
 * drop_own_sender_report. */
static void
filter_group_rtcp (RtsRtspServer *srv, GSocket *socket)
{
  each_element (srv->media, filter_socket_rtcp, socket);
}

/* The multicast sink, plugged now like the others (and for the same
 * race), on the camera's group: the stream takes its port pair from the
 * camera's address pool. */
static gboolean
plug_multicast_sink (RtsRtspServer *srv, GstRTSPStream *stream,
    GstRTSPTransport *udp)
{
  GSocket *sockets[2];

  udp->lower_transport = GST_RTSP_LOWER_TRANS_UDP_MCAST;
  udp->ttl = srv->cam->mcast_ttl;
  if (!gst_rtsp_stream_allocate_udp_sockets (stream, G_SOCKET_FAMILY_IPV4, udp,
          FALSE)
      || !gst_rtsp_stream_complete_stream (stream, udp)) {
    rts_warn ("camera %s: cannot bind multicast group %s ports %u-%u (taken "
              "by another program?)",
        srv->cam->name, srv->cam->mcast_group, srv->cam->mcast_port_min,
        srv->cam->mcast_port_max);
    return FALSE;
  }
  /* gst-rtsp-server binds the group's ports without SO_REUSEADDR, so a
   * reader on the same host (or in the same network namespace) cannot bind
   * them to receive: ffmpeg failed with "address in use", GStreamer with
   * "no supported stream". Both bind with SO_REUSEADDR; Linux lets a second
   * socket bind once every socket on the port allows it, and hands each
   * of them every datagram sent to the group. */
  sockets[0] =
      gst_rtsp_stream_get_rtp_multicast_socket (stream, G_SOCKET_FAMILY_IPV4);
  sockets[1] =
      gst_rtsp_stream_get_rtcp_multicast_socket (stream, G_SOCKET_FAMILY_IPV4);
  for (guint i = 0; i < 2; i++) {
    if (!sockets[i])
      continue;
    g_socket_set_option (sockets[i], SOL_SOCKET, SO_REUSEADDR, 1, NULL);
    if (i == 1)
      filter_group_rtcp (srv, sockets[i]);
    g_object_unref (sockets[i]);
  }
  return TRUE;
}

/* The audio's house was sent LAST, the last packet of a buffer or list
 * (see note_sent()). */
static void
audio_sent (RtsRtspServer *srv, GstBuffer *last)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  if (last && gst_rtp_buffer_map (last, GST_MAP_READ, &rtp)) {
    note_sent (srv, 1, &rtp);
    gst_rtp_buffer_unmap (&rtp);
  }
}

/* The audio stream's packets are counted apart: only for the send
 * thread's wake-up (nudge_send_thread), not as frames a reader gets. */
static gboolean
count_audio (GstBuffer *buffer, guint8 channel, gpointer data)
{
  RtsRtspServer *srv = data;

  g_atomic_int_inc (&srv->house_audio_packets);
  audio_sent (srv, buffer);
  return TRUE;
}

static gboolean
count_audio_list (GstBufferList *list, guint8 channel, gpointer data)
{
  RtsRtspServer *srv = data;

  g_atomic_int_add (&srv->house_audio_packets,
      (gint) gst_buffer_list_length (list));
  audio_sent (srv, list_last (list));
  return TRUE;
}

/* The house transport of stream INDEX, its sinks plugged; counting on the
 * video stream and, apart, on the audio one. */
static GstRTSPStreamTransport *
house_transport (RtsRtspServer *srv, guint index)
{
  GstRTSPStream *stream = gst_rtsp_media_get_stream (srv->media, index);
  GstRTSPTransport *tr = NULL;
  GstRTSPStreamTransport *house;

  if (!stream)
    return NULL;
  gst_rtsp_transport_new (&tr);
  tr->trans = GST_RTSP_TRANS_RTP;
  tr->profile = GST_RTSP_PROFILE_AVP;
  tr->lower_transport = GST_RTSP_LOWER_TRANS_TCP;
  tr->interleaved.min = 2 * index;
  tr->interleaved.max = 2 * index + 1;
  /* gst-rtsp-server matches RTCP from an unknown sender against every
   * transport's destination with g_ascii_strcasecmp(): NULL there was a
   * GLib critical per stray RTCP packet. No packet comes from 0.0.0.0. */
  tr->destination = g_strdup ("0.0.0.0");
  if (!plug_all_sinks (srv, stream, tr)) {
    gst_rtsp_transport_free (tr);
    return NULL;
  }
  house = gst_rtsp_stream_transport_new (stream, tr);
  if (index == 0) {
    gst_rtsp_stream_transport_set_callbacks (house, house_send_rtp,
        house_send_rtcp, srv, NULL);
    gst_rtsp_stream_transport_set_list_callbacks (house, house_send_rtp_list,
        house_send_rtcp_list, srv, NULL);
  } else {
    gst_rtsp_stream_transport_set_callbacks (house, count_audio,
        house_send_rtcp, srv, NULL);
    gst_rtsp_stream_transport_set_list_callbacks (house, count_audio_list,
        house_send_rtcp_list, srv, NULL);
  }
  if (!gst_rtsp_stream_add_transport (stream, house)) {
    g_object_unref (house);
    return NULL;
  }
  return house;
}

static gboolean
add_house_reader (RtsRtspServer *srv)
{
  g_autoptr (GPtrArray) active = g_ptr_array_new ();

  srv->house = house_transport (srv, 0);
  if (!srv->house)
    return FALSE;
  g_ptr_array_add (active, srv->house);
  if (gst_rtsp_media_n_streams (srv->media) > 1) {
    srv->house_audio = house_transport (srv, 1);
    if (!srv->house_audio)
      return FALSE;
    g_ptr_array_add (active, srv->house_audio);
  }
  return gst_rtsp_media_set_state (srv->media, GST_STATE_PLAYING, active);
}

static void
remove_house_reader (RtsRtspServer *srv)
{
  g_autoptr (GPtrArray) active = g_ptr_array_new ();
  GstRTSPStreamTransport *houses[] = { srv->house, srv->house_audio };

  if (!srv->house)
    return;
  /* Off the streams first: a stream leaves its bin (when the media goes
   * down below) only once no transport is left on it. */
  for (guint i = 0; i < G_N_ELEMENTS (houses); i++) {
    if (!houses[i])
      continue;
    gst_rtsp_stream_remove_transport (gst_rtsp_stream_transport_get_stream (
                                          houses[i]),
        houses[i]);
    g_ptr_array_add (active, houses[i]);
  }
  gst_rtsp_media_set_state (srv->media, GST_STATE_NULL, active);
  g_clear_object (&srv->house);
  g_clear_object (&srv->house_audio);
}

/* One frame a second goes on to the JPEG encoder: a picture that fresh is
 * what a person glancing at the fleet needs, at a tenth of a percent of a
 * core per camera. */
static GstPadProbeReturn
snapshot_gate (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RtsRtspServer *srv = data;
  gint64 now = g_get_monotonic_time ();

  if (srv->snap_gate_us && now - srv->snap_gate_us < G_USEC_PER_SEC)
    return GST_PAD_PROBE_DROP;
  srv->snap_gate_us = now;
  return GST_PAD_PROBE_OK;
}

static GstFlowReturn
on_snapshot (GstAppSink *sink, gpointer data)
{
  RtsRtspServer *srv = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;

  if (!buf || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  GBytes *jpeg = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  g_mutex_lock (&srv->snap_lock);
  /* A stalled camera's readers get no video: its picture stays as it was
   * (the live encoder's input runs on). */
  if (!srv->stalled_us) {
    g_clear_pointer (&srv->snapshot, g_bytes_unref);
    srv->snapshot = g_bytes_ref (jpeg);
    srv->snapshot_us = g_get_real_time ();
  }
  g_mutex_unlock (&srv->snap_lock);
  g_bytes_unref (jpeg);
  return GST_FLOW_OK;
}

GBytes *
rts_rtsp_server_snapshot (RtsRtspServer *srv, gint64 *taken_us)
{
  GBytes *jpeg = NULL;
  gint64 first = GPOINTER_TO_SIZE (g_atomic_pointer_get (&srv->first_data_us));

  if (srv->feed) {
    /* The stills follow the camera's own timeline. */
    RtsFeedCounters fc;
    rts_feed_counters (srv->feed, &fc);
    first = fc.start_us;
  }

  g_mutex_lock (&srv->snap_lock);
  if (srv->snapshot) {
    jpeg = g_bytes_ref (srv->snapshot);
    if (taken_us)
      *taken_us = srv->snapshot_us;
  } else if (srv->stills && first && srv->still_us && srv->clip_us) {
    /* The clip started with the first packet: the still of the place in
     * the clip playing now, or when a stall began (the timeline runs on;
     * readers get nothing). */
    gint64 now = g_get_monotonic_time ();
    gint64 at = srv->stalled_us ? MAX (srv->stalled_us, first) : now;
    guint64 pos = (guint64) (at - first) % srv->clip_us;
    jpeg = rts_stills_get (srv->stills, pos / srv->still_us);
    if (jpeg && taken_us)
      *taken_us =
          g_get_real_time () - (now - at) - (gint64) (pos % srv->still_us);
  }
  g_mutex_unlock (&srv->snap_lock);
  return jpeg;
}

gboolean
rts_rtsp_server_snapshots_failed (RtsRtspServer *srv)
{
  gboolean failed;

  g_mutex_lock (&srv->snap_lock);
  failed =
      srv->stills_failed || (srv->stills && rts_stills_failed (srv->stills));
  g_mutex_unlock (&srv->snap_lock);
  return failed;
}

/* Stills of one clip at most, at 640x480 (fewer for larger pictures, in
 * proportion, two at least: a 1080p file 17, a 4K one 4): a long clip or
 * file gets them further apart than a second rather than taking minutes
 * and a JPEG's megabyte each. */
#define MAX_STILLS 120
#define MAX_STILL_PIXELS (120ull * 640 * 480)

/* A loop or file camera has no raw frames to snapshot while it plays
 * (its packets were made once): its picture is rendered once in the
 * background at places of its clip at most a second (or one GOP, if
 * shorter) apart, and the snapshot is the still of the place playing. A
 * loop camera's test picture is rendered again at each GOP's start (two
 * JPEGs for the default 2 s clip); a file is decoded, sought to each
 * second. */
static void
start_stills (RtsRtspServer *srv, RtsClip *clip)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *launch = srv->cam->file
      ? rts_camera_file_stills_launch (srv->cam, &error)
      : rts_camera_stills_launch (srv->cam);
  GstClockTime length = rts_clip_duration (clip);
  /* The stills' rate and their distance, in its frames. */
  guint fps = srv->cam->file ? 1 : MAX (srv->cam->fps, 1);
  guint step = srv->cam->file ? 1 : MIN (MAX (srv->cam->gop, 1), fps);
  guint64 n,
      most = CLAMP (MAX_STILL_PIXELS
              / MAX ((guint64) srv->cam->width * srv->cam->height, 1),
          2, MAX_STILLS);

  if (!launch) {
    rts_warn ("camera %s: no snapshots: %s", srv->cam->name, error->message);
    srv->stills_failed = TRUE;
    return;
  }
  if (length == 0 || length == GST_CLOCK_TIME_NONE)
    return;
  n = gst_util_uint64_scale_ceil (length, fps, (guint64) step * GST_SECOND);
  if (n > most) {
    step = (guint) ((n * step + most - 1) / most);
    n = gst_util_uint64_scale_ceil (length, fps, (guint64) step * GST_SECOND);
  }
  srv->clip_us = length / GST_USECOND;
  srv->still_us = (guint64) step * G_USEC_PER_SEC / fps;
  srv->stills = rts_stills_new (srv->cam->name, launch, (guint) n, step, fps);
}

static void
attach_snapshot (RtsRtspServer *srv, GstElement *bin)
{
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (bin), "snap");
  g_autoptr (GstElement) queue = gst_bin_get_by_name (GST_BIN (bin), "snapq");
  GstAppSinkCallbacks cb = { .new_sample = on_snapshot };

  if (!sink || !queue)
    return;
  g_autoptr (GstPad) pad = gst_element_get_static_pad (queue, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, snapshot_gate, srv, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, srv, NULL);
}

/* The live overlay: frame number and wall clock to the millisecond, set as
 * each frame reaches the label, so a reader compares it with its own clock
 * for end-to-end latency and spots dropped frames by the numbers. */
static GstPadProbeReturn
stamp_frame (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RtsRtspServer *srv = data;
  GstElement *label = GST_ELEMENT (gst_pad_get_parent (pad));
  GDateTime *now = g_date_time_new_now_local ();
  g_autofree char *clock = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *text =
      g_strdup_printf ("%s  #%06" G_GUINT64_FORMAT "  %s.%03d", srv->cam->name,
          srv->overlay_frames++, clock,
          g_date_time_get_microsecond (now) / 1000);

  g_object_set (label, "text", text, NULL);
  g_date_time_unref (now);
  gst_object_unref (label);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
drop_all (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return GST_PAD_PROBE_DROP;
}

/* A loop camera's stream sources: the payloaders' caps, each with an SSRC
 * of its own, and one packet each, so that the media prepares (it waits
 * for a packet on every stream). That packet reaches only the house
 * reader; the feed sends the rest. */
static gboolean
setup_feed_sources (RtsRtspServer *srv, GstElement *bin, guint32 ssrc[2])
{
  for (guint i = 0; i < 2; i++) {
    const RtsRtpTrack *t = rts_rtp_clip_track (srv->rtp, i);
    g_autofree char *name = g_strdup_printf ("pay%u", i);
    g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (bin), name);
    g_autoptr (GstCaps) caps = NULL;
    GstBuffer *first;

    if (!t)
      break;
    if (!src)
      return FALSE;
    ssrc[i] = g_random_int ();
    caps = gst_caps_copy (t->caps);
    gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, ssrc[i], NULL);
    g_object_set (src, "caps", caps, "pt", t->pt, NULL);
    first = gst_buffer_new_memdup (t->packets[0].data, t->packets[0].size);
    {
      GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
      if (gst_rtp_buffer_map (first, GST_MAP_WRITE, &rtp)) {
        gst_rtp_buffer_set_ssrc (&rtp, ssrc[i]);
        gst_rtp_buffer_unmap (&rtp);
      }
    }
    if (gst_app_src_push_buffer (GST_APP_SRC (src), first) != GST_FLOW_OK)
      return FALSE;
  }
  return TRUE;
}

/* Nothing of a loop camera's pipeline reaches a reader: the feed sends it
 * all. Not the packet each stream prepared with (setup_feed_sources),
 * held at rtpbin until the media plays: let through, it would wait in the
 * TCP appsink until something woke gst-rtsp-server's send thread, and then
 * go to whichever readers were there, a packet from another stream in the
 * middle of theirs (seen). Nor rtpbin's RTCP: having seen that one packet,
 * it would report on it for ever after, with counts and timestamps nobody's
 * stream has; the feed's sender reports are the only ones. Before the
 * media plays. */
static void
silence_rtpbin (GstElement *el, gpointer data)
{
  GstRTSPMedia *media = data;

  if (!g_str_equal (G_OBJECT_TYPE_NAME (el), "GstRtpBin"))
    return;
  for (guint i = 0; i < gst_rtsp_media_n_streams (media); i++) {
    const char *kinds[] = { "send_rtp_src", "send_rtcp_src" };
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
      g_autofree char *name = g_strdup_printf ("%s_%u", kinds[k], i);
      g_autoptr (GstPad) pad = gst_element_get_static_pad (el, name);
      if (pad)
        gst_pad_add_probe (pad,
            GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
            drop_all, NULL, NULL);
    }
  }
}

static void
silence_pipeline (RtsRtspServer *srv)
{
  each_element (srv->media, silence_rtpbin, srv->media);
}

/* The camera's name as its RTCP CNAME, in the SDP's a=ssrc lines as in
 * the sender reports (RFC 5576: they must match; rtpbin's own was a
 * "user...@host" the feed's reports did not carry). */
static void
name_rtpbin (GstElement *el, gpointer data)
{
  GstStructure *sdes = NULL;

  if (!g_str_equal (G_OBJECT_TYPE_NAME (el), "GstRtpBin"))
    return;
  g_object_get (el, "sdes", &sdes, NULL);
  if (!sdes)
    sdes = gst_structure_new_empty ("application/x-rtp-source-sdes");
  gst_structure_set (sdes, "cname", G_TYPE_STRING, (const char *) data, NULL);
  g_object_set (el, "sdes", sdes, NULL);
  gst_structure_free (sdes);
}

/* A live camera sends each frame as its encoder makes it. Its RTP sinks,
 * which gst-rtsp-server adds as readers of each transport come, would hold
 * every frame until the clock reaches its timestamp: measured with a probe
 * after the encoder, frames reached readers 53 ms after they were made at
 * 30 fps, a joining reader its keyframe 54 to 88 ms after PLAY (3 to 37
 * without), and the overlay's wall clock showed that wait as network
 * latency. The live sources pace the stream already. */
static void
unsync_sink (GstBin *pipeline, GstBin *bin, GstElement *el, gpointer data)
{
  if (GST_IS_BASE_SINK (el))
    g_object_set (el, "sync", FALSE, NULL);
}

static void
unsync_element (GstElement *el, gpointer data)
{
  unsync_sink (NULL, NULL, el, NULL);
}

/* Every sink of MEDIA's pipeline, as unsync_sink does for each as it
 * comes. */
static void
unsync_sinks (GstRTSPMedia *media)
{
  each_element (media, unsync_element, NULL);
}

/* The sender takes over a prepared, playing loop camera. */
static void
start_feed (RtsRtspServer *srv, const guint32 ssrc[2])
{
  RtsFeedSetup setup = {
    .cname = srv->cam->name,
    .clip = srv->rtp,
    .ssrc = { ssrc[0], ssrc[1] },
  };
  GstRTSPStreamTransport *houses[] = { srv->house, srv->house_audio };

  for (guint i = 0; i < 2 && rts_rtp_clip_track (srv->rtp, i); i++) {
    setup.streams[i] = gst_rtsp_media_get_stream (srv->media, i);
    setup.house[i] = houses[i];
  }
  srv->feed = rts_feed_new (&setup);
}

RtsRtpClip *
rts_rtsp_server_rtp_clip (RtsRtspServer *srv)
{
  return srv->rtp;
}

gboolean
rts_rtsp_server_warm_up (RtsRtspServer *srv, RtsClip *clip, RtsRtpClip *rtp,
    GError **error)
{
  g_autofree char *launch = NULL;
  g_autofree char *uri =
      g_strdup_printf ("rtsp://127.0.0.1:%u%s", srv->port, srv->cam->path);
  GstRTSPUrl *url = NULL;
  GstRTSPContext ctx = { 0 };
  g_autoptr (GstRTSPThreadPool) pool = NULL;
  GstRTSPThread *thread;
  g_autoptr (GstElement) bin = NULL;
  guint32 ssrc[2] = { 0 };

  if (clip) {
    g_autoptr (GError) err = NULL;
    rts_feed_src_register ();
    srv->rtp = rtp ? rts_rtp_clip_ref (rtp) : rts_rtp_clip_new (clip, &err);
    if (!srv->rtp) {
      g_set_error (error, RTS_CLIP_ERROR, err->code, "camera %s: %s",
          srv->cam->name, err->message);
      return FALSE;
    }
  }
  launch = rts_camera_launch (srv->cam, clip);
  gst_rtsp_media_factory_set_launch (srv->factory, launch);
  gst_rtsp_url_parse (uri, &url);
  srv->media = gst_rtsp_media_factory_construct (srv->factory, url);
  gst_rtsp_url_free (url);
  if (!srv->media)
    goto failed;

  bin = gst_rtsp_media_get_element (srv->media);
  if (clip) {
    if (!setup_feed_sources (srv, bin, ssrc))
      goto failed;
    start_stills (srv, clip);
  } else {
    g_autoptr (GstElement) pay = gst_bin_get_by_name (GST_BIN (bin), "pay0");
    srv->probe_pad = gst_element_get_static_pad (pay, "src");
    srv->probe_id = gst_pad_add_probe (srv->probe_pad,
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
        on_first_data, srv, NULL);
    {
      /* MJPEG too: every frame is whole, but RTP-Info must still name
       * the reader's first packet (gst-rtsp-server's named one a few
       * before, and rtspsrc's first picture came after 2 s). */
      g_autoptr (GstElement) apay = gst_bin_get_by_name (GST_BIN (bin), "pay1");
      srv->joiners = g_ptr_array_new_with_free_func (joiner_free);
      srv->join_codec = g_strcmp0 (srv->cam->codec, "h265") == 0 ? JOIN_H265
          : g_strcmp0 (srv->cam->codec, "mjpeg") == 0            ? JOIN_JPEG
                                                                 : JOIN_H264;
      srv->next_aseq = -1;
      for (guint i = 0; i < 2; i++)
        srv->tcp_seq[i] = srv->house_seq[i] = -1;
      gst_pad_add_probe (srv->probe_pad,
          GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
          keyframe_gate, srv, NULL);
      if (apay) {
        g_autoptr (GstPad) asrc = gst_element_get_static_pad (apay, "src");
        gst_pad_add_probe (asrc,
            GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
            audio_gate, srv, NULL);
      }
    }
    attach_snapshot (srv, bin);
    {
      g_autoptr (GstBin) pipeline = media_pipeline (srv->media);
      if (pipeline)
        g_signal_connect (pipeline, "deep-element-added",
            G_CALLBACK (unsync_sink), NULL);
      if (pipeline && srv->joiners)
        g_signal_connect (pipeline, "deep-element-added",
            G_CALLBACK (gate_sink), srv);
    }
  }
  if (srv->cam->overlay) {
    g_autoptr (GstElement) label = gst_bin_get_by_name (GST_BIN (bin), "label");
    g_autoptr (GstPad) sink = gst_element_get_static_pad (label, "video_sink");
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, stamp_frame, srv, NULL);
  }

  ctx.server = srv->server;
  pool = gst_rtsp_server_get_thread_pool (srv->server);
  thread =
      gst_rtsp_thread_pool_get_thread (pool, GST_RTSP_THREAD_TYPE_MEDIA, &ctx);
  if (!thread || !gst_rtsp_media_prepare (srv->media, thread))
    goto failed;
  each_element (srv->media, name_rtpbin, (gpointer) srv->cam->name);
  if (clip)
    silence_pipeline (srv);
  if (!add_house_reader (srv))
    goto failed;
  if (clip)
    start_feed (srv, ssrc);
  {
    guint64 rate = (guint64) srv->cam->bitrate * 1000 / 8;
    if (srv->rtp) {
      /* What the clip really sends, audio included. */
      rate = 0;
      for (guint i = 0; i < 2 && rts_rtp_clip_track (srv->rtp, i); i++) {
        const RtsRtpTrack *t = rts_rtp_clip_track (srv->rtp, i);
        guint64 bytes = 0;
        for (guint k = 0; k < t->n; k++)
          bytes += t->packets[k].size + 4;
        rate += gst_util_uint64_scale (bytes, GST_SECOND, t->length);
      }
    }
    srv->sndbuf = (guint) CLAMP (rate, 64 * 1024, 4 << 20);
  }
  if (srv->cam->transports & RTS_TRANSPORT_MULTICAST)
    rts_info ("camera %s: multicast group %s ports %u-%u ttl %u",
        srv->cam->name, srv->cam->mcast_group, srv->cam->mcast_port_min,
        srv->cam->mcast_port_last, srv->cam->mcast_ttl);
  return TRUE;

  /* ERRORS */
failed:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
      "camera %s: its %s pipeline would not start (are its elements "
      "installed? x264enc: gstreamer1.0-plugins-ugly; x265enc, voaacenc: "
      "gstreamer1.0-plugins-bad)",
      srv->cam->name, srv->cam->codec);
  return FALSE;
}

void
rts_rtsp_server_set_stalled (RtsRtspServer *srv, gboolean stalled)
{
  /* The snapshot freezes with the video (rts_rtsp_server_snapshot). */
  g_mutex_lock (&srv->snap_lock);
  if (!stalled)
    srv->stalled_us = 0;
  else if (!srv->stalled_us)
    srv->stalled_us = g_get_monotonic_time ();
  g_mutex_unlock (&srv->snap_lock);
  if (srv->feed)
    rts_feed_set_stalled (srv->feed, stalled);
  else if (stalled && !srv->stall_id && srv->probe_pad)
    srv->stall_id = gst_pad_add_probe (srv->probe_pad,
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, drop_all,
        NULL, NULL);
  else if (!stalled && srv->stall_id) {
    gst_pad_remove_probe (srv->probe_pad, srv->stall_id);
    srv->stall_id = 0;
  }
}

void
rts_rtsp_server_counters (RtsRtspServer *srv, RtsCameraCounters *c)
{
  if (srv->feed) {
    RtsFeedCounters fc;
    rts_feed_counters (srv->feed, &fc);
    c->frames = fc.frames;
    c->bytes = fc.bytes;
    c->reader_waits = fc.waits;
    c->frames_dropped = fc.frames_dropped;
  } else {
    c->frames = __atomic_load_n (&srv->house_frames, __ATOMIC_RELAXED);
    c->bytes = __atomic_load_n (&srv->house_bytes, __ATOMIC_RELAXED);
    c->reader_waits = 0;
    c->frames_dropped = 0;
  }
  c->sessions = __atomic_load_n (&srv->sessions_total, __ATOMIC_RELAXED);
  c->refused = __atomic_load_n (&srv->refused, __ATOMIC_RELAXED);
  c->idle_closed = __atomic_load_n (&srv->idle_closed, __ATOMIC_RELAXED);
  c->auth_failures = __atomic_load_n (&srv->auth_failures, __ATOMIC_RELAXED);
}

void
rts_rtsp_server_set_reject (RtsRtspServer *srv, guint status)
{
  g_atomic_int_set (&srv->reject_status, (gint) status);
}

void
rts_rtsp_server_set_answer_delay (RtsRtspServer *srv, guint ms)
{
  /* Once stopping, no answer is held again: the server is freed soon. */
  if (ms && srv->stopping)
    return;
  g_mutex_lock (&srv->delay_lock);
  g_atomic_int_set (&srv->answer_delay_ms, (gint) ms);
  g_cond_broadcast (&srv->delay_cond);
  g_mutex_unlock (&srv->delay_lock);
}

void
rts_rtsp_server_set_refuse_udp (RtsRtspServer *srv, gboolean refuse)
{
  g_atomic_int_set (&srv->refuse_udp, refuse);
}

typedef struct {
  gboolean rst;
  guint dropped;
} Drop;

static GstRTSPFilterResult
drop_reader (GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
  Drop *drop = data;
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);

  if (!is_reader (client) || !conn)
    return GST_RTSP_FILTER_KEEP;
  /* The client is never closed from here (FILTER_REMOVE): that closed its
   * connection under its own watch, which then spun on a stream that was
   * gone, logging a critical each time, its port dead for good (seen under
   * load). The watch closes it on its own path once the socket ends. */
  if (drop->rst) {
    /* A zero linger turns that close into a reset: the reader sees
     * ECONNRESET, as when a camera reboots or a NAT forgets it. Only the
     * read side ends here, so the peer gets no FIN before it. */
    GSocket *sock = gst_rtsp_connection_get_read_socket (conn);
    struct linger lg = { 1, 0 };
    setsockopt (g_socket_get_fd (sock), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    g_socket_shutdown (sock, TRUE, FALSE, NULL);
  } else {
    hang_up (client);
  }
  drop->dropped++;
  return GST_RTSP_FILTER_KEEP;
}

guint
rts_rtsp_server_drop_readers (RtsRtspServer *srv, gboolean rst)
{
  Drop drop = { rst, 0 };

  gst_rtsp_server_client_filter (srv->server, drop_reader, &drop);
  return drop.dropped;
}

guint
rts_rtsp_server_packets (RtsRtspServer *srv)
{
  if (srv->feed) {
    RtsFeedCounters fc;
    rts_feed_counters (srv->feed, &fc);
    return (guint) fc.packets;
  }
  return (guint) g_atomic_int_get (&srv->house_packets);
}

gboolean
rts_rtsp_server_has_data (RtsRtspServer *srv)
{
  if (srv->feed)
    return rts_rtsp_server_packets (srv) > 0;
  return g_atomic_pointer_get (&srv->first_data_us) != NULL;
}

/* How long without video before the send thread is woken: 250 ms, or two
 * frames' time for a camera slower than 8 fps (at 1 fps every look found
 * it "silent" and woke it, three times a frame, logged every 10 s). */
static guint
nudge_ms (const RtsRtspServer *srv)
{
  return MAX (250u, 2000u / MAX (srv->cam->fps, 1u));
}

/* gst-rtsp-server 1.22's TCP send thread (rtsp-stream.c, send_func) can
 * sleep for good with an RTP sample waiting: it takes one message per
 * wake-up, RTCP first, so when an RTP and an RTCP sample arrive between
 * its wake-up and its look at the counter, it sends the RTCP one and
 * sleeps until the counter moves again. The RTP appsink (one sample deep)
 * stays full, the stream's thread blocks pushing the next sample, the tee
 * behind it stops UDP too, and only RTCP (every few seconds) wakes the
 * thread again: to send RTCP. The camera stalls for good (seen at
 * start-up on a loaded machine, and after the process was frozen).
 * "Message sent" on a TCP transport also bumps the counter, so every
 * 250 ms without video the house reader reports one: the thread wakes,
 * finds the RTP sample and the stream flows again. Harmless otherwise (an
 * empty backlog is looked at, the thread finds nothing). The audio
 * stream has a send thread of its own, which sleeps the same way while
 * video flows on (seen under ASan: a live camera's audio gone for minutes,
 * until a TCP reader joined): it is looked at apart, audio sending tens
 * of packets a second (AAC about 47, Opus and G.711 50). */
static gboolean
nudge_send_thread (gpointer data)
{
  RtsRtspServer *srv = data;
  gint packets = g_atomic_int_get (&srv->house_packets);
  gint audio = g_atomic_int_get (&srv->house_audio_packets);
  gboolean video_silent = packets == srv->nudge_last_packets;
  gboolean audio_silent = srv->house_audio && audio == srv->nudge_last_audio;

  srv->nudge_last_packets = packets;
  srv->nudge_last_audio = audio;
  /* A loop camera's pipeline carries no data: nothing to wake. */
  if (srv->feed || srv->stall_id || !srv->house
      || (!video_silent && !audio_silent))
    return G_SOURCE_CONTINUE;
  srv->nudges++;
  if (video_silent)
    gst_rtsp_stream_transport_message_sent (srv->house);
  if (srv->house_audio)
    gst_rtsp_stream_transport_message_sent (srv->house_audio);
  if (g_get_monotonic_time () - srv->nudge_logged_us > 10 * G_USEC_PER_SEC) {
    srv->nudge_logged_us = g_get_monotonic_time ();
    rts_info ("camera %s: no %s for %u ms; waking gst-rtsp-server's "
              "send thread (%" G_GUINT64_FORMAT " time(s) so far)",
        srv->cam->name,
        video_silent && audio_silent ? "video or audio"
            : video_silent           ? "video"
                                     : "audio",
        nudge_ms (srv), srv->nudges);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
apply_listen_state (RtsRtspServer *srv, RtsListenState state, GError **error);

void
rts_rtsp_server_start (RtsRtspServer *srv)
{
  g_autoptr (GError) err = NULL;

  if (!apply_listen_state (srv, srv->after_start, &err))
    g_warning ("camera %s: %s", srv->cam->name, err->message);
  if (!srv->cleanup_id)
    srv->cleanup_id = g_timeout_add_seconds (2, cleanup_sessions, srv);
  if (!srv->nudge_id)
    srv->nudge_id = g_timeout_add (nudge_ms (srv), nudge_send_thread, srv);
}

const RtsCamera *
rts_rtsp_server_camera (const RtsRtspServer *srv)
{
  return srv->cam;
}

guint
rts_rtsp_server_port (const RtsRtspServer *srv)
{
  return srv->port;
}

RtsListenState
rts_rtsp_server_listen_state (const RtsRtspServer *srv)
{
  return srv->state;
}

const char *
rts_listen_state_name (RtsListenState state)
{
  switch (state) {
    case RTS_LISTEN_OPEN:
      return "open";
    case RTS_LISTEN_HUNG:
      return "hung";
    case RTS_LISTEN_CLOSED:
      return "closed";
    case RTS_LISTEN_STARTING:
      return "starting";
  }
  return "unknown";
}

static void
stop_accepting (RtsRtspServer *srv)
{
  g_clear_pointer (&srv->acceptor, rts_acceptor_free);
}

/* gst_rtsp_server_io_func accepts the connection and attaches the new
 * client to the context of the source that called it: the acceptor's, the
 * default one. A failed accept it only logs. */
static gboolean
take_connection (GSocket *listener, gpointer data)
{
  RtsRtspServer *srv = data;

  gst_rtsp_server_io_func (listener, G_IO_IN, srv->server);
  return TRUE;
}

static void
start_accepting (RtsRtspServer *srv)
{
  g_autofree char *what =
      g_strdup_printf ("RTSP port %u (camera %s)", srv->port, srv->cam->name);

  srv->acceptor =
      rts_acceptor_new (srv->socket, NULL, what, NULL, take_connection, srv);
}

static gboolean
apply_listen_state (RtsRtspServer *srv, RtsListenState state, GError **error)
{
  if (state == srv->state)
    return TRUE;

  stop_accepting (srv);
  if (state == RTS_LISTEN_CLOSED) {
    g_socket_close (srv->socket, NULL);
    g_clear_object (&srv->socket);
  } else if (!srv->socket) {
    srv->socket = listen_socket (srv->bind, srv->port, srv->cam, error);
    if (!srv->socket) {
      srv->state = RTS_LISTEN_CLOSED;
      return FALSE;
    }
  }
  if (state == RTS_LISTEN_OPEN)
    start_accepting (srv);
  srv->state = state;
  return TRUE;
}

gboolean
rts_rtsp_server_set_listen_state (RtsRtspServer *srv, RtsListenState state,
    GError **error)
{
  /* A fault injected or cleared while the cameras warm up (the HTTP API
   * already answers) takes effect when the port starts: a hang-port then
   * was overwritten by the start (listen "open" beside fault "hang-port"),
   * and a cleared one opened the port before the camera had video. */
  if (srv->state == RTS_LISTEN_STARTING && !srv->stopping) {
    srv->after_start = state;
    return TRUE;
  }
  return apply_listen_state (srv, state, error);
}

guint
rts_rtsp_server_readers (const RtsRtspServer *srv)
{
  return (guint) g_atomic_int_get (&srv->readers);
}

guint
rts_rtsp_server_connections (RtsRtspServer *srv)
{
  GList *clients = gst_rtsp_server_client_filter (srv->server, NULL, NULL);
  guint n = g_list_length (clients);
  g_list_free_full (clients, g_object_unref);
  return n;
}

/* Every connection ends, each client then closing on its own path (see
 * hang_up): FILTER_REMOVE would close it from this thread, under its own
 * watch, which then spun on the closed connection logging a critical per
 * turn until the process exited (seen at shutdown under load: thousands of
 * lines, the last one cut short). */
static GstRTSPFilterResult
hang_up_all_clients (GstRTSPServer *server, GstRTSPClient *client,
    gpointer data)
{
  hang_up (client);
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
remove_all_sessions (GstRTSPSessionPool *pool, GstRTSPSession *session,
    gpointer data)
{
  return GST_RTSP_FILTER_REMOVE;
}

void
rts_rtsp_server_stop (RtsRtspServer *srv)
{
  srv->stopping = TRUE;
  g_autoptr (GstRTSPSessionPool) pool = NULL;

  rts_rtsp_server_set_answer_delay (srv, 0);
  rts_rtsp_server_set_listen_state (srv, RTS_LISTEN_CLOSED, NULL);
  gst_rtsp_server_client_filter (srv->server, hang_up_all_clients, NULL);
  pool = gst_rtsp_server_get_session_pool (srv->server);
  gst_rtsp_session_pool_filter (pool, remove_all_sessions, NULL);
}

void
rts_rtsp_server_free (RtsRtspServer *srv)
{
  if (!srv)
    return;
  srv->stopping = TRUE;
  /* Clients may outlive us by a little while they close: held answers
   * go, handlers running finish, and later ones find the gate closed. */
  rts_rtsp_server_set_answer_delay (srv, 0);
  gate_close (srv->gate);
  g_clear_handle_id (&srv->cleanup_id, g_source_remove);
  g_clear_handle_id (&srv->nudge_id, g_source_remove);
  stop_accepting (srv);
  if (srv->socket)
    g_socket_close (srv->socket, NULL);
  g_clear_object (&srv->socket);
  g_signal_handlers_disconnect_by_data (srv->server, srv);
  if (srv->probe_pad && !rts_rtsp_server_has_data (srv))
    gst_pad_remove_probe (srv->probe_pad, srv->probe_id);
  rts_rtsp_server_set_stalled (srv, FALSE);
  g_clear_object (&srv->probe_pad);
  /* No send may start once the pipeline begins to go down. */
  g_clear_pointer (&srv->feed, rts_feed_free);
  g_clear_pointer (&srv->rtp, rts_rtp_clip_unref);
  if (srv->media) {
    g_autoptr (GstBin) pipeline = media_pipeline (srv->media);
    /* Taking the house reader off drops our own prepare as well. */
    remove_house_reader (srv);
    /* And the pipeline stops now, its streaming threads joined: the media
     * goes down on gst-rtsp-server's own thread, later, and a live
     * camera's snapshot and overlay probes, which hold SRV, ran on after
     * it was freed (a use-after-free the sanitizer build saw at exit). */
    if (pipeline) {
      gst_element_set_state (GST_ELEMENT (pipeline), GST_STATE_NULL);
      g_signal_handlers_disconnect_by_data (pipeline, srv);
    }
  }
  g_clear_object (&srv->media);
  g_clear_object (&srv->factory);
  g_clear_object (&srv->server);
  /* The pipeline is down: no more snapshots arrive. */
  g_clear_pointer (&srv->stills, rts_stills_free);
  g_clear_pointer (&srv->snapshot, g_bytes_unref);
  g_clear_pointer (&srv->joiners, g_ptr_array_unref);
  g_mutex_clear (&srv->join_lock);
  g_cond_clear (&srv->join_cond);
  g_mutex_clear (&srv->snap_lock);
  g_mutex_clear (&srv->delay_lock);
  g_cond_clear (&srv->delay_cond);
  g_free (srv->bind);
  gate_unref (srv->gate);
  g_free (srv);
}
