/* http_route: see http_route.h. */
#include "http_route.h"

#include "log.h"

#include <libsoup/soup.h>
#include <string.h>

#define READ_ONLY "GET, HEAD"

gboolean
rts_http_method_allowed (const char *method, const char *allowed)
{
  g_auto (GStrv) list = g_strsplit (allowed, ", ", -1);

  return method && g_strv_contains ((const char *const *) list, method);
}

/* Compares in time that depends on the token's length only. */
static gboolean
token_matches (const char *given, const char *token)
{
  size_t glen = strlen (given), tlen = strlen (token);
  unsigned char diff = glen != tlen;

  for (size_t i = 0; i < tlen; i++)
    diff |=
        (unsigned char) token[i] ^ (unsigned char) (i < glen ? given[i] : 0);
  return diff == 0;
}

gboolean
rts_http_bearer_ok (const char *authorization, const char *token)
{
  /* The scheme's name is case-insensitive (RFC 7235, 2.1). */
  return authorization && token
      && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0
      && token_matches (authorization + 7, token);
}

/* How much ACCEPT weighs TYPE/SUBTYPE, in thousandths, and how closely
 * the range that said so names it: 2 exactly, 1 by a wildcard subtype, 0
 * by the any-type one, -1 none did (weight 0). */
static void
weigh (const char *accept, const char *type, const char *subtype, int *q,
    int *specific)
{
  g_auto (GStrv) ranges = g_strsplit (accept, ",", -1);

  *q = 0;
  *specific = -1;
  for (guint i = 0; ranges[i]; i++) {
    g_auto (GStrv) params = g_strsplit (ranges[i], ";", -1);
    char *range = params[0] ? g_strstrip (params[0]) : NULL;
    const char *slash = range ? strchr (range, '/') : NULL;
    int level, weight = 1000;
    if (!slash)
      continue;
    if (strcmp (range, "*/*") == 0)
      level = 0;
    else if (g_ascii_strncasecmp (range, type, slash - range) == 0
        && strlen (type) == (size_t) (slash - range))
      level = strcmp (slash + 1, "*") == 0               ? 1
          : g_ascii_strcasecmp (slash + 1, subtype) == 0 ? 2
                                                         : -1;
    else
      level = -1;
    if (level <= *specific)
      continue;
    for (guint k = 1; params[k]; k++) {
      char *p = g_strstrip (params[k]);
      if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
        weight =
            (int) CLAMP (g_ascii_strtod (p + 2, NULL) * 1000 + 0.5, 0, 1000);
    }
    *specific = level;
    *q = weight;
  }
}

gboolean
rts_http_wants_json (const char *accept)
{
  int json, json_level, html, html_level;

  if (!accept)
    return FALSE;
  weigh (accept, "application", "json", &json, &json_level);
  weigh (accept, "text", "html", &html, &html_level);
  return json > 0 && (json > html || (json == html && json_level > html_level));
}

static void
answer (RtsRoute *route, guint status, const char *message)
{
  route->kind = RTS_ROUTE_NONE;
  route->status = status;
  g_free (route->message);
  route->message = g_strdup (message);
}

/* FALSE, with a 405 in ROUTE, unless METHOD is one of ALLOWED. */
static gboolean
check_method (RtsRoute *route, const char *method, const char *allowed)
{
  if (rts_http_method_allowed (method, allowed))
    return TRUE;
  route->kind = RTS_ROUTE_NONE;
  route->status = 405;
  route->allow = allowed;
  route->message = g_strdup_printf ("method %s not allowed here (allowed: %s)",
      method ? method : "(none)", allowed);
  return FALSE;
}

static void
route_port (RtsRoute *route, const char *method, const char *digits)
{
  guint64 port;

  if (!check_method (route, method, READ_ONLY))
    return;
  /* One spelling per port: /health/08554 (and 00...08554) named it too. */
  if (digits[0] == '0'
      || !g_ascii_string_to_unsigned (digits, 10, 1, 65535, &port, NULL)) {
    answer (route, 404,
        "no such path (try /health/live, /health/ready or /health/PORT)");
    return;
  }
  route->kind = RTS_ROUTE_PORT;
  route->port = (guint) port;
}

