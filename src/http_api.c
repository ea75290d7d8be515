/* http_api: see http_api.h. */
#include "http_api.h"

#include "fd_limit.h"
#include "http_route.h"
#include "log.h"
#include "metrics.h"
#include "nonces.h"
#include "proc_self.h"
#include "render.h"

#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#define MAX_CONTROL_BODY (64 * 1024)
/* The answer beyond --max-http-connections, as rts_render_error() has it. */
#define BUSY_BODY "{\"error\":\"too many HTTP connections\",\"status\":503}"
#define BUSY_BODY_LEN 50
G_STATIC_ASSERT (sizeof BUSY_BODY - 1 == BUSY_BODY_LEN);
/* A whole 503 answer with the JSON BODY of LEN bytes, written without
 * libsoup to a connection it never gets. */
#define FIXED_503(body, len)                                                   \
  "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"                  \
  "Cache-Control: no-store\r\nContent-Type: application/json\r\n"              \
  "Content-Length: " G_STRINGIFY (len) "\r\n\r\n" body
/* The answer when the process is out of open files (fd_limit.h). */
#define NO_FILES_BODY "{\"error\":\"out of open files\",\"status\":503}"
#define NO_FILES_BODY_LEN 42
G_STATIC_ASSERT (sizeof NO_FILES_BODY - 1 == NO_FILES_BODY_LEN);

struct RtsHttpApi {
  RtsHttpApiSetup setup;
  char *bind;
  char *public_host;
  char *control_token;
  SoupServer *soup;
  GSocket *listener; /* accepts for soup: see on_incoming() */
  RtsAcceptor *acceptor;
  guint port;
  gint64 started_mono;
  GHashTable *conns;   /* HttpConn* open now */
  guint64 refused;     /* connections answered 503: max_connections */
  guint64 idle_closed; /* by the idle timeout, or given way (on_incoming) */
  guint n_shut;        /* in CONNS, shut, libsoup not yet done with them */
  gint64 refused_logged_mono;
  guint64 refused_logged;
  GHashTable *snap_auth; /* camera name -> SoupAuthDomain, made when asked */
  RtsNonces *nonces;     /* given out in snapshots' Digest challenges */
  /* Wrong passwords for a snapshot, which anyone can send at will (log.h);
   * a nonce that will not do comes with the right one, and is logged. */
  RtsLogLimit log_snap_401;
};

/* A snapshot's Digest nonce is good this long (a client told "stale"
 * after it retries with a new one without asking its user), and so many
 * are remembered at once (each about 100 bytes). */
#define NONCE_LIFETIME_US (300 * G_USEC_PER_SEC)
#define NONCE_MAX 4096

#define SOCKET_KEY "rts-http-socket"

/* An accepted connection, until libsoup lets go of it. */
typedef struct {
  RtsHttpApi *api;
  GSocketConnection *conn; /* weak: finalized when soup is done */
  guint deadline;          /* idle timeout source */
  gint64 accepted_mono;
  gboolean shut;
} HttpConn;

/* W's document as the answer, W freed. */
static void
reply_json (SoupServerMessage *msg, guint code, RtsJsonWriter *w)
{
  char *body = rts_json_writer_finish (w);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  /* Health answers must never come from a cache. */
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, code, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      body, strlen (body));
}

static void
reply_error (SoupServerMessage *msg, guint code, const char *message)
{
  /* A message may quote the request (a camera's name from the path),
   * which may be any bytes: JSON must be UTF-8. */
  g_autofree char *valid = g_utf8_make_valid (message, -1);
  RtsJsonWriter *w = rts_json_writer_new ();

  rts_render_error (w, code, valid);
  reply_json (msg, code, w);
}

/* Whether libsoup made URI's host from HOST_HEADER (as it does for an
 * origin-form target), rather than from an absolute-form target. */
static gboolean
uri_from_host_header (GUri *uri, const char *host_header)
{
  g_autofree char *url = g_strconcat ("http://", host_header, "/", NULL);
  g_autoptr (GUri) h =
      g_uri_parse (url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_PARSE_RELAXED, NULL);

  return h && g_strcmp0 (g_uri_get_host (h), g_uri_get_host (uri)) == 0;
}

/* The host readers should use: --public-host, else the host the request
 * was for, else the address it reached us at. The request's host is its
 * Host header's, unless its target is in absolute form ("GET
 * http://a/rtsp-urls"), whose host a server must take instead (RFC 9112
 * 3.2.2); rts_host_from_header() checks either. */
