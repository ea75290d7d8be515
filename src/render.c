/* render: see render.h. */
#include "render.h"

#include "camera.h"
#include "json_text.h"

#include <math.h>
#include <string.h>

/* One member each: the shapes below are long lists of these. */
static void
put_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
put_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
put_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

/* NAME: VALUE, or null while it is not KNOWN (not measured yet). */
static void
put_double_or_null (JsonBuilder *b, const char *name, gboolean known,
    double value)
{
  json_builder_set_member_name (b, name);
  if (known)
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
put_bool (JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

char *
rts_build_rtsp_url (const char *host, guint port, const char *path)
{
  gboolean v6 = strchr (host, ':') != NULL;

  return g_strdup_printf ("rtsp://%s%s%s:%u%s", v6 ? "[" : "", host,
      v6 ? "]" : "", port, path);
}

/* A port after a host: nothing, or up to five digits (RFC 3986 allows an
 * empty one). */
static gboolean
port_ok (const char *p)
{
  return !*p || (strlen (p) <= 5 && strspn (p, "0123456789") == strlen (p));
}

char *
rts_host_from_header (const char *host_header)
{
  const char *end;

  if (!host_header || !*host_header)
    return NULL;
  if (host_header[0] == '[') {
    g_autofree char *v6 = NULL;

    end = strchr (host_header, ']');
    if (!end || end == host_header + 1 || (end[1] != '\0' && end[1] != ':')
        || (end[1] == ':' && !port_ok (end + 2)))
      return NULL;
    /* An IPv6 address and nothing else: libsoup lets "[a@b]" through, and
     * "rtsp://a@b:8554/" would send readers to host b. Zone ids ("%eth0")
     * mean nothing to a reader on another machine. */
    v6 = g_strndup (host_header + 1, end - host_header - 1);
    if (strspn (v6, "0123456789abcdefABCDEF:.") != strlen (v6)
        || !g_hostname_is_ip_address (v6))
      return NULL;
    return g_steal_pointer (&v6);
  }
  end = strchr (host_header, ':');
  if (!end)
    end = host_header + strlen (host_header);
  else if (!port_ok (end + 1))
    return NULL; /* bare IPv6, "a:80@b", "a:x" */
  /* A Host we hand back inside URLs must not smuggle anything else in,
   * nor be made to repeat a long one in every camera's URL. */
  if (!rts_config_host_name_ok (host_header, (gsize) (end - host_header)))
    return NULL;
  return g_strndup (host_header, end - host_header);
}

static void
add_camera_fields (JsonBuilder *b, const RtsCameraView *c)
{
  put_str (b, "camera", c->name);
  put_int (b, "readers", c->readers);
  put_str (b, "listen", c->listen);
  json_builder_set_member_name (b, "fault");
  if (c->fault)
    json_builder_add_string_value (b, c->fault);
  else
    json_builder_add_null_value (b);
}

/* The detail of one port, in /health's list and in /health/PORT. */
static void
add_port_fields (JsonBuilder *b, const RtsPortHealth *p,
    const RtsCameraView *cam, RtsNow now)
{
  put_int (b, "port", p->port);
  add_camera_fields (b, cam);
  put_bool (b, "healthy", p->probed && p->up);
  json_builder_set_member_name (b, "rtsp_status");
  if (p->status > 0)
    json_builder_add_int_value (b, p->status);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "error");
  if (p->probed && p->error)
    json_builder_add_string_value (b, p->error);
  else if (!p->probed)
    json_builder_add_string_value (b, "not probed yet");
  else
    json_builder_add_null_value (b);
  /* Whole microseconds, as measured: the seconds' double times 1e3 came
   * out as 1.4729999999999999. */
  put_double_or_null (b, "probe_latency_ms", p->probed,
      round (p->latency * 1e6) / 1e3);
  put_double_or_null (b, "checked_at", p->probed, p->checked_at / 1e6);
  put_double_or_null (b, "age_seconds", p->probed,
      (now.mono_us - p->checked_mono) / 1e6);
  put_bool (b, "streaming", p->streaming);
  /* data_mono 0: no video seen yet. */
  put_double_or_null (b, "video_age_seconds", p->data_mono != 0,
      (now.mono_us - p->data_mono) / 1e6);
}

JsonNode *
rts_render_health (const RtsHealthSummary *s, const RtsPortHealth *ports,
    const RtsCameraView *cams, guint n, double probe_age, RtsNow now)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  put_str (b, "status", s->healthy ? "healthy" : "unhealthy");
  put_int (b, "open_ports", s->open_ports);
  put_int (b, "total_ports", s->total_ports);
  put_int (b, "healthy_threshold", s->threshold);
  put_double (b, "timestamp", now.real_us / 1e6);
  put_str (b, "reason", s->reason);
  put_double_or_null (b, "probe_age_seconds", probe_age >= 0, probe_age);

  json_builder_set_member_name (b, "ports");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    json_builder_begin_object (b);
    add_port_fields (b, &ports[i], &cams[i], now);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
rts_render_urls (const RtsCameraView *cams, guint n, const char *host)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  put_int (b, "count", n);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    const RtsCameraView *c = &cams[i];
    g_autofree char *url = rts_build_rtsp_url (host, c->port, c->path);
    g_autofree char *res = g_strdup_printf ("%ux%u", c->width, c->height);

    json_builder_begin_object (b);
    put_str (b, "name", c->name);
    put_str (b, "url", url);
    put_int (b, "port", c->port);
    put_str (b, "path", c->path);
    put_str (b, "codec", c->codec);
    put_str (b, "resolution", res);
    put_int (b, "width", c->width);
    put_int (b, "height", c->height);
    put_int (b, "fps", c->fps);
    {
      /* "fps" stays a whole number for the clients that read it as one;
       * this is the exact rate, as ffprobe's r_frame_rate writes it. */
      g_autofree char *exact = c->fps_n
          ? g_strdup_printf ("%u/%u", c->fps_n, MAX (c->fps_d, 1))
          : g_strdup_printf ("%u/1", c->fps);
      put_str (b, "frame_rate", exact);
    }
    json_builder_set_member_name (b, "transports");
    json_builder_begin_array (b);
    if (c->transports & RTS_TRANSPORT_TCP)
      json_builder_add_string_value (b, "tcp");
    if (c->transports & RTS_TRANSPORT_UDP)
      json_builder_add_string_value (b, "udp");
    if (c->transports & RTS_TRANSPORT_MULTICAST)
      json_builder_add_string_value (b, "multicast");
    json_builder_end_array (b);
    put_int (b, "readers", c->readers);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
rts_render_index_html (const RtsHealthSummary *s, const RtsCameraView *cams,
    guint n, const char *host, RtsNow now)
{
  GString *out = g_string_new (NULL);
  g_autoptr (GDateTime) t =
      g_date_time_new_from_unix_utc (now.real_us / 1000000);
  g_autofree char *stamp = g_date_time_format_iso8601 (t);
  g_autofree char *reason = g_markup_escape_text (s->reason, -1);

  g_string_append_printf (out,
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>rtsp-test-server</title><style>"
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
      ".grid{display:flex;flex-wrap:wrap;gap:1em}"
      ".cam{border:1px solid #ddd;border-radius:6px;padding:.6em;width:340px}"
      ".cam img{width:320px;height:auto;background:#eee;display:block}"
      ".cam h2{font-size:1.1em;margin:.2em 0}"
      ".ok{color:#080}.bad{color:#b00}code{font-size:.9em;word-break:all}"
      ".locked{width:320px;background:#eee;padding:2em 0;text-align:center}"
      "</style></head><body><h1>rtsp-test-server</h1>"
      "<p>Health: <strong id=\"health\" class=\"%s\">%s</strong> &mdash; "
      "<span id=\"reason\">%s</span> "
      "(<a href=\"/health\">/health</a>, as of <span id=\"stamp\">%s"
      "</span>)</p><div class=\"grid\">\n",
      s->healthy ? "ok" : "bad", s->healthy ? "healthy" : "unhealthy", reason,
      stamp);
  for (guint i = 0; i < n; i++) {
    const RtsCameraView *c = &cams[i];
    g_autofree char *url = rts_build_rtsp_url (host, c->port, c->path);
    g_autofree char *e_url = g_markup_escape_text (url, -1);
    g_autofree char *e_name = g_markup_escape_text (c->name, -1);
    g_autofree char *rate = c->fps_n ? rts_rate_text (c->fps_n, c->fps_d)
                                     : g_strdup_printf ("%u", c->fps);
    gboolean open = g_strcmp0 (c->listen, "open") == 0 && !c->fault;
    gboolean locked = c->auth
        && (g_str_equal (c->auth, "basic") || g_str_equal (c->auth, "digest"));

    /* Names are letters, digits, - and _ (config), safe in a path and an
     * id. A camera with credentials guards its picture as its stream: the
     * page links it (the browser asks for them) rather than have every
     * visitor asked at once. */
    g_string_append_printf (out, "<div class=\"cam\"><h2>%s</h2>", e_name);
    if (locked)
      g_string_append_printf (out,
          "<p class=\"locked\">Its picture needs the camera's user and "
          "password (%s): <a href=\"/cameras/%s/snapshot.jpg\">open it</a>"
          "</p>",
          g_str_equal (c->auth, "digest") ? "Digest" : "Basic", e_name);
    else
      g_string_append_printf (out,
          "<img class=\"snap\" alt=\"%s\" width=\"320\" "
          "src=\"/cameras/%s/snapshot.jpg\" "
          "data-src=\"/cameras/%s/snapshot.jpg\">",
          e_name, e_name, e_name);
    g_string_append_printf (out,
        "<p><code>%s</code></p><p>%s %ux%u@%s &middot; "
        "<span id=\"state-%s\" class=\"%s\">%s%s%s</span> &middot; "
        "<span id=\"readers-%s\">%u</span> reader(s)</p></div>\n",
        e_url, c->codec, c->width, c->height, rate, e_name, open ? "ok" : "bad",
        c->listen, c->fault ? ", fault " : "", c->fault ? c->fault : "", e_name,
        c->readers);
  }
  /* Each picture reloads once it has loaded, about once a second; the
   * body counts pictures shown, for a headless browser to check. One that
   * loaded (or failed) before this script ran has had its event: without
   * a look at it here it was never counted and never reloaded. */
  g_string_append (out,
      "</div><p>Play one: <code>ffplay -rtsp_transport "
      "tcp URL</code> &middot; <a href=\"/rtsp-urls\">/rtsp-urls</a> "
      "(JSON)</p><script>\n"
      "let shown = 0;\n"
      "for (const img of document.querySelectorAll('img.snap')) {\n"
      "  const again = () => setTimeout(() => {\n"
      "    img.src = img.dataset.src + '?t=' + Date.now(); }, 1000);\n"
      "  const loaded = () => {\n"
      "    if (!img.dataset.ok) { img.dataset.ok = '1'; shown++;\n"
      "      document.body.dataset.snapshots = shown; }\n"
      "    again();\n"
      "  };\n"
      "  img.addEventListener('load', loaded);\n"
      "  img.addEventListener('error', again);\n"
      "  if (img.complete) img.naturalWidth ? loaded() : again();\n"
      "}\n"
      "setInterval(async () => {\n"
      "  try {\n"
      "    const h = await (await fetch('/health')).json();\n"
      "    const e = document.getElementById('health');\n"
      "    e.textContent = h.status;\n"
      "    e.className = h.status === 'healthy' ? 'ok' : 'bad';\n"
      "    document.getElementById('reason').textContent = h.reason;\n"
      "    document.getElementById('stamp').textContent =\n"
      "      new Date(h.timestamp * 1000).toISOString();\n"
      "    for (const p of h.ports) {\n"
      "      const st = document.getElementById('state-' + p.camera);\n"
      "      const rd = document.getElementById('readers-' + p.camera);\n"
      "      if (st) {\n"
      "        st.textContent = p.listen + (p.fault ? ', fault ' + p.fault "
      ": '');\n"
      "        st.className = p.listen === 'open' && !p.fault ? 'ok' : "
      "'bad';\n"
      "      }\n"
      "      if (rd) rd.textContent = p.readers;\n"
      "    }\n"
      "  } catch (e) {}\n"
      "}, 2000);\n"
      "</script></body></html>\n");
  return g_string_free (out, FALSE);
}

JsonNode *
rts_render_check (const char *check, gboolean ok, const char *reason,
    const RtsPortHealth *port, const RtsCameraView *cam, RtsNow now)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  put_str (b, "status", ok ? "healthy" : "unhealthy");
  put_str (b, "check", check);
  put_str (b, "reason", reason);
  put_double (b, "timestamp", now.real_us / 1e6);
  if (port) {
    json_builder_set_member_name (b, "detail");
    json_builder_begin_object (b);
    add_port_fields (b, port, cam, now);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
rts_render_error (guint code, const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  put_str (b, "error", message);
  put_int (b, "status", code);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* V from its whole number of millionths, when it is one: every time and
 * latency here is, and printing digits of an integer is a fraction of the
 * cost of printing a double and reading it back. While a millionth is
 * wider than the spacing of doubles around V (|V| < 2^33), this decimal is
 * the shortest that reads back as V, so it is what the search below finds;
 * from 1e-4, where "%g" would write an exponent, to 2^33. FALSE for
 * anything else. */
static gboolean
format_millionths (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v)
{
  double a = fabs (v);
  gint64 k, whole, frac;
  int len, digits = 6;

  if (!(a >= 1e-4 && a < 8589934592.0))
    return FALSE;
  k = llround (a * 1e6);
  if ((double) k / 1e6 != a)
    return FALSE;
  whole = k / 1000000;
  frac = k % 1000000;
  if (!frac)
    return g_snprintf (buf, G_ASCII_DTOSTR_BUF_SIZE, "%s%" G_GINT64_FORMAT,
               v < 0 ? "-" : "", whole)
        > 0;
  while (frac % 10 == 0) {
    frac /= 10;
    digits--;
  }
  len = g_snprintf (buf, G_ASCII_DTOSTR_BUF_SIZE,
      "%s%" G_GINT64_FORMAT ".%0*" G_GINT64_FORMAT, v < 0 ? "-" : "", whole,
      digits, frac);
  return len > 0;
}

const char *
rts_format_number (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v)
{
  if (format_millionths (buf, v))
    return buf;
  /* The fewest digits that read back as V: "%.17g" alone prints 2.67 as
   * 2.6699999999999999. */
  for (int digits = 15; digits <= 17; digits++) {
    char format[8];

    g_snprintf (format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, format, v);
    if (g_ascii_strtod (buf, NULL) == v)
      break;
  }
  return buf;
}

static void
write_node (GString *out, JsonNode *node)
{
  switch (json_node_get_node_type (node)) {
    case JSON_NODE_OBJECT: {
      JsonObjectIter it;
      const char *name;
      JsonNode *member;
      gboolean first = TRUE;

      g_string_append_c (out, '{');
      json_object_iter_init_ordered (&it, json_node_get_object (node));
      while (json_object_iter_next_ordered (&it, &name, &member)) {
        if (!first)
          g_string_append_c (out, ',');
        first = FALSE;
        rts_json_append_string (out, name);
        g_string_append_c (out, ':');
        write_node (out, member);
      }
      g_string_append_c (out, '}');
      break;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *a = json_node_get_array (node);
      guint n = json_array_get_length (a);

      g_string_append_c (out, '[');
      for (guint i = 0; i < n; i++) {
        if (i)
          g_string_append_c (out, ',');
        write_node (out, json_array_get_element (a, i));
      }
      g_string_append_c (out, ']');
      break;
    }
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node)) {
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT,
              json_node_get_int (node));
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out,
              json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_STRING:
          if (json_node_get_string (node))
            rts_json_append_string (out, json_node_get_string (node));
          else
            g_string_append (out, "null");
          break;
        case G_TYPE_DOUBLE: {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];

          /* JSON has no NaN or infinity ("nan" made the text invalid). */
          if (!isfinite (json_node_get_double (node))) {
            g_string_append (out, "null");
            break;
          }
          const char *text =
              rts_format_number (buf, json_node_get_double (node));

          g_string_append (out, text);
          /* A double stays one to a client that checks ("4.0", not "4"). */
          if (!text[strcspn (text, ".eEni")])
            g_string_append (out, ".0");
          break;
        }
        default:
          g_string_append (out, "null");
      }
      break;
  }
}

char *
rts_json_to_string (JsonNode *node)
{
  GString *out = g_string_sized_new (1024);

  write_node (out, node);
  return g_string_free (out, FALSE);
}
