/* rtsp_servers: see rtsp_servers.h. */
#include "rtsp_servers.h"

#include "log.h"

#include <string.h>
#include <sys/socket.h>

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/rtsp-server/rtsp-server.h>

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

struct RtsRtspServer {
  const RtsCamera *cam;
  char *bind;
  guint port;
  RtsListenState state;
  GSocket *socket;        /* NULL while closed */
  GSource *accept_source; /* NULL unless open */
  GstRTSPServer *server;
  GstRTSPMediaFactory *factory;
  GstRTSPMedia *media; /* kept prepared for the server's life */
  gulong probe_id;
  GstPad *probe_pad;
  gpointer first_data_us; /* atomic: monotonic us of the first RTP */
  guint readers;
  guint cleanup_id;
  GstRTSPStreamTransport *house;
  gint house_packets;  /* atomic */
  gulong stall_id;     /* drop probe while a stall fault holds */
  gint64 house_frames; /* atomic: RTP packets with the marker bit */
  gint64 house_bytes;  /* atomic */
  guint64 sessions_total;
  gboolean refuse_udp; /* fault: 461 to UDP SETUP */
  gboolean stopping;
};

#define READER_KEY "rts-reader"

static void
on_client_closed (GstRTSPClient *client, RtsRtspServer *srv)
{
  if (!g_object_get_data (G_OBJECT (client), READER_KEY))
    return;
  g_object_set_data (G_OBJECT (client), READER_KEY, NULL);
  srv->readers--;
  rts_info ("reader disconnected: camera %s port %u from %s, %u reader(s) now",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (client), "rts-peer"),
      srv->readers);
}

static void
on_new_session (GstRTSPClient *client, GstRTSPSession *session,
    RtsRtspServer *srv)
{
  /* A reader is a connection that sets up a session; health probes only
   * send OPTIONS and never count. */
  if (g_object_get_data (G_OBJECT (client), READER_KEY))
    return;
  g_object_set_data (G_OBJECT (client), READER_KEY, GINT_TO_POINTER (1));
  srv->readers++;
  srv->sessions_total++;
  rts_info ("reader connected: camera %s port %u from %s session %s, "
            "%u reader(s) now",
      srv->cam->name, srv->port,
      (const char *) g_object_get_data (G_OBJECT (client), "rts-peer"),
      gst_rtsp_session_get_sessionid (session), srv->readers);
}

/* The refuse-udp fault: a SETUP that offers no TCP transport gets 461, as
 * a camera behind a NAT or a load balancer answers; clients that also
 * offer TCP, or retry with it, get TCP. */
static GstRTSPStatusCode
on_pre_setup (GstRTSPClient *client, GstRTSPContext *ctx, RtsRtspServer *srv)
{
  char *transport = NULL;

  if (!srv->refuse_udp || !ctx->request)
    return GST_RTSP_STS_OK;
  gst_rtsp_message_get_header (ctx->request, GST_RTSP_HDR_TRANSPORT, &transport,
      0);
  if (transport && strstr (transport, "RTP/AVP/TCP"))
    return GST_RTSP_STS_OK;
  return GST_RTSP_STS_UNSUPPORTED_TRANSPORT;
}

static void
on_client_connected (GstRTSPServer *server, GstRTSPClient *client,
    RtsRtspServer *srv)
{
  GstRTSPConnection *conn = gst_rtsp_client_get_connection (client);
  g_autoptr (GSocketAddress) remote = NULL;
  char *peer = NULL;

  if (conn) {
    remote =
        g_socket_get_remote_address (gst_rtsp_connection_get_read_socket (conn),
            NULL);
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
  g_signal_connect (client, "new-session", G_CALLBACK (on_new_session), srv);
  g_signal_connect (client, "closed", G_CALLBACK (on_client_closed), srv);
  g_signal_connect (client, "pre-setup-request", G_CALLBACK (on_pre_setup),
      srv);
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
        "--bind: '%s' is not an IP address", bind);
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
  return g_steal_pointer (&sock);

  /* ERRORS */
failed:
  g_set_error (error, G_IO_ERROR, err->code,
      "cannot listen on RTSP port %u (camera %s) at %s: %s", port, cam->name,
      bind, err->message);
  return NULL;
}