static char *
url_host (RtsHttpApi *api, SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *header =
      soup_message_headers_get_one (soup_server_message_get_request_headers (
                                        msg),
          "Host");
  const char *target = uri ? g_uri_get_host (uri) : NULL;
  char *host = NULL;
  GSocketAddress *local;

  if (api->public_host)
    return g_strdup (api->public_host);
  if (target && *target && !(header && uri_from_host_header (uri, header))) {
    g_autofree char *authority = strchr (target, ':')
        ? g_strdup_printf ("[%s]", target)
        : g_strdup (target);
    host = rts_host_from_header (authority);
  } else {
    host = rts_host_from_header (header);
  }
  if (host)
    return host;
  local = soup_server_message_get_local_address (msg);
  if (G_IS_INET_SOCKET_ADDRESS (local))
    return g_inet_address_to_string (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
  return g_strdup ("localhost");
}

static RtsCameraView *
camera_views (RtsHttpApi *api)
{
  GPtrArray *servers = api->setup.servers;
  RtsCameraView *v = g_new0 (RtsCameraView, servers->len);

  for (guint i = 0; i < servers->len; i++) {
    RtsRtspServer *srv = g_ptr_array_index (servers, i);
    const RtsCamera *cam = rts_rtsp_server_camera (srv);
    RtsFaultType fault = rts_faults_active (api->setup.faults, i);

    v[i].name = cam->name;
    v[i].port = rts_rtsp_server_port (srv);
    v[i].path = cam->path;
    v[i].codec = cam->codec;
    v[i].width = cam->width;
    v[i].height = cam->height;
    v[i].fps = cam->fps;
    v[i].fps_n = cam->fps_n;
    v[i].fps_d = cam->fps_d;
    v[i].transports = cam->transports;
    v[i].auth = cam->auth;
    v[i].readers = rts_rtsp_server_readers (srv);
    v[i].listen = rts_listen_state_name (rts_rtsp_server_listen_state (srv));
    v[i].fault = fault == RTS_FAULT_NONE ? NULL : rts_fault_type_name (fault);
  }
  return v;
}

static RtsNow
now (void)
{
  RtsNow n = { g_get_real_time (), g_get_monotonic_time () };
  return n;
}

/* /health's document written to W; S is its summary. */
static void
health_json (RtsHttpApi *api, RtsJsonWriter *w, RtsHealthSummary *s)
{
  guint n;
  const RtsPortHealth *ports = rts_health_ports (api->setup.health, &n);
  g_autofree RtsCameraView *cams = camera_views (api);

  *s = rts_health_summary (api->setup.health);
  rts_render_health (w, s, ports, cams, n, rts_health_age (api->setup.health),
      now ());
}

static void
handle_health (RtsHttpApi *api, SoupServerMessage *msg)
{
  RtsHealthSummary s;
  RtsJsonWriter *w = rts_json_writer_new ();

  health_json (api, w, &s);
  reply_json (msg, s.healthy ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE,
      w);
}

/* 200 while the loop runs: if this handler runs, it does. The heartbeat's
 * age is reported so a starved loop shows before it hangs. */
static void
handle_live (RtsHttpApi *api, SoupServerMessage *msg)
{
  char reason[96];
  RtsJsonWriter *w = rts_json_writer_new ();

  g_snprintf (reason, sizeof reason, "main loop runs (heartbeat %.0f ms ago)",
      rts_health_heartbeat_age (api->setup.health) * 1e3);
  rts_render_check (w, "live", TRUE, reason, NULL, NULL, now ());
  reply_json (msg, SOUP_STATUS_OK, w);
}

static void
handle_ready (RtsHttpApi *api, SoupServerMessage *msg)
{
  char reason[160];
  gboolean ready;
  RtsJsonWriter *w;

  ready = rts_health_ready (api->setup.health, reason, sizeof reason);
  w = rts_json_writer_new ();
  rts_render_check (w, "ready", ready, reason, NULL, NULL, now ());
  reply_json (msg, ready ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, w);
}

/* /health/PORT: one port's truth, for a load balancer target group that
 * must not send readers to a dead listener because three others are fine. */
static void
handle_port (RtsHttpApi *api, SoupServerMessage *msg, guint port)
{
  guint n;
  const RtsPortHealth *ports = rts_health_ports (api->setup.health, &n);
  g_autofree RtsCameraView *cams = NULL;
  char reason[200];

  cams = camera_views (api);
  for (guint i = 0; i < n; i++) {
    const RtsPortHealth *p = &ports[i];
    gboolean stopping = rts_health_stopping (api->setup.health);
    gboolean ok;
    RtsJsonWriter *w;

    if (p->port != port)
      continue;
    ok = p->probed && p->up && p->streaming && !stopping;
    if (stopping)
      g_strlcpy (reason, "shutting down", sizeof reason);
    else if (!p->probed)
      g_strlcpy (reason, "not probed yet", sizeof reason);
    else if (!p->up)
      g_snprintf (reason, sizeof reason,
          "port %u (camera %s) does not answer "
          "RTSP: %s",
          p->port, p->camera, p->error ? p->error : "?");
    else if (!p->streaming)
      g_snprintf (reason, sizeof reason,
          "camera %s answers but sends no "
          "video",
          p->camera);
    else
      g_snprintf (reason, sizeof reason,
          "port %u (camera %s) answers RTSP "
          "and streams",
          p->port, p->camera);
    w = rts_json_writer_new ();
    rts_render_check (w, "port", ok, reason, p, &cams[i], now ());
    reply_json (msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, w);
    return;
  }
  g_snprintf (reason, sizeof reason,
      "port %u is not one of this server's "
      "RTSP ports",
      port);
  reply_error (msg, SOUP_STATUS_NOT_FOUND, reason);
}

static void
handle_metrics (RtsHttpApi *api, SoupServerMessage *msg)
{
  GPtrArray *servers = api->setup.servers;
  guint n;
  const RtsPortHealth *ports = rts_health_ports (api->setup.health, &n);
  g_autofree RtsCameraView *cams = NULL;
  g_autofree RtsMetricsCamera *mc = NULL;
  RtsMetricsProcess p = { 0 };
  RtsHealthSummary sum;
  char reason[160];
  g_autofree char *body = NULL;

  cams = camera_views (api);
  mc = g_new0 (RtsMetricsCamera, n);
  for (guint i = 0; i < n; i++) {
    mc[i].cam = &cams[i];
    mc[i].port = &ports[i];
    rts_rtsp_server_counters (g_ptr_array_index (servers, i), &mc[i].counters);
  }
  sum = rts_health_summary (api->setup.health);
  p.uptime = (g_get_monotonic_time () - api->started_mono) / 1e6;
  p.healthy = sum.healthy;
  p.open_ports = sum.open_ports;
  p.ready = rts_health_ready (api->setup.health, reason, sizeof reason);
  p.rss_bytes = rts_proc_self_rss_bytes ();
  p.heartbeat_age = rts_health_heartbeat_age (api->setup.health);
  p.http_connections = g_hash_table_size (api->conns);
  p.http_refused = api->refused;
  p.http_idle_closed = api->idle_closed;
  p.open_files = rts_fd_limit_open ();
  p.open_files_limit = rts_fd_limit ();
  p.connections_shed = rts_fd_limit_shed ();
  body = rts_metrics_render (&p, mc, n, now ());
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4",
      SOUP_MEMORY_COPY, body, strlen (body));
}

