/* faults: see faults.h. */
#include "faults.h"

#include "log.h"

#include <json-glib/json-glib.h>

G_DEFINE_QUARK (rts - fault - error - quark, rts_fault_error)

typedef struct {
  RtsFaults *owner;
  guint index;
  RtsFaultType type;
  guint ms; /* slow: the delay */
  guint expiry_id;
} CameraFault;

struct RtsFaults {
  GPtrArray *servers;
  RtsHealth *health;
  CameraFault *cams;
};

static const struct {
  RtsFaultType type;
  const char *name;
} fault_names[] = {
  { RTS_FAULT_CLOSE_PORT, "close-port" },
  { RTS_FAULT_HANG_PORT, "hang-port" },
  { RTS_FAULT_STALL, "stall" },
  { RTS_FAULT_REFUSE_UDP, "refuse-udp" },
  { RTS_FAULT_DISCONNECT, "disconnect" },
  { RTS_FAULT_REJECT, "reject" },
  { RTS_FAULT_SLOW, "slow" },
};

#define ALLOWED_TYPES                                                          \
  "close-port, hang-port, stall, refuse-udp, reject, slow, disconnect"

const char *
rts_fault_type_name (RtsFaultType type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fault_names); i++) {
    if (fault_names[i].type == type)
      return fault_names[i].name;
  }
  return "none";
}

gboolean
rts_fault_parse (const char *body, gsize len, RtsFault *fault, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = NULL;
  JsonNode *root;
  JsonObject *obj;
  const char *type;

  fault->type = RTS_FAULT_NONE;
  fault->seconds = 0;
  fault->rst = TRUE;
  fault->status = 0;
  fault->ms = 0;
  if (!json_parser_load_from_data (parser, body, len, &err)) {
    g_set_error (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
        "body is not JSON: %s", err->message);
    return FALSE;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
        "body must be a JSON object such as {\"type\":\"hang-port\"}");
    return FALSE;
  }
  obj = json_node_get_object (root);

  /* A typo in a member name must not silently inject a different fault. */
  g_autoptr (GList) members = json_object_get_members (obj);
  for (GList *l = members; l; l = l->next) {
    if (g_strcmp0 (l->data, "type") && g_strcmp0 (l->data, "seconds")
        && g_strcmp0 (l->data, "mode") && g_strcmp0 (l->data, "status")
        && g_strcmp0 (l->data, "ms")) {
      g_set_error (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
          "unknown member \"%s\" (allowed: type, seconds, mode, status, ms)",
          (const char *) l->data);
      return FALSE;
    }
  }

  JsonNode *tn = json_object_get_member (obj, "type");
  if (!tn || !JSON_NODE_HOLDS_VALUE (tn)
      || json_node_get_value_type (tn) != G_TYPE_STRING) {
    g_set_error_literal (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
        "\"type\" must be a string: " ALLOWED_TYPES);
    return FALSE;
  }
  type = json_node_get_string (tn);
  for (gsize i = 0; i < G_N_ELEMENTS (fault_names); i++) {
    if (g_strcmp0 (type, fault_names[i].name) == 0)
      fault->type = fault_names[i].type;
  }
  if (fault->type == RTS_FAULT_NONE) {
    g_set_error (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
        "unknown fault type \"%s\" (allowed: " ALLOWED_TYPES ")", type);
    return FALSE;
  }

  JsonNode *sn = json_object_get_member (obj, "seconds");
  if (sn) {
    GType t = JSON_NODE_HOLDS_VALUE (sn) ? json_node_get_value_type (sn) : 0;
    double v = (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
        ? json_node_get_double (sn)
        : -1;
    if (!(v > 0 && v <= 86400)) {
      g_set_error_literal (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
          "\"seconds\" must be a number above 0 and at most 86400");
      return FALSE;
    }
    if (fault->type == RTS_FAULT_DISCONNECT) {
      g_set_error_literal (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
          "\"seconds\" does not apply to disconnect, which acts at once");
      return FALSE;
    }
    fault->seconds = v;
  }

  JsonNode *mn = json_object_get_member (obj, "mode");
  if (mn) {
    const char *mode = JSON_NODE_HOLDS_VALUE (mn)
            && json_node_get_value_type (mn) == G_TYPE_STRING
        ? json_node_get_string (mn)
        : NULL;
    if (fault->type != RTS_FAULT_DISCONNECT
        || (g_strcmp0 (mode, "rst") && g_strcmp0 (mode, "close"))) {
      g_set_error_literal (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
          "\"mode\" goes with disconnect and must be \"rst\" or \"close\"");
      return FALSE;
    }
    fault->rst = g_strcmp0 (mode, "rst") == 0;
  }

  JsonNode *stn = json_object_get_member (obj, "status");
  if (fault->type == RTS_FAULT_REJECT)
    fault->status = 503;
  if (stn) {
    gint64 v = JSON_NODE_HOLDS_VALUE (stn)
            && json_node_get_value_type (stn) == G_TYPE_INT64
        ? json_node_get_int (stn)
        : 0;
    if (fault->type != RTS_FAULT_REJECT || (v != 503 && v != 401)) {
      g_set_error_literal (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
          "\"status\" goes with reject and must be 503 or 401");
      return FALSE;
    }
    fault->status = (guint) v;
  }

  JsonNode *msn = json_object_get_member (obj, "ms");
  if (fault->type == RTS_FAULT_SLOW)
    fault->ms = RTS_FAULT_SLOW_DEFAULT_MS;
  if (msn) {
    gint64 v = JSON_NODE_HOLDS_VALUE (msn)
            && json_node_get_value_type (msn) == G_TYPE_INT64
        ? json_node_get_int (msn)
        : 0;
    if (fault->type != RTS_FAULT_SLOW || v < 1 || v > RTS_FAULT_SLOW_MAX_MS) {
      g_set_error (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST,
          "\"ms\" goes with slow and must be a whole number of "
          "milliseconds from 1 to %d",
          RTS_FAULT_SLOW_MAX_MS);
      return FALSE;
    }
    fault->ms = (guint) v;
  }
  return TRUE;
}