RtsRtspServer *
rts_rtsp_server_new (const RtsCamera *cam, const char *bind, GError **error)
{
  RtsRtspServer *srv;
  GSocket *sock;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GstRTSPMountPoints) mounts = NULL;
  GstRTSPMediaFactory *factory;
  g_autofree char *launch = NULL;

  sock = listen_socket (bind, cam->port, cam, error);
  if (!sock)
    return NULL;

  srv = g_new0 (RtsRtspServer, 1);
  srv->cam = cam;
  srv->bind = g_strdup (bind);
  srv->socket = sock;
  srv->state = RTS_LISTEN_HUNG; /* listening, not answering yet */
  local = g_socket_get_local_address (sock, NULL);
  srv->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  srv->server = gst_rtsp_server_new ();
  g_signal_connect (srv->server, "client-connected",
      G_CALLBACK (on_client_connected), srv);

  factory = g_object_new (rts_factory_get_type (), NULL);
  launch = rts_camera_launch (cam);
  gst_rtsp_media_factory_set_launch (factory, launch);
  /* Shared: N readers of one camera cost one encoder. */
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  /* Multicast is not offered: it needs routing no test rig has. */
  gst_rtsp_media_factory_set_protocols (factory,
      GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_TCP);
  srv->factory = g_object_ref (factory);
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

/* The house reader: an in-process transport that takes every packet and
 * drops it. With it the camera always has one active reader, so
 * gst-rtsp-server never pauses the shared media when the last real reader
 * leaves and never resumes it for the next: that pause/resume is where its
 * races live (a DESCRIBE during teardown gets 503; a reader PLAYing into a
 * pipeline coming back gets nothing). Real readers only ever join a running
 * stream. It also sees every packet leaving the camera. */
/* Only RTP counts as video: RTCP sender reports go on while a camera is
 * frozen. */
/* Counts what every reader gets: packets, bytes, and frames (the RTP
 * marker bit ends each access unit). Runs on the stream's send thread. */
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
static gboolean
plug_all_sinks (GstRTSPStream *stream, const GstRTSPTransport *tcp)
{
  GstRTSPTransport *udp = NULL;
  gboolean ok;

  gst_rtsp_transport_new (&udp);
  udp->trans = GST_RTSP_TRANS_RTP;
  udp->profile = GST_RTSP_PROFILE_AVP;
  udp->lower_transport = GST_RTSP_LOWER_TRANS_UDP;
  /* Sockets for both families, so neither kind of reader triggers a late
   * allocation; IPv6 may be absent (containers), which is fine. */
  ok = gst_rtsp_stream_allocate_udp_sockets (stream, G_SOCKET_FAMILY_IPV4, udp,
      FALSE);
  gst_rtsp_stream_allocate_udp_sockets (stream, G_SOCKET_FAMILY_IPV6, udp,
      FALSE);
  ok = ok && gst_rtsp_stream_complete_stream (stream, udp)
      && gst_rtsp_stream_complete_stream (stream, tcp);
  gst_rtsp_transport_free (udp);
  return ok;
}

static gboolean
add_house_reader (RtsRtspServer *srv)
{
  GstRTSPStream *stream = gst_rtsp_media_get_stream (srv->media, 0);
  GstRTSPTransport *tr = NULL;
  g_autoptr (GPtrArray) active = g_ptr_array_new ();

  if (!stream)
    return FALSE;
  gst_rtsp_transport_new (&tr);
  tr->trans = GST_RTSP_TRANS_RTP;
  tr->profile = GST_RTSP_PROFILE_AVP;
  tr->lower_transport = GST_RTSP_LOWER_TRANS_TCP;
  tr->interleaved.min = 0;
  tr->interleaved.max = 1;
  if (!plug_all_sinks (stream, tr)) {
    gst_rtsp_transport_free (tr);
    return FALSE;
  }
  srv->house = gst_rtsp_stream_transport_new (stream, tr);
  gst_rtsp_stream_transport_set_callbacks (srv->house, house_send_rtp,
      house_send_rtcp, srv, NULL);
  gst_rtsp_stream_transport_set_list_callbacks (srv->house, house_send_rtp_list,
      house_send_rtcp_list, srv, NULL);
  if (!gst_rtsp_stream_add_transport (stream, srv->house))
    return FALSE;
  g_ptr_array_add (active, srv->house);
  return gst_rtsp_media_set_state (srv->media, GST_STATE_PLAYING, active);
}