static void
handle_urls (RtsHttpApi *api, SoupServerMessage *msg)
{
  g_autofree RtsCameraView *cams = NULL;
  g_autofree char *host = NULL;
  RtsJsonWriter *w;

  cams = camera_views (api);
  host = url_host (api, msg);
  w = rts_json_writer_new ();
  rts_render_urls (w, cams, api->setup.servers->len, host);
  reply_json (msg, SOUP_STATUS_OK, w);
}

static gboolean
wants_json (SoupServerMessage *msg)
{
  return rts_http_wants_json (
      soup_message_headers_get_one (soup_server_message_get_request_headers (
                                        msg),
          "Accept"));
}

static void
handle_index (RtsHttpApi *api, SoupServerMessage *msg)
{
  g_autofree RtsCameraView *cams = NULL;
  g_autofree char *host = NULL;
  guint n = api->setup.servers->len;

  cams = camera_views (api);
  host = url_host (api, msg);
  /* One URL, two answers, both live: no cache may keep either. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Vary", "Accept");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Cache-Control", "no-store");
  if (wants_json (msg)) {
    RtsHealthSummary s;
    RtsJsonWriter *w = rts_json_writer_new ();

    rts_json_begin_object (w);
    rts_json_member (w, "service");
    rts_json_string (w, "rtsp-test-server");
    rts_json_member (w, "version");
    rts_json_string (w, RTS_VERSION);
    rts_json_member (w, "health");
    health_json (api, w, &s);
    rts_json_member (w, "rtsp_urls");
    rts_render_urls (w, cams, n, host);
    rts_json_end_object (w);
    reply_json (msg, SOUP_STATUS_OK, w);
  } else {
    RtsHealthSummary s = rts_health_summary (api->setup.health);
    g_autofree char *html = rts_render_index_html (&s, cams, n, host, now ());
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "text/html; charset=utf-8",
        SOUP_MEMORY_COPY, html, strlen (html));
  }
}

static void
handle_control (RtsHttpApi *api, SoupServerMessage *msg, const char *camera)
{
  g_autoptr (GError) err = NULL;
  const char *method;
  gboolean ok;
  guint dropped = 0;
  RtsFault fault = { 0 };

  method = soup_server_message_get_method (msg);
  if (strcmp (method, "POST") == 0) {
    SoupMessageBody *body = soup_server_message_get_request_body (msg);

    if (body->length > MAX_CONTROL_BODY) {
      reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
          "body larger than 64 KiB");
      return;
    }
    ok = rts_fault_parse (body->data, body->length, &fault, &err)
        && rts_faults_inject (api->setup.faults, camera, &fault, &dropped,
            &err);
  } else {
    ok = rts_faults_clear (api->setup.faults, camera, &err);
  }
  if (!ok) {
    guint code =
        g_error_matches (err, RTS_FAULT_ERROR, RTS_FAULT_ERROR_NO_CAMERA)
        ? SOUP_STATUS_NOT_FOUND
        : g_error_matches (err, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST)
        ? SOUP_STATUS_BAD_REQUEST
        : g_error_matches (err, RTS_FAULT_ERROR, RTS_FAULT_ERROR_STOPPING)
        ? SOUP_STATUS_SERVICE_UNAVAILABLE
        : SOUP_STATUS_CONFLICT;
    reply_error (msg, code, err->message);
    return;
  }

  RtsJsonWriter *w = rts_json_writer_new ();
  RtsFaultType t = rts_faults_active_named (api->setup.faults, camera);

  rts_json_begin_object (w);
  rts_json_member (w, "camera");
  rts_json_string (w, camera);
  rts_json_member (w, "fault");
  rts_json_string (w, t == RTS_FAULT_NONE ? NULL : rts_fault_type_name (t));
  if (fault.type == RTS_FAULT_DISCONNECT) {
    rts_json_member (w, "dropped_readers");
    rts_json_int (w, dropped);
  }
  rts_json_end_object (w);
  reply_json (msg, SOUP_STATUS_OK, w);
}

static gboolean
basic_ok (SoupAuthDomain *domain, SoupServerMessage *msg, const char *user,
    const char *password, gpointer data)
{
  const RtsCamera *cam = data;

  return g_strcmp0 (user, cam->user) == 0
      && g_strcmp0 (password, cam->password) == 0;
}

static char *
digest_secret (SoupAuthDomain *domain, SoupServerMessage *msg, const char *user,
    gpointer data)
{
  const RtsCamera *cam = data;

  if (g_strcmp0 (user, cam->user) != 0)
    return NULL;
  return soup_auth_domain_digest_encode_password (user, RTS_AUTH_REALM,
      cam->password);
}

static RtsNonces *
api_nonces (RtsHttpApi *api)
{
  if (!api->nonces)
    api->nonces = rts_nonces_new (NONCE_MAX, NONCE_LIFETIME_US);
  return api->nonces;
}

/* libsoup checked the hash; the nonce must be one this server gave out,
 * in time, its count unused (nonces.h). */
static RtsNonceVerdict
digest_nonce_ok (RtsHttpApi *api, SoupServerMessage *msg)
{
  const char *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers (
                                        msg),
          "Authorization");
  GHashTable *params;
  RtsNonceVerdict v;

  /* libsoup took it: "Digest " and its parameters, parsed once. */
  if (!auth || g_ascii_strncasecmp (auth, "Digest ", 7) != 0)
    return RTS_NONCE_UNKNOWN;
  params = soup_header_parse_param_list (auth + 7);
  v = rts_nonces_use (api_nonces (api), g_hash_table_lookup (params, "nonce"),
      g_hash_table_lookup (params, "nc"), g_get_monotonic_time ());
  soup_header_free_param_list (params);
  return v;
}

