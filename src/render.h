/* render: what the HTTP endpoints say, as JSON and HTML.
 *
 * Owns the shape of every response body. Pure functions of plain views, so
 * the shapes are unit-tested without sockets; http_api gathers the views. */
#pragma once

#include "config.h"
#include "health.h"
#include "json_text.h"

typedef struct {
  const char *name;
  guint port;
  const char *path;
  const char *codec;
  guint width;
  guint height;
  guint fps; /* whole */
  guint readers;
  const char *listen; /* open, hung, closed */
  const char *fault;  /* NULL when none */
  guint transports;   /* RtsTransports the camera offers */
  const char *auth;   /* "none", "basic", "digest"; NULL: none */
  guint fps_n, fps_d; /* exact (a file's may be 30000/1001); 0: fps/1 */
} RtsCameraView;

typedef struct {
  gint64 real_us; /* g_get_real_time () */
  gint64 mono_us; /* g_get_monotonic_time () */
} RtsNow;

/* rtsp://HOST:PORT/PATH, with brackets around an IPv6 HOST. */
char *rts_build_rtsp_url (const char *host, guint port, const char *path);

/* The host part of an HTTP Host header ("example.com:8080" -> "example.com",
 * "[::1]:8080" -> "::1"); NULL when absent or malformed. */
char *rts_host_from_header (const char *host_header);

/* The JSON answers below are each written to W as one value: the whole
 * answer, or a member of a larger one (GET / as JSON holds two). */

/* GET /health. PORTS and CAMS are parallel arrays of N. */
void rts_render_health (RtsJsonWriter *w, const RtsHealthSummary *s,
    const RtsPortHealth *ports, const RtsCameraView *cams, guint n,
    double probe_age, RtsNow now);

/* GET /rtsp-urls, URLs built on HOST. */
void rts_render_urls (RtsJsonWriter *w, const RtsCameraView *cams, guint n,
    const char *host);

/* GET / for a person. */
char *rts_render_index_html (const RtsHealthSummary *s,
    const RtsCameraView *cams, guint n, const char *host, RtsNow now);

/* GET /health/live, /health/ready, /health/PORT: {"status": "healthy" or
 * "unhealthy", "check": CHECK, "reason", "timestamp"}, plus the port's
 * detail when PORT (and CAM) are given. */
void rts_render_check (RtsJsonWriter *w, const char *check, gboolean ok,
    const char *reason, const RtsPortHealth *port, const RtsCameraView *cam,
    RtsNow now);

/* {"error": MESSAGE, "status": CODE}. */
void rts_render_error (RtsJsonWriter *w, guint code, const char *message);