RtsFaults *
rts_faults_new (GPtrArray *servers, RtsHealth *health)
{
  RtsFaults *f = g_new0 (RtsFaults, 1);

  f->servers = g_ptr_array_ref (servers);
  f->health = health;
  f->cams = g_new0 (CameraFault, servers->len);
  for (guint i = 0; i < servers->len; i++) {
    f->cams[i].owner = f;
    f->cams[i].index = i;
  }
  return f;
}

void
rts_faults_free (RtsFaults *f)
{
  if (!f)
    return;
  for (guint i = 0; i < f->servers->len; i++)
    g_clear_handle_id (&f->cams[i].expiry_id, g_source_remove);
  g_free (f->cams);
  g_ptr_array_unref (f->servers);
  g_free (f);
}

static gint
find_camera (const RtsFaults *f, const char *name, GError **error)
{
  for (guint i = 0; i < f->servers->len; i++) {
    RtsRtspServer *srv = g_ptr_array_index (f->servers, i);
    if (g_strcmp0 (rts_rtsp_server_camera (srv)->name, name) == 0)
      return i;
  }
  g_set_error (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_NO_CAMERA,
      "no camera named \"%s\"", name);
  return -1;
}

/* From the first moment of shutdown no fault comes or goes: setting one
 * (or clearing one, or one expiring) reopens a port the shutdown closed,
 * and a slow fault would hold answers of a server about to be freed. */
static gboolean
refuse_stopping (const RtsFaults *f, GError **error)
{
  if (!f->health || !rts_health_stopping (f->health))
    return FALSE;
  g_set_error_literal (error, RTS_FAULT_ERROR, RTS_FAULT_ERROR_STOPPING,
      "shutting down: faults are neither injected nor cleared any more");
  return TRUE;
}

