/* http_route: which answer an HTTP request gets, from its method, path and
 * headers alone.
 *
 * Owns the API's paths, the methods each one allows, the shape of
 * /health/PORT and /control/cameras/NAME/faults, and the control API's
 * bearer token check, including the order in which those are judged (a
 * POST to /health/abc is 405, not 404). Pure: no server, no socket, so the
 * fuzzer (fuzz/fuzz_http_path.c) and tests/test_http_route.c reach every
 * branch. http_api.c answers what the route decided. */
#pragma once

#include <glib.h>

typedef enum {
  RTS_ROUTE_NONE,     /* answered by STATUS and MESSAGE alone */
  RTS_ROUTE_HEALTH,   /* /health */
  RTS_ROUTE_LIVE,     /* /health/live */
  RTS_ROUTE_READY,    /* /health/ready */
  RTS_ROUTE_PORT,     /* /health/PORT, PORT in 1..65535 */
  RTS_ROUTE_METRICS,  /* /metrics */
  RTS_ROUTE_URLS,     /* /rtsp-urls */
  RTS_ROUTE_INDEX,    /* / */
  RTS_ROUTE_CONTROL,  /* /control/cameras/CAMERA/faults, token checked */
  RTS_ROUTE_SNAPSHOT, /* /cameras/CAMERA/snapshot.jpg */
} RtsRouteKind;

typedef struct {
  RtsRouteKind kind;
  /* Set when the request is answered at once: 401, 404 or 405. */
  guint status;
  char *message;
  const char *allow;  /* methods of the path, for a 405's Allow header */
  guint port;         /* RTS_ROUTE_PORT */
  char *camera;       /* RTS_ROUTE_CONTROL, _SNAPSHOT: NAME as in the path */
  gboolean authorize; /* 401: the answer needs WWW-Authenticate */
} RtsRoute;

/* Routes METHOD on PATH (as libsoup hands it over: without the query).
 * AUTHORIZATION is that header's value or NULL; CONTROL_TOKEN NULL means
 * the control API does not exist. Free with rts_http_route_clear(). */
void rts_http_route (const char *method, const char *path,
    const char *authorization, const char *control_token, RtsRoute *route);
void rts_http_route_clear (RtsRoute *route);

/* TRUE when METHOD is one of ALLOWED ("GET, HEAD"). */
gboolean rts_http_method_allowed (const char *method, const char *allowed);

/* TRUE when AUTHORIZATION is "Bearer TOKEN". Takes time that depends on
 * TOKEN's length only, so timing does not tell how much of a guess was
 * right. */
gboolean rts_http_bearer_ok (const char *authorization, const char *token);

/* TRUE when an Accept header prefers JSON to HTML (RFC 9110, 12.5.1):
 * application/json weighs more than text/html (each by its most specific
 * range, wildcards counting), or as much, named where text/html is only a
 * wildcard's. Scripts name JSON (axios: "application/json,
 * text/plain, * / *"); browsers weigh text/html first; "* / *" alone and
 * no header get HTML. */
gboolean rts_http_wants_json (const char *accept);

/* The user name an Authorization header's value (Basic or Digest, as RTSP
 * and HTTP send them) gives, for a log line: quoted by rts_log_quote (UTF-8
 * kept, controls and direction overrides escaped, so a client cannot
 * forge or reorder a line), at most 64 characters. "?" when the header
 * names none; NULL for no header. */
char *rts_auth_header_user (const char *authorization);