/* A camera with credentials shows its picture only to who has them, the
 * way real cameras guard snapshot.jpg: the same user and password and the
 * same scheme as its RTSP. libsoup checks them (soup_auth_domain_accepts);
 * the domain is not added to the server, so it sees the path exactly as
 * the router matched it (a percent-encoded name cannot slip past it).
 * TRUE when the request may have the picture; else it has been answered
 * 401 with the challenge. */
static gboolean
snapshot_allowed (RtsHttpApi *api, SoupServerMessage *msg, const RtsCamera *cam)
{
  gboolean digest = g_strcmp0 (cam->auth, "digest") == 0;
  SoupAuthDomain *domain;
  g_autofree char *user = NULL;
  RtsNonceVerdict nonce = RTS_NONCE_OK;
  gboolean stale;

  if (!digest && g_strcmp0 (cam->auth, "basic") != 0)
    return TRUE;
  if (!api->snap_auth)
    api->snap_auth =
        g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  domain = g_hash_table_lookup (api->snap_auth, cam->name);
  if (!domain) {
    domain = digest
        ? soup_auth_domain_digest_new ("realm", RTS_AUTH_REALM, "auth-callback",
            digest_secret, "auth-data", (gpointer) cam, NULL)
        : soup_auth_domain_basic_new ("realm", RTS_AUTH_REALM, "auth-callback",
            basic_ok, "auth-data", (gpointer) cam, NULL);
    g_hash_table_insert (api->snap_auth, (gpointer) cam->name, domain);
  }
  user = soup_auth_domain_accepts (domain, msg);
  if (user && digest)
    nonce = digest_nonce_ok (api, msg);
  if (user && nonce == RTS_NONCE_OK)
    return TRUE;
  /* The password was right but the nonce will not do: say so with
   * stale=TRUE (RFC 7616), and the client retries with the new nonce
   * without asking its user again; a count that is no count is no such
   * mistake. */
  stale = user && nonce != RTS_NONCE_BAD_NC;
  if (user) {
    rts_info ("http: camera %s's snapshot asked with %s from %s (user '%s'): "
              "401%s",
        cam->name, rts_nonce_verdict_name (nonce),
        soup_server_message_get_remote_host (msg)
            ? soup_server_message_get_remote_host (msg)
            : "?",
        user, stale ? ", stale" : "");
  } else {
    g_autofree char *who = rts_auth_header_user (
        soup_message_headers_get_one (soup_server_message_get_request_headers (
                                          msg),
            "Authorization"));
    if (who)
      rts_warn_limited (&api->log_snap_401,
          "http: wrong credentials for camera %s's snapshot from %s "
          "(user '%s'): 401",
          cam->name,
          soup_server_message_get_remote_host (msg)
              ? soup_server_message_get_remote_host (msg)
              : "?",
          who);
  }
  reply_error (msg, SOUP_STATUS_UNAUTHORIZED,
      digest ? "this camera's picture needs its user and password (Digest)"
             : "this camera's picture needs its user and password (Basic)");
  if (digest) {
    /* libsoup's challenge with a nonce of ours (nonces.h says why). */
    g_autofree char *fresh =
        rts_nonces_issue (api_nonces (api), g_get_monotonic_time ());
    g_autofree char *challenge =
        g_strdup_printf ("Digest realm=\"%s\", nonce=\"%s\", qop=\"auth\", "
                         "algorithm=MD5%s",
            RTS_AUTH_REALM, fresh, stale ? ", stale=TRUE" : "");

    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      msg),
        "WWW-Authenticate", challenge);
  } else {
    /* libsoup 3.2's own Basic challenge leaves the realm unquoted
     * (realm=rtsp-test-server), which RFC 7235 2.2 has no sender make. */
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      msg),
        "WWW-Authenticate", "Basic realm=\"" RTS_AUTH_REALM "\"");
  }
  return FALSE;
}