static gboolean
set_fault (RtsFaults *f, guint index, const RtsFault *fault, GError **error)
{
  CameraFault *cf = &f->cams[index];
  RtsRtspServer *srv = g_ptr_array_index (f->servers, index);
  RtsFaultType type = fault->type;
  RtsListenState want = type == RTS_FAULT_CLOSE_PORT ? RTS_LISTEN_CLOSED
      : type == RTS_FAULT_HANG_PORT                  ? RTS_LISTEN_HUNG
                                                     : RTS_LISTEN_OPEN;

  /* The port first: reopening it is the one step that can fail (someone
   * else bound it meanwhile), and a refused fault changes nothing (a stall
   * was once applied behind a 409). Only a closed port fails to reopen, so
   * the fault stays close-port, its expiry kept. */
  if (!rts_rtsp_server_set_listen_state (srv, want, error))
    return FALSE;
  g_clear_handle_id (&cf->expiry_id, g_source_remove);
  rts_rtsp_server_set_stalled (srv, type == RTS_FAULT_STALL);
  rts_rtsp_server_set_refuse_udp (srv, type == RTS_FAULT_REFUSE_UDP);
  rts_rtsp_server_set_reject (srv,
      type == RTS_FAULT_REJECT ? fault->status : 0);
  rts_rtsp_server_set_answer_delay (srv,
      type == RTS_FAULT_SLOW ? fault->ms : 0);
  if (type != cf->type || fault->ms != cf->ms) {
    g_autofree char *detail = type == RTS_FAULT_SLOW
        ? g_strdup_printf (" (every answer %u ms late)", fault->ms)
        : g_strdup (type != RTS_FAULT_REJECT ? ""
                : fault->status == 401       ? " (401 Unauthorized)"
                                             : " (503 Service Unavailable)");
    if (type == RTS_FAULT_NONE)
      rts_info ("fault cleared: camera %s port %u (was %s)",
          rts_rtsp_server_camera (srv)->name, rts_rtsp_server_port (srv),
          rts_fault_type_name (cf->type));
    else
      rts_warn ("fault injected: camera %s port %u: %s%s",
          rts_rtsp_server_camera (srv)->name, rts_rtsp_server_port (srv),
          rts_fault_type_name (type), detail);
  }
  cf->type = type;
  cf->ms = fault->ms;
  rts_health_probe_now (f->health);
  return TRUE;
}

static const RtsFault none = { RTS_FAULT_NONE, 0, FALSE, 0, 0 };

static gboolean
on_expiry (gpointer data)
{
  CameraFault *cf = data;
  g_autoptr (GError) err = NULL;

  cf->expiry_id = 0;
  if (refuse_stopping (cf->owner, NULL))
    return G_SOURCE_REMOVE;
  if (!set_fault (cf->owner, cf->index, &none, &err))
    rts_error ("cannot clear expired fault: %s", err->message);
  return G_SOURCE_REMOVE;
}

gboolean
rts_faults_inject (RtsFaults *f, const char *camera, const RtsFault *fault,
    guint *dropped, GError **error)
{
  gint i = refuse_stopping (f, error) ? -1 : find_camera (f, camera, error);

  if (i < 0)
    return FALSE;
  if (fault->type == RTS_FAULT_DISCONNECT) {
    RtsRtspServer *srv = g_ptr_array_index (f->servers, i);
    guint n = rts_rtsp_server_drop_readers (srv, fault->rst);
    rts_warn ("fault injected: camera %s port %u: disconnect (%s): dropped "
              "%u reader(s)",
        camera, rts_rtsp_server_port (srv), fault->rst ? "rst" : "close", n);
    if (dropped)
      *dropped = n;
    return TRUE;
  }
  if (!set_fault (f, i, fault, error))
    return FALSE;
  if (fault->seconds > 0)
    f->cams[i].expiry_id =
        g_timeout_add ((guint) (fault->seconds * 1000), on_expiry, &f->cams[i]);
  return TRUE;
}

gboolean
rts_faults_clear (RtsFaults *f, const char *camera, GError **error)
{
  gint i = refuse_stopping (f, error) ? -1 : find_camera (f, camera, error);

  return i >= 0 && set_fault (f, i, &none, error);
}

RtsFaultType
rts_faults_active (const RtsFaults *f, guint index)
{
  return f->cams[index].type;
}

RtsFaultType
rts_faults_active_named (const RtsFaults *f, const char *camera)
{
  gint i = find_camera (f, camera, NULL);

  return i < 0 ? RTS_FAULT_NONE : f->cams[i].type;
}
