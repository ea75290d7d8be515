/* health: see health.h. */
#include "health.h"

#include "config.h"
#include "fd_limit.h"

#include "log.h"
#include "probe.h"

struct RtsHealth {
  GPtrArray *servers;
  char *probe_host;
  guint threshold;
  double interval;
  double timeout;
  RtsPortHealth *ports;
  guint n;
  gboolean *in_flight; /* per port */
  gboolean *again;     /* per port: probe again when this one ends */
  guint timer_id;
  guint watch_id;
  double stall;
  gint64 heartbeat_mono;
  gboolean stopping;
  gboolean have_verdict;
  gboolean last_healthy;
  gboolean have_ready;
  gboolean last_ready;
  GCancellable *cancel;
};

typedef struct {
  RtsHealth *h;
  guint index;
} ProbeCtx;

RtsHealthSummary
rts_health_aggregate (const RtsPortHealth *ports, guint n, guint threshold,
    gboolean stopping)
{
  RtsHealthSummary s = { 0 };
  guint probed = 0;

  s.total_ports = n;
  s.threshold = threshold;
  for (guint i = 0; i < n; i++) {
    probed += ports[i].probed;
    s.open_ports += ports[i].probed && ports[i].up;
  }
  if (stopping) {
    g_strlcpy (s.reason, "shutting down", sizeof s.reason);
  } else if (probed < n) {
    g_snprintf (s.reason, sizeof s.reason,
        "starting: %u of %u ports probed so far", probed, n);
  } else {
    s.healthy = s.open_ports >= threshold;
    g_snprintf (s.reason, sizeof s.reason,
        "%u of %u ports answer RTSP "
        "(%u needed)",
        s.open_ports, n, threshold);
  }
  return s;
}

static void note_ready (RtsHealth *h);

gboolean
rts_health_aggregate_ready (const RtsPortHealth *ports, guint n,
    gboolean stopping, char *reason, gsize reason_len)
{
  guint answering = 0, streaming = 0, probed = 0;

  for (guint i = 0; i < n; i++) {
    probed += ports[i].probed;
    answering += ports[i].probed && ports[i].up;
    streaming += ports[i].streaming;
  }
  if (stopping) {
    g_strlcpy (reason, "shutting down", reason_len);
    return FALSE;
  }
  if (probed < n) {
    g_snprintf (reason, reason_len, "starting: %u of %u ports probed so far",
        probed, n);
    return FALSE;
  }
  g_snprintf (reason, reason_len,
      "%u of %u ports answer RTSP, %u of %u cameras stream video", answering, n,
      streaming, n);
  return answering == n && streaming == n;
}

static void
note_verdict (RtsHealth *h)
{
  RtsHealthSummary s = rts_health_summary (h);

  if (h->have_verdict && s.healthy == h->last_healthy)
    return;
  /* The first verdict is news too: it is when the server became ready. */
  rts_log_event (s.healthy ? "info" : "warn", "health: %s: %s",
      s.healthy ? "healthy" : "unhealthy", s.reason);
  h->have_verdict = TRUE;
  h->last_healthy = s.healthy;
}

static gboolean
all_probed (const RtsHealth *h)
{
  for (guint i = 0; i < h->n; i++) {
    if (!h->ports[i].probed)
      return FALSE;
  }
  return TRUE;
}

static void
note_ready (RtsHealth *h)
{
  char reason[160];
  gboolean ready = rts_health_ready (h, reason, sizeof reason);

  /* Not news before the first full round: start-up is not a transition. */
  if (!all_probed (h) && !h->stopping)
    return;
  if (h->have_ready && ready == h->last_ready)
    return;
  rts_log_event (ready ? "info" : "warn", "readiness: %s: %s",
      ready ? "ready" : "not ready", reason);
  h->have_ready = TRUE;
  h->last_ready = ready;
}

static void probe_port (RtsHealth *h, guint i);

