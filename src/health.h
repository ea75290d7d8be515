/* health: the server's own view of whether its cameras answer.
 *
 * Owns the per-port probe results, the periodic probe rounds and the overall
 * verdict (at least THRESHOLD ports answer RTSP OPTIONS with 200). Endpoints
 * read the cached verdict; nothing here ever blocks the loop. Each change of
 * a port or of the verdict is logged once. */
#pragma once

#include "rtsp_servers.h"

typedef struct {
  guint port;
  const char *camera;
  gboolean probed; /* a probe has finished at least once */
  gboolean up;
  int status;          /* last RTSP status, -1 if none */
  double latency;      /* seconds the last probe took */
  char *error;         /* why down; NULL when up */
  gint64 checked_at;   /* wall clock of the last verdict, us */
  gint64 checked_mono; /* monotonic clock of the same, us */
} RtsPortHealth;

typedef struct {
  gboolean healthy;
  guint open_ports;
  guint total_ports;
  guint threshold;
  char reason[160]; /* one line for people and logs */
} RtsHealthSummary;

/* Pure: the verdict for N ports. Not healthy while STOPPING, or before
 * every port has been probed once (start-up). */
RtsHealthSummary rts_health_aggregate (const RtsPortHealth *ports, guint n,
    guint threshold, gboolean stopping);

typedef struct RtsHealth RtsHealth;

/* SERVERS holds RtsRtspServer*; probes go to PROBE_HOST on each one's port. */
RtsHealth *rts_health_new (GPtrArray *servers, const char *probe_host,
    guint threshold, double interval, double timeout);
void rts_health_free (RtsHealth *h);

/* First round now, then one every interval. */
void rts_health_start (RtsHealth *h);

/* A round now (after a fault changed a port), unless one is running. */
void rts_health_probe_now (RtsHealth *h);

/* From the first moment of shutdown the verdict is unhealthy. */
void rts_health_set_stopping (RtsHealth *h);

RtsHealthSummary rts_health_summary (const RtsHealth *h);
const RtsPortHealth *rts_health_ports (const RtsHealth *h, guint *n);

/* Probes in flight; the owner runs the loop until 0 before freeing. */
guint rts_health_pending (const RtsHealth *h);

/* Seconds since the last finished round; -1 before the first. */
double rts_health_age (const RtsHealth *h);