/* GET /cameras/NAME/snapshot.jpg: the latest picture, taken at most about
 * a second ago; served from memory, never waits for a frame. */
static void
handle_snapshot (RtsHttpApi *api, SoupServerMessage *msg, const char *camera)
{
  RtsRtspServer *srv = NULL;
  g_autoptr (GBytes) jpeg = NULL;
  gint64 taken = 0;

  for (guint i = 0; i < api->setup.servers->len; i++) {
    RtsRtspServer *s = g_ptr_array_index (api->setup.servers, i);
    if (g_strcmp0 (rts_rtsp_server_camera (s)->name, camera) == 0)
      srv = s;
  }
  if (!srv) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND,
        "no such camera (snapshots: /cameras/NAME/snapshot.jpg)");
    return;
  }
  if (!snapshot_allowed (api, msg, rts_rtsp_server_camera (srv)))
    return;
  jpeg = rts_rtsp_server_snapshot (srv, &taken);
  if (!jpeg && rts_rtsp_server_snapshots_failed (srv)) {
    reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "no picture from this camera: its snapshots could not be made "
        "(the server's log says why)");
    return;
  }
  if (!jpeg) {
    /* The first picture comes within a second of start (more for many
     * cameras): a client told when to ask again need not guess. */
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      msg),
        "Retry-After", "1");
    reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "no picture yet from this camera");
    return;
  }
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autofree char *age =
      g_strdup_printf ("%.3f", (g_get_real_time () - taken) / 1e6);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_message_headers_replace (h, "X-Snapshot-Age-Seconds", age);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "image/jpeg", SOUP_MEMORY_COPY,
      g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
}

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  RtsHttpApi *api = data;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *host;
  RtsRoute route;

  /* libsoup keeps a connection alive only for a server with listeners of
   * its own, and ours has none (see on_incoming()): it closes each one
   * after its answer, and this says so, so that no client sends a second
   * request into a closing connection. Keep-alive on Debian 12's libsoup
   * 3.2 leaked besides: a kept-alive connection its client closed while
   * idle stayed in CLOSE_WAIT for good, one fd each. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Connection", "close");
  /* Every answer is made anew (a snapshot changes each second, /health
   * each probe): a byte range of one would be spliced with another's, and
   * libsoup answers a Range by itself (206) once the handler has set 200. */
  soup_message_headers_remove (req, "Range");
  soup_message_headers_remove (req, "If-Range");
  /* Two Host headers (libsoup joins them with a comma, which no host
   * has) leave the request's host to a guess, and libsoup would take the
   * last: 400, as RFC 9112 3.2 has it. */
  host = soup_message_headers_get_list (req, "Host");
  if (host && strchr (host, ',')) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "more than one Host header");
    return;
  }
  /* libsoup reads the path from "http://" Host path: a Host with '?' or
   * '#' ends its host there and hid the path asked for (GET /health with
   * "Host: a?" was answered as GET /). */
  if (host && strpbrk (host, "?#")) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "the Host header is no host (it holds '?' or '#')");
    return;
  }
  rts_http_route (soup_server_message_get_method (msg), path,
      soup_message_headers_get_one (req, "Authorization"), api->control_token,
      &route);
  switch (route.kind) {
    case RTS_ROUTE_HEALTH:
      handle_health (api, msg);
      break;
    case RTS_ROUTE_LIVE:
      handle_live (api, msg);
      break;
    case RTS_ROUTE_READY:
      handle_ready (api, msg);
      break;
    case RTS_ROUTE_PORT:
      handle_port (api, msg, route.port);
      break;
    case RTS_ROUTE_METRICS:
      handle_metrics (api, msg);
      break;
    case RTS_ROUTE_URLS:
      handle_urls (api, msg);
      break;
    case RTS_ROUTE_INDEX:
      handle_index (api, msg);
      break;
    case RTS_ROUTE_CONTROL:
      handle_control (api, msg, route.camera);
      break;
    case RTS_ROUTE_SNAPSHOT:
      handle_snapshot (api, msg, route.camera);
      break;
    case RTS_ROUTE_NONE: {
      SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
      if (route.allow)
        soup_message_headers_replace (h, "Allow", route.allow);
      if (route.authorize)
        soup_message_headers_replace (h, "WWW-Authenticate",
            "Bearer realm=\"rtsp-test-server\"");
      reply_error (msg, route.status, route.message);
      break;
    }
  }
  rts_http_route_clear (&route);
}

