/* fuzz_http_path: what the HTTP API decides from a request's method, target
 * and headers, before any handler reads server state: src/http_route.c
 * (path, /health/PORT, /control/cameras/NAME/faults, methods, the bearer
 * token), the Host header (rts_host_from_header, then the URLs and the
 * status page built on it), Accept, error bodies, and for a control POST
 * that passed the token, the fault body.
 *
 * Input: NUL-separated fields METHOD, TARGET, AUTHORIZATION, ACCEPT, HOST,
 * BODY; a missing field is an absent header. TARGET is split at '?' as
 * libsoup does before calling the handler (no handler reads the query). */
#include "fuzz.h"

#include "faults.h"
#include "http_route.h"
#include "render.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN "s3cret-token"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_glib_fatal ();
  return 0;
}

static void
check_route (const RtsRoute *r, const char *method, const char *token)
{
  switch (r->kind) {
    case RTS_ROUTE_NONE:
      if (!r->message
          || (r->status != 401 && r->status != 404 && r->status != 405)
          || (r->status == 405) != (r->allow != NULL)
          || (r->status == 401) != r->authorize || r->camera)
        abort ();
      break;
    case RTS_ROUTE_PORT:
      if (r->port < 1 || r->port > 65535)
        abort ();
      break;
    case RTS_ROUTE_CONTROL:
      /* Only with a token, only after it matched, only to POST/DELETE. */
      if (!token || !r->camera || !r->camera[0] || strchr (r->camera, '/')
          || (strcmp (method, "POST") && strcmp (method, "DELETE")))
        abort ();
      break;
    default:
      if (strcmp (method, "GET") && strcmp (method, "HEAD"))
        abort ();
      break;
  }
  if (r->kind != RTS_ROUTE_NONE && r->status)
    abort ();
}

/* The Host goes into every URL /rtsp-urls and / hand out: whatever a
 * client sends, what comes back is a host name or an address, nothing that
 * ends the authority early or names another host. (libsoup refuses some
 * Host values with 400 first, but not all: "[a@b]" reached us.) */
static void
check_host (const char *header)
{
  g_autofree char *host = NULL;
  RtsCameraView cam = { "cam1", 8554, "/stream", "h264", 640, 480, 30, 0,
    "open", NULL };
  RtsHealthSummary s = { TRUE, 1, 1, 1, "all good" };
  RtsNow now = { 1764000000000000, 1000000 };
  RtsJsonWriter *w;
  g_autofree char *json = NULL;
  g_autofree char *html = NULL;

  host = rts_host_from_header (header);
  if (!host)
    return;
  if (!host[0] || strpbrk (host, " \t\r\n\"'<>\\/?#@[]"))
    abort ();
  w = rts_json_writer_new ();
  rts_render_urls (w, &cam, 1, host);
  json = rts_json_writer_finish (w);
  html = rts_render_index_html (&s, &cam, 1, host, now);
}

static void
route_once (const char *method, const char *path, const char *auth,
    const char *token, const char *body, size_t body_len)
{
  RtsRoute r;

  rts_http_route (method, path, auth, token, &r);
  check_route (&r, method, token);
  if (r.kind == RTS_ROUTE_NONE) {
    RtsJsonWriter *w = rts_json_writer_new ();
    g_autofree char *json = NULL;

    rts_render_error (w, r.status, r.message);
    json = rts_json_writer_finish (w);
    if (!strstr (json, "\"error\""))
      abort ();
  }
  if (r.kind == RTS_ROUTE_CONTROL && strcmp (method, "POST") == 0) {
    RtsFault f;
    g_autoptr (GError) error = NULL;
    (void) rts_fault_parse (body, body_len, &f, &error);
  }
  rts_http_route_clear (&r);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint n;
  char **f = fuzz_split (data, size, &n);
  const char *method = fuzz_field (f, n, 0);
  const char *target = fuzz_field (f, n, 1);
  /* libsoup hands over an empty body, never a NULL one. */
  const char *body = n > 5 ? f[5] : "";
  g_autofree char *path = NULL;

  /* libsoup never calls a handler without a method and a path. */
  if (method && method[0] && target) {
    const char *q = strchr (target, '?');
    path = q ? g_strndup (target, q - target) : g_strdup (target);
    route_once (method, path, fuzz_field (f, n, 2), TOKEN, body, strlen (body));
    route_once (method, path, fuzz_field (f, n, 2), NULL, body, strlen (body));
    (void) rts_http_wants_json (fuzz_field (f, n, 3));
    (void) rts_http_bearer_ok (fuzz_field (f, n, 2), TOKEN);
    check_host (fuzz_field (f, n, 4));
  }
  g_strfreev (f);
  return 0;
}