static void
remove_house_reader (RtsRtspServer *srv)
{
  g_autoptr (GPtrArray) active = g_ptr_array_new ();

  if (!srv->house)
    return;
  /* Off the stream first: a stream leaves its bin (when the media goes
   * down below) only once no transport is left on it. */
  gst_rtsp_stream_remove_transport (gst_rtsp_stream_transport_get_stream (
                                        srv->house),
      srv->house);
  g_ptr_array_add (active, srv->house);
  gst_rtsp_media_set_state (srv->media, GST_STATE_NULL, active);
  g_clear_object (&srv->house);
}

gboolean
rts_rtsp_server_warm_up (RtsRtspServer *srv, GError **error)
{
  g_autofree char *uri =
      g_strdup_printf ("rtsp://127.0.0.1:%u%s", srv->port, srv->cam->path);
  GstRTSPUrl *url = NULL;
  GstRTSPContext ctx = { 0 };
  g_autoptr (GstRTSPThreadPool) pool = NULL;
  GstRTSPThread *thread;
  g_autoptr (GstElement) bin = NULL;
  g_autoptr (GstElement) pay = NULL;

  gst_rtsp_url_parse (uri, &url);
  srv->media = gst_rtsp_media_factory_construct (srv->factory, url);
  gst_rtsp_url_free (url);
  if (!srv->media)
    goto failed;

  bin = gst_rtsp_media_get_element (srv->media);
  pay = gst_bin_get_by_name (GST_BIN (bin), "pay0");
  srv->probe_pad = gst_element_get_static_pad (pay, "src");
  srv->probe_id = gst_pad_add_probe (srv->probe_pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_first_data,
      srv, NULL);

  ctx.server = srv->server;
  pool = gst_rtsp_server_get_thread_pool (srv->server);
  thread =
      gst_rtsp_thread_pool_get_thread (pool, GST_RTSP_THREAD_TYPE_MEDIA, &ctx);
  if (!thread || !gst_rtsp_media_prepare (srv->media, thread))
    goto failed;
  if (!add_house_reader (srv))
    goto failed;
  return TRUE;

  /* ERRORS */
failed:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
      "camera %s: its pipeline would not start (is the x264enc element "
      "installed? gstreamer1.0-plugins-ugly)",
      srv->cam->name);
  return FALSE;
}

static GstPadProbeReturn
drop_all (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return GST_PAD_PROBE_DROP;
}

void
rts_rtsp_server_set_stalled (RtsRtspServer *srv, gboolean stalled)
{
  if (stalled && !srv->stall_id && srv->probe_pad)
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
  c->frames = __atomic_load_n (&srv->house_frames, __ATOMIC_RELAXED);
  c->bytes = __atomic_load_n (&srv->house_bytes, __ATOMIC_RELAXED);
  c->sessions = srv->sessions_total;
}