/* Connections are accepted here and handed to libsoup, not accepted by
 * soup_server_listen(): libsoup 3.2's own listener keeps a reference to
 * every socket it accepts, for good (valgrind: one GSocket definitely lost
 * per connection, about 350 bytes; RSS grew 1 MB per 3,000 requests). */
static void
on_conn_finalized (gpointer data, GObject *gone)
{
  HttpConn *c = data;

  c->conn = NULL;
  if (c->shut)
    c->api->n_shut--;
  g_hash_table_remove (c->api->conns, c);
}

static void
http_conn_free (gpointer data)
{
  HttpConn *c = data;

  if (c->deadline)
    g_source_remove (c->deadline);
  if (c->conn)
    g_object_weak_unref (G_OBJECT (c->conn), on_conn_finalized, c);
  g_free (c);
}

/* Every answer is immediate (handlers never wait), so a connection still
 * open after the idle timeout is one whose client has not sent a whole
 * request: slowloris, or a client that connected and went quiet. */
/* Shut, not closed: libsoup owns the stream, sees the end and lets go
 * (on_conn_finalized). */
static void
shut_conn (HttpConn *c)
{
  if (c->shut || !c->conn)
    return;
  c->shut = TRUE;
  c->api->n_shut++;
  c->api->idle_closed++;
  g_socket_shutdown (g_socket_connection_get_socket (c->conn), TRUE, TRUE,
      NULL);
}

static gboolean
on_http_deadline (gpointer data)
{
  HttpConn *c = data;

  c->deadline = 0;
  shut_conn (c);
  return G_SOURCE_REMOVE;
}

/* Beyond --max-http-connections: a fixed 503, written straight into the
 * new socket's empty buffer, and closed; logged once a second at most
 * (a storm is thousands). */
static void
refuse_connection (RtsHttpApi *api, GSocketConnection *conn)
{
  static const char answer[] = FIXED_503 (BUSY_BODY, BUSY_BODY_LEN);
  GSocket *sock = g_socket_connection_get_socket (conn);
  gint64 now = g_get_monotonic_time ();

  api->refused++;
  if (now - api->refused_logged_mono >= G_USEC_PER_SEC) {
    rts_warn ("HTTP connection refused with 503: %u open (max-http-"
              "connections); %" G_GUINT64_FORMAT " refused since start",
        g_hash_table_size (api->conns), api->refused);
    api->refused_logged_mono = now;
  }
  g_socket_set_blocking (sock, FALSE);
  g_socket_send (sock, answer, sizeof answer - 1, NULL, NULL);
  g_socket_shutdown (sock, FALSE, TRUE, NULL);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
}

/* At the limit, the connection open longest gives way to the new one, if
 * it has been open over a second: every answer here is instant, so it is
 * one sending nothing, or too slowly. Refusing the new one instead let 256
 * idle connections keep /health/live at 503 until the idle timeout, long
 * enough for an orchestrator to restart a healthy server. */
static HttpConn *
oldest_idle (RtsHttpApi *api)
{
  gint64 before = g_get_monotonic_time () - G_USEC_PER_SEC;
  HttpConn *oldest = NULL;
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, api->conns);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    HttpConn *c = key;
    if (!c->shut && c->conn && c->accepted_mono <= before
        && (!oldest || c->accepted_mono < oldest->accepted_mono))
      oldest = c;
  }
  return oldest;
}

/* Room for a connection beyond HTTP's share of the open files
 * (fd_limit.h): a few connections may go on into the reserve, so that
 * /health says why the ports do not answer while a flood holds them;
 * beyond those, one comes in only in place of the oldest idle one. (250
 * idle connections under a limit of 300 once took the descriptors kept
 * for RTSP for the whole idle timeout: the ports shed the server's own
 * probes, and /health said unhealthy.) */
#define HTTP_IN_RESERVE 8

static gboolean
room_in_reserve (gpointer data)
{
  RtsHttpApi *api = data;
  HttpConn *old;

  if (g_hash_table_size (api->conns) - api->n_shut < HTTP_IN_RESERVE)
    return TRUE;
  old = oldest_idle (api);
  if (!old)
    return FALSE;
  shut_conn (old);
  return TRUE;
}

