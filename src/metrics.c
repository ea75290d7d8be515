/* metrics: see metrics.h. */
#include "metrics.h"

#include <math.h>

#define PREFIX "rtsp_test_server_"

/* Label values: backslash, double quote and newline are escaped, as the
 * exposition format requires; everything else goes through. */
static void
append_label (GString *out, const char *value)
{
  for (const char *c = value; *c; c++) {
    if (*c == '\\' || *c == '"')
      g_string_append_c (out, '\\');
    if (*c == '\n') {
      g_string_append (out, "\\n");
      continue;
    }
    g_string_append_c (out, *c);
  }
}

static void
header (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out,
      "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name,
      type);
}

static void
value (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* The exposition format's own spelling; printf's is "nan". */
  g_string_append_printf (out, " %s\n",
      isnan (v) ? "NaN" : rts_json_format_number (buf, v));
}

static void
gauge (GString *out, const char *name, const char *help, double v)
{
  header (out, name, "gauge", help);
  g_string_append (out, PREFIX);
  g_string_append (out, name);
  value (out, v);
}

typedef double (*CameraValue) (const RtsMetricsCamera *c, RtsNow now);

static void
per_camera (GString *out, const char *name, const char *type, const char *help,
    const RtsMetricsCamera *cams, guint n, RtsNow now, CameraValue get)
{
  header (out, name, type, help);
  for (guint i = 0; i < n; i++) {
    g_string_append_printf (out, PREFIX "%s{camera=\"", name);
    append_label (out, cams[i].cam->name);
    g_string_append_printf (out, "\",port=\"%u\"}", cams[i].cam->port);
    value (out, get (&cams[i], now));
  }
}

static double
frames (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.frames;
}

static double
bytes (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.bytes;
}

static double
readers (const RtsMetricsCamera *c, RtsNow now)
{
  return c->cam->readers;
}

static double
sessions (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.sessions;
}

static double
refused (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.refused;
}

static double
idle_closed (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.idle_closed;
}

static double
auth_failures (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.auth_failures;
}

static double
reader_waits (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.reader_waits;
}

static double
frames_dropped (const RtsMetricsCamera *c, RtsNow now)
{
  return c->counters.frames_dropped;
}

static double
stalls (const RtsMetricsCamera *c, RtsNow now)
{
  return c->port->stalls;
}

static double
streaming (const RtsMetricsCamera *c, RtsNow now)
{
  return c->port->streaming;
}

static double
video_age (const RtsMetricsCamera *c, RtsNow now)
{
  /* Unknown while the cameras warm up (no video seen yet). */
  return c->port->data_mono ? (now.mono_us - c->port->data_mono) / 1e6 : NAN;
}

static double
port_up (const RtsMetricsCamera *c, RtsNow now)
{
  return c->port->probed && c->port->up;
}

static double
probe_latency (const RtsMetricsCamera *c, RtsNow now)
{
  return c->port->probed ? c->port->latency : NAN; /* none yet */
}

static double
fault_active (const RtsMetricsCamera *c, RtsNow now)
{
  return c->cam->fault != NULL;
}