void
rts_rtsp_server_set_refuse_udp (RtsRtspServer *srv, gboolean refuse)
{
  srv->refuse_udp = refuse;
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

  if (!g_object_get_data (G_OBJECT (client), READER_KEY))
    return GST_RTSP_FILTER_KEEP;
  if (drop->rst && conn) {
    /* A zero linger turns close into a reset: the reader sees
     * ECONNRESET, as when a camera reboots or a NAT forgets it. */
    struct linger lg = { 1, 0 };
    setsockopt (g_socket_get_fd (gst_rtsp_connection_get_read_socket (conn)),
        SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  drop->dropped++;
  return GST_RTSP_FILTER_REMOVE;
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
  return (guint) g_atomic_int_get (&srv->house_packets);
}

gboolean
rts_rtsp_server_has_data (RtsRtspServer *srv)
{
  return g_atomic_pointer_get (&srv->first_data_us) != NULL;
}

void
rts_rtsp_server_start (RtsRtspServer *srv)
{
  g_autoptr (GError) err = NULL;

  if (!rts_rtsp_server_set_listen_state (srv, RTS_LISTEN_OPEN, &err))
    g_warning ("camera %s: %s", srv->cam->name, err->message);
  if (!srv->cleanup_id)
    srv->cleanup_id = g_timeout_add_seconds (2, cleanup_sessions, srv);
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
  }
  return "unknown";
}

static void
stop_accepting (RtsRtspServer *srv)
{
  if (srv->accept_source) {
    g_source_destroy (srv->accept_source);
    g_clear_pointer (&srv->accept_source, g_source_unref);
  }
}

gboolean
rts_rtsp_server_set_listen_state (RtsRtspServer *srv, RtsListenState state,
    GError **error)
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
  if (state == RTS_LISTEN_OPEN) {
    /* gst_rtsp_server_io_func accepts one connection and attaches the new
     * client to the context of the source that called it: ours. */
    srv->accept_source = g_socket_create_source (srv->socket, G_IO_IN, NULL);
    g_source_set_callback (srv->accept_source,
        (GSourceFunc) (void (*) (void)) gst_rtsp_server_io_func,
        g_object_ref (srv->server), g_object_unref);
    g_source_attach (srv->accept_source, NULL);
  }
  srv->state = state;
  return TRUE;
}

guint
rts_rtsp_server_readers (const RtsRtspServer *srv)
{
  return srv->readers;
}

guint
rts_rtsp_server_connections (RtsRtspServer *srv)
{
  GList *clients = gst_rtsp_server_client_filter (srv->server, NULL, NULL);
  guint n = g_list_length (clients);
  g_list_free_full (clients, g_object_unref);
  return n;
}

static GstRTSPFilterResult
remove_all_clients (GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
  return GST_RTSP_FILTER_REMOVE;
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

  rts_rtsp_server_set_listen_state (srv, RTS_LISTEN_CLOSED, NULL);
  gst_rtsp_server_client_filter (srv->server, remove_all_clients, NULL);
  pool = gst_rtsp_server_get_session_pool (srv->server);
  gst_rtsp_session_pool_filter (pool, remove_all_sessions, NULL);
}

static GstRTSPFilterResult
forget_client (GstRTSPServer *server, GstRTSPClient *client, gpointer srv)
{
  /* Clients may outlive us by a little while they close. */
  g_signal_handlers_disconnect_by_data (client, srv);
  return GST_RTSP_FILTER_KEEP;
}

void
rts_rtsp_server_free (RtsRtspServer *srv)
{
  if (!srv)
    return;
  gst_rtsp_server_client_filter (srv->server, forget_client, srv);
  srv->stopping = TRUE;
  g_clear_handle_id (&srv->cleanup_id, g_source_remove);
  stop_accepting (srv);
  if (srv->socket)
    g_socket_close (srv->socket, NULL);
  g_clear_object (&srv->socket);
  g_signal_handlers_disconnect_by_data (srv->server, srv);
  if (srv->probe_pad && !rts_rtsp_server_has_data (srv))
    gst_pad_remove_probe (srv->probe_pad, srv->probe_id);
  rts_rtsp_server_set_stalled (srv, FALSE);
  g_clear_object (&srv->probe_pad);
  if (srv->media) {
    /* Taking the house reader off drops our own prepare as well. */
    remove_house_reader (srv);
  }
  g_clear_object (&srv->media);
  g_clear_object (&srv->factory);
  g_clear_object (&srv->server);
  g_free (srv->bind);
  g_free (srv);
}
