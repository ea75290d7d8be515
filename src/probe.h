/* probe: one asynchronous RTSP OPTIONS + DESCRIBE exchange, judged by its
 * answers.
 *
 * Owns a probe's connection, its deadline and its verdict. A port is up only
 * if it answers OPTIONS with "RTSP/1.0 200" and then DESCRIBE with 200 and
 * an SDP that offers video, all within the deadline: a TCP connect alone
 * proves nothing, since a hung server still accepts connections, and OPTIONS
 * alone does not prove the mount and its media are there. Never
 * blocks: everything runs as GIO async calls on the default main context. */
#pragma once

#include <gio/gio.h>

typedef struct {
  gboolean ok;       /* both answered RTSP/1.0 200 in time, SDP has video */
  int status;        /* RTSP status code, or -1 */
  double latency;    /* seconds from start to verdict */
  const char *error; /* why not ok, NULL when ok */
} RtsProbeResult;

typedef void (*RtsProbeDone) (const RtsProbeResult *result, gpointer data);

/* Probes HOST:PORT with OPTIONS, then DESCRIBE, of rtsp://HOST:PORT/PATH on
 * one connection, each request carrying HEADER ("Name: value", may be
 * NULL). DONE is called exactly
 * once, from the main loop, within TIMEOUT seconds (plus loop latency).
 * Cancelling CANCEL (may be NULL) ends the probe early with an error. */
void rts_probe_port (const char *host, guint port, const char *path,
    const char *header, double timeout, GCancellable *cancel, RtsProbeDone done,
    gpointer data);
