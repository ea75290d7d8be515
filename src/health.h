/* health: the server's own view of whether its cameras answer and stream.
 *
 * Owns the per-port probe results, the periodic probe rounds, the video
 * watchdog (is each camera still sending packets?), the loop heartbeat, and
 * the verdicts built on them: healthy (at least THRESHOLD ports answer RTSP
 * OPTIONS with 200), ready (every port answers and every camera streams, and
 * we are not stopping) and per port. Endpoints read cached verdicts; nothing
 * here ever blocks the loop. Each change is logged once, with its reason. */
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
  gboolean streaming;  /* video left the camera within the stall threshold */
  gint64 data_mono;    /* monotonic us when packets were last seen moving */
  guint last_packets;
  guint64 probes_ok;     /* probes answered 200 in time, since start */
  guint64 probes_failed; /* every other probe */
  guint64 stalls;        /* times the camera went from streaming to stalled */
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

/* Pure: ready when not STOPPING and every port is probed, answers and
 * streams. REASON gets one line either way. */
gboolean rts_health_aggregate_ready (const RtsPortHealth *ports, guint n,
    gboolean stopping, char *reason, gsize reason_len);

/* SERVERS holds RtsRtspServer*; probes go to PROBE_HOST on each one's port.
 * A camera whose packets stop for STALL seconds is not streaming. */
RtsHealth *rts_health_new (GPtrArray *servers, const char *probe_host,
    guint threshold, double interval, double timeout, double stall);
void rts_health_free (RtsHealth *h);

/* First round now, then one every interval. Each port is probed on its
 * own: one hung port (whose probe waits its timeout) delays no other. */
void rts_health_start (RtsHealth *h);

/* Every port probed now (after a fault changed one): a port whose probe
 * is in flight, which may have begun before the change, is probed again
 * as soon as it ends. */
void rts_health_probe_now (RtsHealth *h);

/* From the first moment of shutdown the verdict is unhealthy. */
void rts_health_set_stopping (RtsHealth *h);
gboolean rts_health_stopping (const RtsHealth *h);

RtsHealthSummary rts_health_summary (const RtsHealth *h);
const RtsPortHealth *rts_health_ports (const RtsHealth *h, guint *n);

/* Probes in flight; the owner runs the loop until 0 before freeing. */
guint rts_health_pending (const RtsHealth *h);

gboolean rts_health_ready (const RtsHealth *h, char *reason, gsize len);

/* Seconds since the loop last ran the watchdog, which it does every
 * 250 ms: well above that, the loop is stuck or starved. */
double rts_health_heartbeat_age (const RtsHealth *h);

/* How old the oldest port's last probe result is, in seconds; -1 until
 * every port has one. */
double rts_health_age (const RtsHealth *h);
