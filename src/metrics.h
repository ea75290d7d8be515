/* metrics: GET /metrics, in the Prometheus text exposition format.
 *
 * Owns the metric names, types, help texts and label escaping. Pure: it
 * renders views that http_api gathers from the servers and health, so the
 * format is unit-tested without a server. Names follow Prometheus
 * conventions: prefix rtsp_test_server_, _total for counters, base units
 * (_seconds, _bytes), labels camera and port. */
#pragma once

#include "render.h"

typedef struct {
  const RtsCameraView *cam;
  const RtsPortHealth *port;
  RtsCameraCounters counters;
} RtsMetricsCamera;

typedef struct {
  double uptime;        /* seconds since start */
  gboolean healthy;     /* /health would answer 200 */
  gboolean ready;       /* /health/ready would answer 200 */
  guint64 rss_bytes;    /* resident memory; 0 if unknown */
  double heartbeat_age; /* seconds since the loop's last heartbeat */
  guint open_ports;
  guint http_connections; /* open now */
  guint64 http_refused;   /* answered 503: too many connections */
  guint64 http_idle_closed;
  guint64 open_files;       /* descriptors open now; 0 if unknown */
  guint64 open_files_limit; /* RLIMIT_NOFILE, as raised at start */
  guint64 connections_shed; /* closed unserved: out of open files */
} RtsMetricsProcess;

/* The whole /metrics body for N cameras. */
char *rts_metrics_render (const RtsMetricsProcess *p,
    const RtsMetricsCamera *cams, guint n, RtsNow now);