static void
on_probe_done (const RtsProbeResult *r, gpointer data)
{
  ProbeCtx *ctx = data;
  RtsHealth *h = ctx->h;
  guint index = ctx->index;
  RtsPortHealth *ph = &h->ports[index];
  gboolean was_probed = ph->probed, was_up = ph->up;

  g_free (ctx);
  h->in_flight[index] = FALSE;
  if (h->stopping) {
    /* Cancelled by shutdown: not news about the port. */
    return;
  }
  ph->probed = TRUE;
  ph->up = r->ok;
  if (r->ok)
    ph->probes_ok++;
  else
    ph->probes_failed++;
  ph->status = r->status;
  ph->latency = r->latency;
  g_free (ph->error);
  /* A probe refused for want of descriptors says so: "connection closed
   * without an answer" alone sent people looking at the camera. */
  ph->error = r->ok || !rts_fd_limit_shedding ()
      ? g_strdup (r->error)
      : g_strdup_printf ("%s (the process is out of open files: new "
                         "connections are closed unserved)",
          r->error);
  ph->checked_at = g_get_real_time ();
  ph->checked_mono = g_get_monotonic_time ();

  if (!was_probed ? !r->ok : was_up != r->ok) {
    if (r->ok)
      rts_info ("port %u (camera %s) answers RTSP again", ph->port, ph->camera);
    else
      rts_warn ("port %u (camera %s) is down: %s", ph->port, ph->camera,
          ph->error);
  }

  /* Judge on every answer, not at the end of the round: one hung port
   * must not delay news about the others by a whole probe timeout. */
  if (all_probed (h)) {
    note_verdict (h);
    note_ready (h);
  }
  /* A fault changed the port while this probe was on its way: its answer
   * may be from before the change. */
  if (h->again[index]) {
    h->again[index] = FALSE;
    probe_port (h, index);
  }
}

static void
probe_port (RtsHealth *h, guint i)
{
  RtsRtspServer *srv = g_ptr_array_index (h->servers, i);
  ProbeCtx *ctx = g_new0 (ProbeCtx, 1);

  ctx->h = h;
  ctx->index = i;
  h->in_flight[i] = TRUE;
  rts_probe_port (h->probe_host, rts_rtsp_server_port (srv),
      rts_rtsp_server_camera (srv)->path, rts_rtsp_server_probe_header (),
      h->timeout, h->cancel, on_probe_done, ctx);
}

/* Each port not being probed now is probed; with AGAIN, one that is will
 * be once its probe ends. (A round that waited for every port's probe
 * let one hung port, whose probe takes the timeout, hold back every
 * other's news: faults showed after 3 s, rounds came every 4 s.) */
static void
probe_round (RtsHealth *h, gboolean again)
{
  if (h->stopping)
    return;
  for (guint i = 0; i < h->n; i++) {
    if (!h->in_flight[i])
      probe_port (h, i);
    else if (again)
      h->again[i] = TRUE;
  }
}

/* Every 250 ms: has each camera sent packets since the last look? Cheap
 * (one atomic read per camera), and doubles as the loop's heartbeat. */
