/* probe: one asynchronous RTSP OPTIONS request, judged by its answer.
 *
 * Owns a probe's connection, its deadline and its verdict. A port is up only
 * if it answers "RTSP/1.0 200" within the deadline: a TCP connect alone
 * proves nothing, since a hung server still accepts connections. Never
 * blocks: everything runs as GIO async calls on the default main context. */
#pragma once

#include <gio/gio.h>

typedef struct {
  gboolean ok;       /* answered RTSP/1.0 200 in time */
  int status;        /* RTSP status code, or -1 */
  double latency;    /* seconds from start to verdict */
  const char *error; /* why not ok, NULL when ok */
} RtsProbeResult;

typedef void (*RtsProbeDone) (const RtsProbeResult *result, gpointer data);

/* Probes HOST:PORT with OPTIONS rtsp://HOST:PORT/PATH. DONE is called exactly
 * once, from the main loop, within TIMEOUT seconds (plus loop latency).
 * Cancelling CANCEL (may be NULL) ends the probe early with an error. */
void rts_probe_options (const char *host, guint port, const char *path,
    double timeout, GCancellable *cancel, RtsProbeDone done, gpointer data);