/* The order matters to clients: without a token the control API does not
 * exist (404), a wrong path says so before the token is looked at, and a
 * caller learns which methods exist only after proving the token. */
static void
route_control (RtsRoute *route, const char *method, const char *path,
    const char *authorization, const char *control_token)
{
  g_auto (GStrv) parts = NULL;

  if (!control_token) {
    answer (route, 404, "no such path");
    return;
  }
  /* "", "control", "cameras", NAME, "faults" */
  parts = g_strsplit (path, "/", -1);
  if (g_strv_length (parts) != 5 || g_strcmp0 (parts[2], "cameras")
      || parts[3][0] == '\0' || g_strcmp0 (parts[4], "faults")) {
    answer (route, 404,
        "no such path (control API: /control/cameras/NAME/faults)");
    return;
  }
  if (!rts_http_bearer_ok (authorization, control_token)) {
    answer (route, 401, "missing or wrong bearer token");
    route->authorize = TRUE;
    return;
  }
  if (!check_method (route, method, "POST, DELETE"))
    return;
  route->kind = RTS_ROUTE_CONTROL;
  route->camera = g_strdup (parts[3]);
}

/* /cameras/NAME/snapshot.jpg; whether NAME is a camera is the API's to
 * say (404 there). */
static void
route_snapshot (RtsRoute *route, const char *method, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);

  /* "", "cameras", NAME, "snapshot.jpg" */
  if (g_strv_length (parts) != 4 || parts[2][0] == '\0'
      || strcmp (parts[3], "snapshot.jpg") != 0) {
    answer (route, 404, "no such path (snapshots: /cameras/NAME/snapshot.jpg)");
    return;
  }
  if (!check_method (route, method, READ_ONLY))
    return;
  route->kind = RTS_ROUTE_SNAPSHOT;
  route->camera = g_strdup (parts[2]);
}

void
rts_http_route (const char *method, const char *path, const char *authorization,
    const char *control_token, RtsRoute *route)
{
  static const struct {
    const char *path;
    RtsRouteKind kind;
  } fixed[] = {
    { "/health", RTS_ROUTE_HEALTH },
    { "/health/live", RTS_ROUTE_LIVE },
    { "/health/ready", RTS_ROUTE_READY },
    { "/metrics", RTS_ROUTE_METRICS },
    { "/rtsp-urls", RTS_ROUTE_URLS },
    { "/", RTS_ROUTE_INDEX },
  };

  memset (route, 0, sizeof *route);
  if (!path)
    path = "";
  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++) {
    if (strcmp (path, fixed[i].path) == 0) {
      if (check_method (route, method, READ_ONLY))
        route->kind = fixed[i].kind;
      return;
    }
  }
  if (g_str_has_prefix (path, "/health/"))
    route_port (route, method, path + strlen ("/health/"));
  else if (g_str_has_prefix (path, "/control/"))
    route_control (route, method, path, authorization, control_token);
  else if (g_str_has_prefix (path, "/cameras/"))
    route_snapshot (route, method, path);
  else
    answer (route, 404, "no such path (try /health, /rtsp-urls or /)");
}

void
rts_http_route_clear (RtsRoute *route)
{
  g_clear_pointer (&route->message, g_free);
  g_clear_pointer (&route->camera, g_free);
}

char *
rts_auth_header_user (const char *value)
{
  g_autofree char *user = NULL;

  if (!value)
    return NULL;
  if (g_ascii_strncasecmp (value, "Basic ", 6) == 0) {
    gsize len = 0;
    g_autofree guchar *plain = g_base64_decode (value + 6, &len);
    g_autofree char *text = g_strndup ((const char *) plain, len);
    char *colon = strchr (text, ':');
    user = colon ? g_strndup (text, colon - text) : NULL;
  } else if (g_ascii_strncasecmp (value, "Digest ", 7) == 0) {
    /* libsoup's parser, as http_api.c's nonce check has it: username is a
     * quoted-string, whose \" and \\ stand for " and \ (RFC 7616 3.4;
     * 'a\"b' was logged as 'a\'). */
    GHashTable *params = soup_header_parse_param_list (value + 7);
    user = g_strdup (g_hash_table_lookup (params, "username"));
    soup_header_free_param_list (params);
  }
  if (!user)
    return g_strdup ("?");
  return rts_log_quote (user, 64);
}