/* A connection accepted: handed to libsoup (the server accepts them itself:
 * libsoup 3.2's own listener leaks a socket per connection; see
 * docs/reliability.md), within max-http-connections. */
static void
on_incoming (RtsHttpApi *api, GSocketConnection *conn)
{
  g_autoptr (GSocketAddress) local =
      g_socket_connection_get_local_address (conn, NULL);
  g_autoptr (GSocketAddress) remote =
      g_socket_connection_get_remote_address (conn, NULL);
  HttpConn *c;

  if (!local || !remote)
    return;
  if (g_hash_table_size (api->conns) - api->n_shut
      >= api->setup.max_connections) {
    HttpConn *old = oldest_idle (api);
    if (!old) {
      refuse_connection (api, conn);
      return;
    }
    shut_conn (old);
  }
  c = g_new0 (HttpConn, 1);
  c->api = api;
  c->conn = conn;
  c->accepted_mono = g_get_monotonic_time ();
  c->deadline =
      g_timeout_add_seconds (api->setup.idle_timeout, on_http_deadline, c);
  g_hash_table_add (api->conns, c);
  /* The table's entry goes when libsoup drops its last reference. */
  g_object_weak_ref (G_OBJECT (conn), on_conn_finalized, c);
  /* Corked until an answer is written (see on_request_started): libsoup
   * writes the header and the body in two sends, and on loopback each
   * send costs the receiving side's work too. One segment: /health went
   * from 10,200-10,900 to 11,000-11,900 requests a second (wrk, 100
   * readers, four alternating runs). */
  g_socket_set_option (g_socket_connection_get_socket (conn), IPPROTO_TCP,
      TCP_CORK, 1, NULL);
  g_object_set_data_full (G_OBJECT (remote), SOCKET_KEY,
      g_object_ref (g_socket_connection_get_socket (conn)), g_object_unref);
  soup_server_accept_iostream (api->soup, G_IO_STREAM (conn), local, remote,
      NULL);
}

/* A connection taken: on to on_incoming(); FALSE when there was no
 * descriptor left for it (the acceptor then pauses). */
static gboolean
take_connection (GSocket *listener, gpointer data)
{
  RtsHttpApi *api = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GSocket) sock = g_socket_accept (listener, NULL, &err);
  g_autoptr (GSocketConnection) conn = NULL;

  /* FALSE only for want of a descriptor: any other failure is that
   * connection's own. */
  if (!sock)
    return !g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES);
  conn = g_socket_connection_factory_create_connection (sock);
  on_incoming (api, conn);
  return TRUE;
}

/* Whatever libsoup wrote for MSG goes out now, not when the connection
 * closes or the kernel's 200 ms cork timer fires: an interim "100
 * Continue" the client waits for, or an answer on a connection libsoup
 * keeps open to read the rest of a request (a 401 to a POST sent with
 * "Expect: 100-continue" waited 200 ms). Nor left for the close to send:
 * closing with bytes unread (a client that sent more than libsoup read)
 * resets the connection, and corked data is then never sent. */
static void
uncork (SoupServerMessage *msg, gpointer data)
{
  /* libsoup has no socket for a stream it was handed: the remote address
   * it was handed with it carries one (on_incoming). */
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  GSocket *sock =
      remote ? g_object_get_data (G_OBJECT (remote), SOCKET_KEY) : NULL;

  if (sock)
    g_socket_set_option (sock, IPPROTO_TCP, TCP_CORK, 0, NULL);
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (uncork), NULL);
  g_signal_connect (msg, "wrote-body", G_CALLBACK (uncork), NULL);
}

/* As soup_server_listen() did: address reuse, and dual-stack on "::". */
static GSocket *
listen_socket (GSocketAddress *sa, GError **error)
{
  GSocketFamily family = g_socket_address_get_family (sa);
  g_autoptr (GSocket) sock =
      g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);

  if (!sock)
    return NULL;
  if (family == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (sock, IPPROTO_IPV6, IPV6_V6ONLY, 0, error))
    return NULL;
  if (!g_socket_bind (sock, sa, TRUE, error))
    return NULL;
  /* GSocket's default backlog is 10: 16 clients reconnecting for every
   * request overflowed it, and a dropped SYN costs its client a 1 s
   * retransmit (wrk's p99 was 1.1 s at 11,000 req/s). */
  g_socket_set_listen_backlog (sock, 1024);
  if (!g_socket_listen (sock, error))
    return NULL;
  /* A connection gone between the poll and the accept must not block the
   * loop in g_socket_accept. */
  g_socket_set_blocking (sock, FALSE);
  return g_steal_pointer (&sock);
}

/* Runs once the headers are in, before the body. libsoup 3.2 reads a
 * whole body into memory before any handler sees it, even one it will
 * answer with an error, and malloc keeps it after: an 80 MiB POST to
 * /health grew RSS by 80 MiB for good. No endpoint takes more than a
 * control body, so a larger one (or one of unknown length, which could be
 * anything) is answered here, unread: the connection is taken from libsoup,
 * gets its 413 or 411, and is closed. */
