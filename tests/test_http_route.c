/* Unit tests of http_route: which answer each request gets before any
 * handler runs, and in which order the checks apply. */
#include "http_route.h"

#include <string.h>

#define TOKEN "s3cret"

typedef struct {
  const char *method;
  const char *path;
  const char *auth;
  const char *token;
  RtsRouteKind kind;
  guint status;
  const char *mention; /* in the message, when STATUS */
} Case;

static void
check (const Case *c)
{
  RtsRoute r;

  rts_http_route (c->method, c->path, c->auth, c->token, &r);
  if (r.kind != c->kind || r.status != c->status)
    g_error ("%s %s (auth %s, token %s): kind %d status %u, want %d %u",
        c->method, c->path, c->auth, c->token, r.kind, r.status, c->kind,
        c->status);
  if (c->mention && (!r.message || !strstr (r.message, c->mention)))
    g_error ("%s %s: '%s' does not mention '%s'", c->method, c->path, r.message,
        c->mention);
  g_assert_true ((r.status == 405) == (r.allow != NULL));
  g_assert_true ((r.status == 401) == r.authorize);
  rts_http_route_clear (&r);
}

static void
test_paths (void)
{
  const Case cases[] = {
    { "GET", "/health", NULL, NULL, RTS_ROUTE_HEALTH, 0, NULL },
    { "HEAD", "/health", NULL, NULL, RTS_ROUTE_HEALTH, 0, NULL },
    { "GET", "/health/live", NULL, NULL, RTS_ROUTE_LIVE, 0, NULL },
    { "GET", "/health/ready", NULL, NULL, RTS_ROUTE_READY, 0, NULL },
    { "GET", "/metrics", NULL, NULL, RTS_ROUTE_METRICS, 0, NULL },
    { "GET", "/rtsp-urls", NULL, NULL, RTS_ROUTE_URLS, 0, NULL },
    { "GET", "/", NULL, NULL, RTS_ROUTE_INDEX, 0, NULL },
    { "GET", "/health/", NULL, NULL, RTS_ROUTE_NONE, 404, "/health/PORT" },
    { "GET", "/healthz", NULL, NULL, RTS_ROUTE_NONE, 404, "/rtsp-urls" },
    { "GET", "", NULL, NULL, RTS_ROUTE_NONE, 404, "no such path" },
    { "GET", "/metrics/", NULL, NULL, RTS_ROUTE_NONE, 404, NULL },
    { "GET", "/HEALTH", NULL, NULL, RTS_ROUTE_NONE, 404, NULL },
    { "POST", "/health", NULL, NULL, RTS_ROUTE_NONE, 405, "method POST" },
    { "PUT", "/", NULL, NULL, RTS_ROUTE_NONE, 405, "GET, HEAD" },
    { "get", "/health", NULL, NULL, RTS_ROUTE_NONE, 405, NULL },
    /* The method is judged before the port, as before the split. */
    { "POST", "/health/abc", NULL, NULL, RTS_ROUTE_NONE, 405, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check (&cases[i]);
}

static void
test_port (void)
{
  const struct {
    const char *path;
    guint port; /* 0: 404 */
  } cases[] = {
    { "/health/8554", 8554 },
    { "/health/1", 1 },
    { "/health/65535", 65535 },
    { "/health/0", 0 },
    { "/health/65536", 0 },
    { "/health/99999999999999999999999", 0 },
    { "/health/+8554", 0 },
    { "/health/-1", 0 },
    { "/health/ 8554", 0 },
    { "/health/8554 ", 0 },
    { "/health/8554/", 0 },
    { "/health/0x10", 0 },
    { "/health/08554", 0 },
    { "/health/000000000000000000008554", 0 },
    { "/health/8554x", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsRoute r;

    rts_http_route ("GET", cases[i].path, NULL, NULL, &r);
    if (cases[i].port) {
      g_assert_cmpint (r.kind, ==, RTS_ROUTE_PORT);
      g_assert_cmpuint (r.port, ==, cases[i].port);
    } else if (r.kind != RTS_ROUTE_NONE || r.status != 404) {
      g_error ("%s: kind %d status %u, want 404", cases[i].path, r.kind,
          r.status);
    }
    rts_http_route_clear (&r);
  }
}

static void
test_control (void)
{
  const char *ok = "Bearer " TOKEN;
  const char *path = "/control/cameras/cam1/faults";
  const Case cases[] = {
    /* No token configured: the control API does not exist. */
    { "POST", path, ok, NULL, RTS_ROUTE_NONE, 404, "no such path" },
    { "POST", path, ok, TOKEN, RTS_ROUTE_CONTROL, 0, NULL },
    { "DELETE", path, ok, TOKEN, RTS_ROUTE_CONTROL, 0, NULL },
    /* The token is checked before the method... */
    { "GET", path, NULL, TOKEN, RTS_ROUTE_NONE, 401, "bearer token" },
    { "GET", path, ok, TOKEN, RTS_ROUTE_NONE, 405, "POST, DELETE" },
    /* ... and the path before the token. */
    { "POST", "/control/cameras/cam1", NULL, TOKEN, RTS_ROUTE_NONE, 404,
        "/control/cameras/NAME/faults" },
    { "POST", "/control/cameras//faults", ok, TOKEN, RTS_ROUTE_NONE, 404,
        NULL },
    { "POST", "/control/camera/cam1/faults", ok, TOKEN, RTS_ROUTE_NONE, 404,
        NULL },
    { "POST", "/control/cameras/cam1/faults/", ok, TOKEN, RTS_ROUTE_NONE, 404,
        NULL },
    { "POST", "/control/cameras/a/b/faults", ok, TOKEN, RTS_ROUTE_NONE, 404,
        NULL },
    { "POST", path, "Bearer " TOKEN "x", TOKEN, RTS_ROUTE_NONE, 401, NULL },
    { "POST", path, "Bearer s3cre", TOKEN, RTS_ROUTE_NONE, 401, NULL },
    { "POST", path, "Basic " TOKEN, TOKEN, RTS_ROUTE_NONE, 401, NULL },
    { "POST", path, "Bearer  " TOKEN, TOKEN, RTS_ROUTE_NONE, 401, NULL },
    { "POST", path, TOKEN, TOKEN, RTS_ROUTE_NONE, 401, NULL },
    { "POST", path, "Bearer ", TOKEN, RTS_ROUTE_NONE, 401, NULL },
  };
  RtsRoute r;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check (&cases[i]);

  rts_http_route ("POST", "/control/cameras/cam%202/faults", ok, TOKEN, &r);
  g_assert_cmpint (r.kind, ==, RTS_ROUTE_CONTROL);
  g_assert_cmpstr (r.camera, ==, "cam%202");
  rts_http_route_clear (&r);
}

static void
test_helpers (void)
{
  g_assert_true (rts_http_method_allowed ("GET", "GET, HEAD"));
  g_assert_true (rts_http_method_allowed ("HEAD", "GET, HEAD"));
  g_assert_false (rts_http_method_allowed ("GET,", "GET, HEAD"));
  g_assert_false (rts_http_method_allowed ("", "GET, HEAD"));
  g_assert_false (rts_http_method_allowed (NULL, "GET, HEAD"));

  g_assert_true (rts_http_bearer_ok ("Bearer t", "t"));
  g_assert_false (rts_http_bearer_ok (NULL, "t"));
  g_assert_false (rts_http_bearer_ok ("Bearer t", NULL));
  g_assert_false (rts_http_bearer_ok ("Bearer ", "t"));

  g_assert_true (rts_http_wants_json ("application/json"));
  g_assert_true (rts_http_wants_json ("application/json, */*;q=0.5"));
  g_assert_false (rts_http_wants_json ("text/html,application/json"));
  g_assert_false (rts_http_wants_json ("*/*"));
  g_assert_false (rts_http_wants_json (NULL));
  /* By the weights, as RFC 9110 has them; case does not count. */
  g_assert_true (rts_http_wants_json ("Application/JSON"));
  g_assert_false (rts_http_wants_json ("application/json;q=0"));
  g_assert_false (rts_http_wants_json ("application/jsonp"));
  g_assert_true (rts_http_wants_json ("application/json, text/plain, */*"));
  g_assert_false (rts_http_wants_json (
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  g_assert_true (rts_http_wants_json ("text/html;q=0.5, application/json"));
  g_assert_false (rts_http_wants_json ("application/json;q=0.4, text/*"));
  g_assert_true (rts_http_wants_json ("application/*, text/html;q=0.9"));
  g_assert_false (rts_http_wants_json ("application/json, text/html"));
  g_assert_false (rts_http_wants_json (",;,q=1,/"));

  /* The scheme's name in any case; the token as it is. */
  g_assert_true (rts_http_bearer_ok ("bearer t", "t"));
  g_assert_true (rts_http_bearer_ok ("BEARER t", "t"));
  g_assert_false (rts_http_bearer_ok ("Bearer T", "t"));
  g_assert_false (rts_http_bearer_ok ("Basic dDp0", "t"));
}

/* The user an Authorization header names, fit for one log line. */
static void
test_auth_user (void)
{
  g_autofree char *plain = g_base64_encode ((const guchar *) "ad\nmin:pw", 9);
  g_autofree char *basic = g_strconcat ("Basic ", plain, NULL);
  g_autofree char *nocolon_b64 = g_base64_encode ((const guchar *) "admin", 5);
  g_autofree char *nocolon = g_strconcat ("basic ", nocolon_b64, NULL);
  g_autofree char *long_name = g_strnfill (100, 'u');
  const char *utf8 = "\xc3\xa9\xf0\x9f\x98\x80 \xe2\x80\xa8 \xe2\x80\xae x:pw";
  g_autofree char *utf8_b64 =
      g_base64_encode ((const guchar *) utf8, strlen (utf8));
  g_autofree char *basic_utf8 = g_strconcat ("Basic ", utf8_b64, NULL);
  g_autofree char *digest_long =
      g_strdup_printf ("Digest username=\"%s\", realm=\"r\"", long_name);
  struct {
    const char *header, *user;
  } cases[] = {
    { basic, "ad\\nmin" },
    { basic_utf8, "\xc3\xa9\xf0\x9f\x98\x80 \\u2028 \\u202E x" },
    { "Digest username=\"a\\\"b\\\\c\", realm=\"x\"", "a\"b\\\\c" },
    { nocolon, "?" },
    { "Digest username=\"admin\", realm=\"x\", nonce=\"1\"", "admin" },
    { "Digest realm=\"x\"", "?" },
    { "Bearer abc", "?" },
    { "Basic !!!", "?" },
  };

  g_assert_null (rts_auth_header_user (NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *user = rts_auth_header_user (cases[i].header);
    g_assert_cmpstr (user, ==, cases[i].user);
  }
  {
    g_autofree char *user = rts_auth_header_user (digest_long);
    g_autofree char *want = g_strdup_printf ("%.64s... (100 bytes)", long_name);
    g_assert_cmpstr (user, ==, want);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http_route/paths", test_paths);
  g_test_add_func ("/http_route/port", test_port);
  g_test_add_func ("/http_route/control", test_control);
  g_test_add_func ("/http_route/helpers", test_helpers);
  g_test_add_func ("/http_route/auth-user", test_auth_user);
  return g_test_run ();
}