static gboolean
on_watch (gpointer data)
{
  RtsHealth *h = data;
  gint64 now = g_get_monotonic_time ();

  h->heartbeat_mono = now;
  for (guint i = 0; i < h->n; i++) {
    RtsPortHealth *ph = &h->ports[i];
    guint packets = rts_rtsp_server_packets (g_ptr_array_index (h->servers, i));
    gboolean streaming;

    if (packets != ph->last_packets) {
      ph->last_packets = packets;
      ph->data_mono = now;
    }
    streaming = now - ph->data_mono < (gint64) (h->stall * G_USEC_PER_SEC);
    if (streaming != ph->streaming && !h->stopping) {
      if (streaming)
        rts_info ("camera %s streams video again", ph->camera);
      else {
        ph->stalls++;
        rts_warn ("camera %s stalled: no video for %.1f s", ph->camera,
            (now - ph->data_mono) / 1e6);
      }
    }
    ph->streaming = streaming;
  }
  note_ready (h);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timer (gpointer data)
{
  probe_round (data, FALSE);
  return G_SOURCE_CONTINUE;
}

RtsHealth *
rts_health_new (GPtrArray *servers, const char *probe_host, guint threshold,
    double interval, double timeout, double stall)
{
  RtsHealth *h = g_new0 (RtsHealth, 1);

  h->stall = stall;
  h->servers = g_ptr_array_ref (servers);
  h->probe_host = g_strdup (probe_host);
  h->threshold = threshold;
  h->interval = interval;
  h->timeout = timeout;
  h->n = servers->len;
  h->ports = g_new0 (RtsPortHealth, h->n);
  h->in_flight = g_new0 (gboolean, h->n);
  h->again = g_new0 (gboolean, h->n);
  h->cancel = g_cancellable_new ();
  for (guint i = 0; i < h->n; i++) {
    RtsRtspServer *srv = g_ptr_array_index (servers, i);
    h->ports[i].port = rts_rtsp_server_port (srv);
    h->ports[i].camera = rts_rtsp_server_camera (srv)->name;
    h->ports[i].status = -1;
    /* No video yet: /health may be asked while the cameras warm up
     * (data_mono 0 is "none", rendered null). */
    h->ports[i].streaming = FALSE;
  }
  h->heartbeat_mono = g_get_monotonic_time ();
  return h;
}

void
rts_health_start (RtsHealth *h)
{
  /* Started only once every camera has sent video (app.c's warm-up): from
   * now on the stall watch says whether it still does. */
  for (guint i = 0; i < h->n; i++) {
    h->ports[i].streaming = TRUE;
    h->ports[i].data_mono = g_get_monotonic_time ();
    h->ports[i].last_packets =
        rts_rtsp_server_packets (g_ptr_array_index (h->servers, i));
  }
  probe_round (h, FALSE);
  h->timer_id = g_timeout_add ((guint) (h->interval * 1000), on_timer, h);
  h->watch_id = g_timeout_add (RTS_STALL_WATCH_MS, on_watch, h);
}

void
rts_health_probe_now (RtsHealth *h)
{
  probe_round (h, TRUE);
}

void
rts_health_set_stopping (RtsHealth *h)
{
  h->stopping = TRUE;
  g_clear_handle_id (&h->timer_id, g_source_remove);
  g_cancellable_cancel (h->cancel);
  note_verdict (h);
  note_ready (h);
}

gboolean
rts_health_stopping (const RtsHealth *h)
{
  return h->stopping;
}

RtsHealthSummary
rts_health_summary (const RtsHealth *h)
{
  return rts_health_aggregate (h->ports, h->n, h->threshold, h->stopping);
}

const RtsPortHealth *
rts_health_ports (const RtsHealth *h, guint *n)
{
  *n = h->n;
  return h->ports;
}

gboolean
rts_health_ready (const RtsHealth *h, char *reason, gsize len)
{
  return rts_health_aggregate_ready (h->ports, h->n, h->stopping, reason, len);
}

double
rts_health_heartbeat_age (const RtsHealth *h)
{
  return (g_get_monotonic_time () - h->heartbeat_mono) / 1e6;
}

double
rts_health_age (const RtsHealth *h)
{
  gint64 oldest = G_MAXINT64;

  for (guint i = 0; i < h->n; i++) {
    if (!h->ports[i].probed)
      return -1;
    oldest = MIN (oldest, h->ports[i].checked_mono);
  }
  return h->n ? (g_get_monotonic_time () - oldest) / 1e6 : -1;
}

void
rts_health_free (RtsHealth *h)
{
  if (!h)
    return;
  g_clear_handle_id (&h->timer_id, g_source_remove);
  g_clear_handle_id (&h->watch_id, g_source_remove);
  /* Probes still in flight finish through their callbacks, which point at
   * us: only free once none is left (the app runs the loop until then). */
  g_cancellable_cancel (h->cancel);
  g_warn_if_fail (rts_health_pending (h) == 0);
  for (guint i = 0; i < h->n; i++)
    g_free (h->ports[i].error);
  g_free (h->ports);
  g_free (h->in_flight);
  g_free (h->again);
  g_object_unref (h->cancel);
  g_ptr_array_unref (h->servers);
  g_free (h->probe_host);
  g_free (h);
}

guint
rts_health_pending (const RtsHealth *h)
{
  guint n = 0;

  for (guint i = 0; i < h->n; i++)
    n += h->in_flight[i];
  return n;
}