static void
check_body_size (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *status, *body;
  g_autofree char *answer = NULL;
  GIOStream *conn;

  switch (soup_message_headers_get_encoding (h)) {
    case SOUP_ENCODING_CONTENT_LENGTH: {
      /* Read here, not with soup_message_headers_get_content_length(): it
       * makes a negative or overflowing length -1, which compared as a
       * size let any body in, buffered whole (500 MiB seen). */
      const char *len = soup_message_headers_get_one (h, "Content-Length");
      guint64 n = 0;
      if (!len
          || g_ascii_string_to_unsigned (len, 10, 0, MAX_CONTROL_BODY, &n,
              NULL))
        return;
      if (*len && strspn (len, "0123456789") == strlen (len)) {
        status = "413 Payload Too Large";
        body = "{\"error\":\"request body over 65536 bytes\",\"status\":413}";
      } else {
        status = "400 Bad Request";
        body = "{\"error\":\"invalid Content-Length\",\"status\":400}";
      }
      break;
    }
    case SOUP_ENCODING_CHUNKED:
      status = "411 Length Required";
      body = "{\"error\":\"a request body needs a Content-Length\","
             "\"status\":411}";
      break;
    default:
      return;
  }
  /* Uncorked first: corked, the answer was lost to the reset that closing
   * with the body unread sends (1 time in 3, every time in the hostile
   * test's storm). */
  uncork (msg, NULL);
  conn = soup_server_message_steal_connection (msg);
  if (!conn)
    return;
  {
    /* As libsoup's answers have them: Date is a MUST (RFC 9110 6.6.1). */
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree char *date = soup_date_time_to_string (now, SOUP_DATE_HTTP);
    answer = g_strdup_printf ("HTTP/1.1 %s\r\nDate: %s\r\n"
                              "Connection: close\r\nCache-Control: no-store\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: %zu\r\n\r\n%s",
        status, date, strlen (body), body);
  }
  /* A few bytes into an empty send buffer: written at once. */
  g_output_stream_write_all (g_io_stream_get_output_stream (conn), answer,
      strlen (answer), NULL, NULL, NULL);
  g_io_stream_close (conn, NULL, NULL);
  g_object_unref (conn);
}

RtsHttpApi *
rts_http_api_new (const RtsHttpApiSetup *setup, GError **error)
{
  RtsHttpApi *api = g_new0 (RtsHttpApi, 1);
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (setup->bind);
  g_autoptr (GSocketAddress) sa = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *what = NULL;

  api->setup = *setup;
  api->started_mono = g_get_monotonic_time ();
  api->bind = g_strdup (setup->bind);
  api->public_host = g_strdup (setup->public_host);
  api->control_token = g_strdup (setup->control_token);
  api->setup.bind = api->bind;
  api->conns = g_hash_table_new_full (NULL, NULL, http_conn_free, NULL);
  api->soup = soup_server_new ("server-header",
      "rtsp-test-server/" RTS_VERSION " ", NULL);
  soup_server_add_early_handler (api->soup, NULL, check_body_size, api, NULL);
  soup_server_add_handler (api->soup, NULL, handle, api, NULL);
  g_signal_connect (api->soup, "request-started",
      G_CALLBACK (on_request_started), NULL);

  if (!addr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "bind address '%s' is not an IP address", setup->bind);
    rts_http_api_free (api);
    return NULL;
  }
  sa = g_inet_socket_address_new (addr, setup->port);
  sock = listen_socket (sa, &err);
  if (!sock) {
    g_set_error (error, G_IO_ERROR, err->code,
        "cannot listen on HTTP port %u at %s: %s", setup->port, setup->bind,
        err->message);
    rts_http_api_free (api);
    return NULL;
  }
  local = g_socket_get_local_address (sock, NULL);
  if (local)
    api->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  api->listener = g_steal_pointer (&sock);
  what = g_strdup_printf ("HTTP port %u", api->port);
  api->acceptor = rts_acceptor_new (api->listener, room_in_reserve, what,
      FIXED_503 (NO_FILES_BODY, NO_FILES_BODY_LEN), take_connection, api);
  return api;
}

void
rts_http_api_free (RtsHttpApi *api)
{
  if (!api)
    return;
  g_clear_pointer (&api->acceptor, rts_acceptor_free);
  if (api->listener)
    g_socket_close (api->listener, NULL);
  g_clear_object (&api->listener);
  /* First: closing soup's connections would otherwise call back into it. */
  g_clear_pointer (&api->conns, g_hash_table_destroy);
  g_clear_pointer (&api->snap_auth, g_hash_table_destroy);
  g_clear_pointer (&api->nonces, rts_nonces_free);
  if (api->soup)
    soup_server_disconnect (api->soup);
  g_clear_object (&api->soup);
  g_free (api->bind);
  g_free (api->public_host);
  if (api->control_token)
    memset (api->control_token, 0, strlen (api->control_token));
  g_free (api->control_token);
  g_free (api);
}

guint
rts_http_api_port (const RtsHttpApi *api)
{
  return api->port;
}
