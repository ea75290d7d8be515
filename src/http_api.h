/* http_api: the HTTP API (/health, /rtsp-urls, /, /control/...).
 *
 * Owns the libsoup server, its listening socket, routing, methods and the
 * control API's token check. Handlers only read what health, servers and
 * faults already know: no handler waits on anything. */
#pragma once

#include "faults.h"

typedef struct RtsHttpApi RtsHttpApi;

typedef struct {
  const char *bind;
  guint port;                /* 0: any free port */
  const char *public_host;   /* NULL: the request's Host */
  const char *control_token; /* NULL: control API answers 404 */
  guint max_connections;     /* open at once; one more gets 503 */
  guint idle_timeout;        /* seconds a connection may take to be answered */
  GPtrArray *servers;        /* RtsRtspServer* */
  RtsHealth *health;
  RtsFaults *faults;
} RtsHttpApiSetup;

/* Listens at once; fails with a message naming the port if it is taken. */
RtsHttpApi *rts_http_api_new (const RtsHttpApiSetup *setup, GError **error);
void rts_http_api_free (RtsHttpApi *api);

guint rts_http_api_port (const RtsHttpApi *api);