char *
rts_metrics_render (const RtsMetricsProcess *p, const RtsMetricsCamera *cams,
    guint n, RtsNow now)
{
  GString *out = g_string_new (NULL);

  gauge (out, "uptime_seconds", "Seconds since the server started.", p->uptime);
  gauge (out, "healthy",
      "1 when GET /health answers 200 (enough ports "
      "answer RTSP), else 0.",
      p->healthy);
  gauge (out, "ready",
      "1 when GET /health/ready answers 200 (every port "
      "answers, every camera streams), else 0.",
      p->ready);
  gauge (out, "open_ports", "RTSP ports whose last probe was answered 200.",
      p->open_ports);
  gauge (out, "loop_heartbeat_age_seconds",
      "Seconds since the main loop last ran its 250 ms watchdog.",
      p->heartbeat_age);
  gauge (out, "resident_memory_bytes", "Resident memory of the process.",
      (double) p->rss_bytes);
  gauge (out, "http_connections", "HTTP connections open now.",
      p->http_connections);
  header (out, "http_refused_total", "counter",
      "HTTP connections answered 503 because max-http-connections were "
      "open.");
  g_string_append (out, PREFIX "http_refused_total");
  value (out, (double) p->http_refused);
  header (out, "http_idle_closed_total", "counter",
      "HTTP connections closed unanswered: after the idle timeout, or "
      "making way for a new one at --max-http-connections.");
  g_string_append (out, PREFIX "http_idle_closed_total");
  value (out, (double) p->http_idle_closed);
  gauge (out, "open_files", "File descriptors the process has open.",
      (double) p->open_files);
  gauge (out, "open_files_limit",
      "The most it may open (RLIMIT_NOFILE, raised to the hard limit at "
      "start).",
      (double) p->open_files_limit);
  header (out, "connections_shed_total", "counter",
      "RTSP and HTTP connections closed unserved because the process was "
      "near its open-files limit (the last descriptors are kept for the "
      "cameras, the health probes and the readers playing).");
  g_string_append (out, PREFIX "connections_shed_total");
  value (out, (double) p->connections_shed);

  per_camera (out, "frames_sent_total", "counter",
      "Video frames the camera sent (each reaches every reader).", cams, n, now,
      frames);
  per_camera (out, "bytes_sent_total", "counter",
      "RTP bytes the camera sent, once however many readers.", cams, n, now,
      bytes);
  per_camera (out, "readers", "gauge", "Readers connected now.", cams, n, now,
      readers);
  per_camera (out, "sessions_total", "counter",
      "Readers that set up a session since start.", cams, n, now, sessions);
  per_camera (out, "refused_total", "counter",
      "Requests refused by a limit: SETUPs answered 453 (a reader limit "
      "reached) and requests answered 413 (too many header lines).",
      cams, n, now, refused);
  per_camera (out, "idle_closed_total", "counter",
      "Connections closed for holding no session past the idle timeout.", cams,
      n, now, idle_closed);
  per_camera (out, "auth_failures_total", "counter",
      "RTSP requests that named a user with a wrong password (answered 401; "
      "logged at most once a second).",
      cams, n, now, auth_failures);
  per_camera (out, "reader_waits_total", "counter",
      "Times a TCP reader's connection was full and its stream waited for it, "
      "losing nothing (loop and file cameras).",
      cams, n, now, reader_waits);
  per_camera (out, "reader_frames_dropped_total", "counter",
      "Video frames a reader skipped, its connection full for over a second "
      "(it goes on from the next keyframe; loop and file cameras).",
      cams, n, now, frames_dropped);
  per_camera (out, "stalls_total", "counter",
      "Times the camera stopped sending video for the stall threshold.", cams,
      n, now, stalls);
  per_camera (out, "streaming", "gauge",
      "1 while the camera sends video, else 0.", cams, n, now, streaming);
  per_camera (out, "last_frame_age_seconds", "gauge",
      "Seconds since the camera last sent video.", cams, n, now, video_age);
  per_camera (out, "fault_active", "gauge",
      "1 while an injected fault holds on the camera.", cams, n, now,
      fault_active);
  per_camera (out, "port_up", "gauge",
      "1 when the port's last probe got RTSP/1.0 200 in time.", cams, n, now,
      port_up);
  per_camera (out, "probe_latency_seconds", "gauge",
      "Duration of the port's last probe (RTSP OPTIONS, then DESCRIBE).", cams,
      n, now, probe_latency);

  header (out, "probes_total", "counter",
      "RTSP OPTIONS probes of the port, by result.");
  for (guint i = 0; i < n; i++) {
    for (int ok = 1; ok >= 0; ok--) {
      g_string_append (out, PREFIX "probes_total{camera=\"");
      append_label (out, cams[i].cam->name);
      g_string_append_printf (out, "\",port=\"%u\",result=\"%s\"}",
          cams[i].cam->port, ok ? "ok" : "failed");
      value (out, ok ? cams[i].port->probes_ok : cams[i].port->probes_failed);
    }
  }
  return g_string_free (out, FALSE);
}
