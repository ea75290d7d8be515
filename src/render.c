/* render: see render.h. */
#include "render.h"

#include "camera.h"
#include "json_text.h"

#include <math.h>
#include <string.h>

/* One member each: the shapes below are long lists of these. */
static void
put_str (RtsJsonWriter *w, const char *name, const char *value)
{
  rts_json_member (w, name);
  rts_json_string (w, value);
}

static void
put_int (RtsJsonWriter *w, const char *name, gint64 value)
{
  rts_json_member (w, name);
  rts_json_int (w, value);
}

static void
put_double (RtsJsonWriter *w, const char *name, double value)
{
  rts_json_member (w, name);
  rts_json_double (w, value);
}

/* NAME: VALUE, or null while it is not KNOWN (not measured yet). */
static void
put_double_or_null (RtsJsonWriter *w, const char *name, gboolean known,
    double value)
{
  rts_json_member (w, name);
  if (known)
    rts_json_double (w, value);
  else
    rts_json_null (w);
}

static void
put_bool (RtsJsonWriter *w, const char *name, gboolean value)
{
  rts_json_member (w, name);
  rts_json_bool (w, value);
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
add_camera_fields (RtsJsonWriter *w, const RtsCameraView *c)
{
  put_str (w, "camera", c->name);
  put_int (w, "readers", c->readers);
  put_str (w, "listen", c->listen);
  rts_json_member (w, "fault");
  if (c->fault)
    rts_json_string (w, c->fault);
  else
    rts_json_null (w);
}

/* The detail of one port, in /health's list and in /health/PORT. */
static void
add_port_fields (RtsJsonWriter *w, const RtsPortHealth *p,
    const RtsCameraView *cam, RtsNow now)
{
  put_int (w, "port", p->port);
  add_camera_fields (w, cam);
  put_bool (w, "healthy", p->probed && p->up);
  rts_json_member (w, "rtsp_status");
  if (p->status > 0)
    rts_json_int (w, p->status);
  else
    rts_json_null (w);
  rts_json_member (w, "error");
  if (p->probed && p->error)
    rts_json_string (w, p->error);
  else if (!p->probed)
    rts_json_string (w, "not probed yet");
  else
    rts_json_null (w);
  /* Whole microseconds, as measured: the seconds' double times 1e3 came
   * out as 1.4729999999999999. */
  put_double_or_null (w, "probe_latency_ms", p->probed,
      round (p->latency * 1e6) / 1e3);
  put_double_or_null (w, "checked_at", p->probed, p->checked_at / 1e6);
  put_double_or_null (w, "age_seconds", p->probed,
      (now.mono_us - p->checked_mono) / 1e6);
  put_bool (w, "streaming", p->streaming);
  /* data_mono 0: no video seen yet. */
  put_double_or_null (w, "video_age_seconds", p->data_mono != 0,
      (now.mono_us - p->data_mono) / 1e6);
}

void
rts_render_health (RtsJsonWriter *w, const RtsHealthSummary *s,
    const RtsPortHealth *ports, const RtsCameraView *cams, guint n,
    double probe_age, RtsNow now)
{
  rts_json_begin_object (w);
  put_str (w, "status", s->healthy ? "healthy" : "unhealthy");
  put_int (w, "open_ports", s->open_ports);
  put_int (w, "total_ports", s->total_ports);
  put_int (w, "healthy_threshold", s->threshold);
  put_double (w, "timestamp", now.real_us / 1e6);
  put_str (w, "reason", s->reason);
  put_double_or_null (w, "probe_age_seconds", probe_age >= 0, probe_age);

  rts_json_member (w, "ports");
  rts_json_begin_array (w);
  for (guint i = 0; i < n; i++) {
    rts_json_begin_object (w);
    add_port_fields (w, &ports[i], &cams[i], now);
    rts_json_end_object (w);
  }
  rts_json_end_array (w);
  rts_json_end_object (w);
}

void
rts_render_urls (RtsJsonWriter *w, const RtsCameraView *cams, guint n,
    const char *host)
{
  rts_json_begin_object (w);
  put_int (w, "count", n);
  rts_json_member (w, "streams");
  rts_json_begin_array (w);
  for (guint i = 0; i < n; i++) {
    const RtsCameraView *c = &cams[i];
    g_autofree char *url = rts_build_rtsp_url (host, c->port, c->path);
    g_autofree char *res = g_strdup_printf ("%ux%u", c->width, c->height);

    rts_json_begin_object (w);
    put_str (w, "name", c->name);
    put_str (w, "url", url);
    put_int (w, "port", c->port);
    put_str (w, "path", c->path);
    put_str (w, "codec", c->codec);
    put_str (w, "resolution", res);
    put_int (w, "width", c->width);
    put_int (w, "height", c->height);
    put_int (w, "fps", c->fps);
    {
      /* "fps" stays a whole number for the clients that read it as one;
       * this is the exact rate, as ffprobe's r_frame_rate writes it. */
      g_autofree char *exact = c->fps_n
          ? g_strdup_printf ("%u/%u", c->fps_n, MAX (c->fps_d, 1))
          : g_strdup_printf ("%u/1", c->fps);
      put_str (w, "frame_rate", exact);
    }
    rts_json_member (w, "transports");
    rts_json_begin_array (w);
    if (c->transports & RTS_TRANSPORT_TCP)
      rts_json_string (w, "tcp");
    if (c->transports & RTS_TRANSPORT_UDP)
      rts_json_string (w, "udp");
    if (c->transports & RTS_TRANSPORT_MULTICAST)
      rts_json_string (w, "multicast");
    rts_json_end_array (w);
    put_int (w, "readers", c->readers);
    rts_json_end_object (w);
  }
  rts_json_end_array (w);
  rts_json_end_object (w);
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

void
rts_render_check (RtsJsonWriter *w, const char *check, gboolean ok,
    const char *reason, const RtsPortHealth *port, const RtsCameraView *cam,
    RtsNow now)
{
  rts_json_begin_object (w);
  put_str (w, "status", ok ? "healthy" : "unhealthy");
  put_str (w, "check", check);
  put_str (w, "reason", reason);
  put_double (w, "timestamp", now.real_us / 1e6);
  if (port) {
    rts_json_member (w, "detail");
    rts_json_begin_object (w);
    add_port_fields (w, port, cam, now);
    rts_json_end_object (w);
  }
  rts_json_end_object (w);
}

void
rts_render_error (RtsJsonWriter *w, guint code, const char *message)
{
  rts_json_begin_object (w);
  put_str (w, "error", message);
  put_int (w, "status", code);
  rts_json_end_object (w);
}
