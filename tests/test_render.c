/* Unit tests of render: response shapes, URL building, Host parsing, rates. */
#include "render.h"

#include "camera.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* W's document, which must be JSON, read back; W freed. */
static JsonObject *
parse (RtsJsonWriter *w, JsonParser **keep)
{
  g_autofree char *text = rts_json_writer_finish (w);
  JsonParser *parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  *keep = parser;
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_url (void)
{
  g_autofree char *a = rts_build_rtsp_url ("127.0.0.1", 8554, "/stream");
  g_autofree char *b = rts_build_rtsp_url ("::1", 8555, "/stream");
  g_autofree char *c = rts_build_rtsp_url ("cams.example.test", 1, "/s");

  g_assert_cmpstr (a, ==, "rtsp://127.0.0.1:8554/stream");
  g_assert_cmpstr (b, ==, "rtsp://[::1]:8555/stream");
  g_assert_cmpstr (c, ==, "rtsp://cams.example.test:1/s");
}

static void
test_host_header (void)
{
  struct {
    const char *in, *out;
  } cases[] = {
    { "example.test:8080", "example.test" },
    { "example.test", "example.test" },
    { "10.1.2.3:80", "10.1.2.3" },
    { "[::1]:8080", "::1" },
    { "[fe80::1]", "fe80::1" },
    { "", NULL },
    { NULL, NULL },
    { "::1", NULL },
    { "[::1", NULL },
    { "[]:80", NULL },
    { ":8080", NULL },
    { "evil.test/x:80", NULL },
    { "a b", NULL },
    { "<script>", NULL },
    /* Found by fuzz_http_path: libsoup accepts these, and the URLs built
     * on them named another host ("rtsp://a@b:8554/") or carried markup. */
    { "[::@]:8080", NULL },
    { "[a@b]", NULL },
    { "[::1%25<b>]", NULL },
    { "[fe80::1%25eth0]:80", NULL },
    { "[::ffff:10.1.2.3]", "::ffff:10.1.2.3" },
    { "[:::]", NULL },
    /* Found in review: no host names, a port that is not one (libsoup
     * takes "a:80@b" for host b), and names long enough to make every
     * camera's URL a kilobyte. */
    { ".", NULL },
    { "..", NULL },
    { "-", NULL },
    { "a..b", NULL },
    { "-a.test", NULL },
    { "a-.test", NULL },
    { "0", NULL },
    { "999.999.999.999", NULL },
    { "10.1.2", NULL },
    { "a.example:80@evil.example", NULL },
    { "a.example:8x", NULL },
    { "a.example:123456", NULL },
    { "[::1]:80@b", NULL },
    { "[::1]x", NULL },
    { "a.example:", "a.example" },
    { "a.example.:80", "a.example." },
    { "CAMS.Example", "CAMS.Example" },
    { "under_score.test", "under_score.test" },
    { "1a.test", "1a.test" },
    { "localhost", "localhost" },
  };
  g_autofree char *label63 = g_strnfill (63, 'a');
  g_autofree char *label64 = g_strnfill (64, 'a');
  g_autofree char *name253 = g_strdup_printf ("%s.%s.%s.%s", label63, label63,
      label63, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  g_autofree char *name254 = g_strconcat (name253, "a", NULL);
  g_autofree char *long_ok = NULL;
  g_autofree char *longest_ok = NULL;

  g_assert_cmpuint (strlen (name253), ==, 253);
  long_ok = rts_host_from_header (label63);
  g_assert_cmpstr (long_ok, ==, label63);
  longest_ok = rts_host_from_header (name253);
  g_assert_cmpstr (longest_ok, ==, name253);
  g_assert_null (rts_host_from_header (label64));
  g_assert_null (rts_host_from_header (name254));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *host = rts_host_from_header (cases[i].in);
    g_assert_cmpstr (host, ==, cases[i].out);
  }
}

static RtsCameraView
view (const char *name, guint port, guint readers)
{
  RtsCameraView v = { name, port, "/stream", "h264", 640, 480, 30, readers,
    "open", NULL, RTS_TRANSPORT_TCP | RTS_TRANSPORT_UDP };
  return v;
}

static void
test_health_json (void)
{
  RtsPortHealth ports[2] = { 0 };
  RtsCameraView cams[2] = { view ("cam1", 8554, 2), view ("cam2", 8555, 0) };
  RtsNow now = { 1764072000123456, 50 * G_USEC_PER_SEC };
  RtsHealthSummary s;
  g_autoptr (JsonParser) keep = NULL;
  JsonObject *o, *p0, *p1;
  RtsJsonWriter *w;

  ports[0] = (RtsPortHealth){ 8554, "cam1", TRUE, TRUE, 200, 0.0005, NULL,
    1764072000000000, 49 * G_USEC_PER_SEC };
  ports[1] = (RtsPortHealth){ 8555, "cam2", TRUE, FALSE, -1, 2.0,
    (char *) "no RTSP answer within the probe timeout", 1764072000000000,
    48 * G_USEC_PER_SEC };
  cams[1].listen = "hung";
  cams[1].fault = "hang-port";
  s = rts_health_aggregate (ports, 2, 1, FALSE);
  w = rts_json_writer_new ();
  rts_render_health (w, &s, ports, cams, 2, 0.25, now);
  o = parse (w, &keep);

  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "healthy");
  g_assert_cmpint (json_object_get_int_member (o, "open_ports"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o, "total_ports"), ==, 2);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o,
                                      "timestamp"),
      1764072000.123456, 1e-6);
  g_assert_cmpfloat (json_object_get_double_member (o, "probe_age_seconds"), ==,
      0.25);
  p0 = json_array_get_object_element (json_object_get_array_member (o, "ports"),
      0);
  p1 = json_array_get_object_element (json_object_get_array_member (o, "ports"),
      1);
  g_assert_true (json_object_get_boolean_member (p0, "healthy"));
  g_assert_cmpint (json_object_get_int_member (p0, "readers"), ==, 2);
  g_assert_cmpfloat (json_object_get_double_member (p0, "age_seconds"), ==, 1);
  g_assert_true (json_object_get_null_member (p0, "fault"));
  g_assert_false (json_object_get_boolean_member (p1, "healthy"));
  g_assert_true (json_object_get_null_member (p1, "rtsp_status"));
  g_assert_cmpstr (json_object_get_string_member (p1, "error"), ==,
      "no RTSP answer within the probe timeout");
  g_assert_cmpstr (json_object_get_string_member (p1, "fault"), ==,
      "hang-port");
  g_assert_cmpstr (json_object_get_string_member (p1, "listen"), ==, "hung");
  /* Milliseconds from microseconds: 1473 us was 1.4729999999999999 (the
   * seconds' double times 1e3), in most answers. */
  ports[0].latency = 0.001473;
  {
    g_autofree char *text = NULL;

    w = rts_json_writer_new ();
    rts_render_health (w, &s, ports, cams, 2, 0.25, now);
    text = rts_json_writer_finish (w);
    g_assert_nonnull (strstr (text, "\"probe_latency_ms\":1.473,"));
  }
}

static void
test_health_json_unprobed (void)
{
  RtsPortHealth ports[1] = { 0 };
  RtsCameraView cams[1] = { view ("cam1", 8554, 0) };
  RtsNow now = { 1, 1 };
  RtsHealthSummary s = rts_health_aggregate (ports, 1, 1, FALSE);
  g_autoptr (JsonParser) keep = NULL;
  RtsJsonWriter *w = rts_json_writer_new ();
  JsonObject *o, *p;

  rts_render_health (w, &s, ports, cams, 1, -1, now);
  o = parse (w, &keep);
  p = json_array_get_object_element (json_object_get_array_member (o, "ports"),
      0);

  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==,
      "unhealthy");
  g_assert_true (json_object_get_null_member (o, "probe_age_seconds"));
  g_assert_cmpstr (json_object_get_string_member (p, "error"), ==,
      "not probed yet");
  /* Nothing measured yet is null, not 0. */
  g_assert_true (json_object_get_null_member (p, "probe_latency_ms"));
  g_assert_true (json_object_get_null_member (p, "video_age_seconds"));
  g_assert_false (json_object_get_boolean_member (p, "streaming"));
}

static void
test_urls_json (void)
{
  RtsCameraView cams[2] = { view ("cam1", 8554, 1), view ("cam2", 8555, 0) };
  g_autoptr (JsonParser) keep = NULL;
  JsonObject *o, *s1;
  JsonArray *t, *streams;
  RtsJsonWriter *w = rts_json_writer_new ();

  /* The camera's own transports, in a fixed order. */
  cams[1].transports = RTS_TRANSPORT_MULTICAST | RTS_TRANSPORT_TCP;
  rts_render_urls (w, cams, 2, "::1");
  o = parse (w, &keep);
  streams = json_object_get_array_member (o, "streams");
  s1 = json_array_get_object_element (streams, 1);

  g_assert_cmpint (json_object_get_int_member (o, "count"), ==, 2);
  g_assert_cmpuint (json_array_get_length (streams), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (s1, "name"), ==, "cam2");
  g_assert_cmpstr (json_object_get_string_member (s1, "url"), ==,
      "rtsp://[::1]:8555/stream");
  g_assert_cmpint (json_object_get_int_member (s1, "port"), ==, 8555);
  g_assert_cmpstr (json_object_get_string_member (s1, "path"), ==, "/stream");
  g_assert_cmpstr (json_object_get_string_member (s1, "codec"), ==, "h264");
  g_assert_cmpstr (json_object_get_string_member (s1, "resolution"), ==,
      "640x480");
  g_assert_cmpint (json_object_get_int_member (s1, "fps"), ==, 30);
  g_assert_cmpstr (json_object_get_string_member (s1, "frame_rate"), ==,
      "30/1");
  g_assert_cmpint (json_object_get_int_member (s1, "readers"), ==, 0);
  t = json_object_get_array_member (s1, "transports");
  g_assert_cmpuint (json_array_get_length (t), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (t, 0), ==, "tcp");
  g_assert_cmpstr (json_array_get_string_element (t, 1), ==, "multicast");
  /* A file's own rate: "fps" whole, "frame_rate" exact. */
  g_clear_object (&keep);
  cams[0].fps = 30;
  cams[0].fps_n = 30000;
  cams[0].fps_d = 1001;
  w = rts_json_writer_new ();
  rts_render_urls (w, cams, 2, "h.test");
  o = parse (w, &keep);
  s1 = json_array_get_object_element (json_object_get_array_member (o,
                                          "streams"),
      0);
  g_assert_cmpint (json_object_get_int_member (s1, "fps"), ==, 30);
  g_assert_cmpstr (json_object_get_string_member (s1, "frame_rate"), ==,
      "30000/1001");
}

/* Rates as people write them. */
static void
test_rate_text (void)
{
  struct {
    guint n, d;
    const char *want;
  } cases[] = {
    { 30, 1, "30" },
    { 30000, 1001, "29.97" },
    { 60000, 1001, "59.94" },
    { 24000, 1001, "23.976" },
    { 25, 2, "12.5" },
    { 1, 2, "0.5" },
    { 1, 3, "0.333" },
    { 50, 5, "10" },
    { 100001, 10000, "10" },
    { 0, 1, "0" },
    { 7, 0, "7" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *got = rts_rate_text (cases[i].n, cases[i].d);
    g_assert_cmpstr (got, ==, cases[i].want);
  }
}

static void
test_index_html (void)
{
  RtsCameraView cams[1] = { view ("<b>cam</b>", 8554, 0) };
  RtsPortHealth ports[1] = { 0 };
  RtsNow now = { 1764072000000000, 1 };
  RtsHealthSummary s = rts_health_aggregate (ports, 1, 1, FALSE);
  g_autofree char *html = rts_render_index_html (&s, cams, 1, "h.test", now);

  g_assert_nonnull (strstr (html, "<!DOCTYPE html>"));
  g_assert_nonnull (strstr (html, "rtsp://h.test:8554/stream"));
  g_assert_nonnull (strstr (html, "&lt;b&gt;cam&lt;/b&gt;"));
  g_assert_null (strstr (html, "<b>cam"));
  g_assert_nonnull (strstr (html, "unhealthy"));
}

/* A camera with credentials is linked, not shown (a browser would ask
 * every visitor for them at once); each card's state and readers carry
 * ids that the page's script updates from /health. */
static void
test_index_html_locked (void)
{
  RtsCameraView cams[2] = { view ("open1", 8554, 3),
    view ("locked1", 8555, 0) };
  RtsPortHealth ports[2] = { 0 };
  RtsNow now = { 1764072000000000, 1 };
  RtsHealthSummary s = rts_health_aggregate (ports, 2, 1, FALSE);
  g_autofree char *html = NULL;

  cams[1].auth = "digest";
  html = rts_render_index_html (&s, cams, 2, "h.test", now);
  g_assert_nonnull (strstr (html, "src=\"/cameras/open1/snapshot.jpg\""));
  g_assert_null (strstr (html, "src=\"/cameras/locked1/snapshot.jpg\""));
  g_assert_nonnull (strstr (html, "href=\"/cameras/locked1/snapshot.jpg\""));
  g_assert_nonnull (strstr (html, "(Digest)"));
  g_assert_nonnull (strstr (html, "id=\"state-open1\""));
  g_assert_nonnull (strstr (html, "<span id=\"readers-open1\">3</span>"));
  g_assert_nonnull (strstr (html, "getElementById('state-' + p.camera)"));
}

static void
test_check_json (void)
{
  RtsPortHealth p = { 8555, "cam2", TRUE, FALSE, -1, 2.0, (char *) "refused",
    1764072000000000, 49 * G_USEC_PER_SEC, FALSE, 40 * G_USEC_PER_SEC, 7 };
  RtsCameraView cam = view ("cam2", 8555, 0);
  RtsNow now = { 1764072001000000, 50 * G_USEC_PER_SEC };
  g_autoptr (JsonParser) k1 = NULL;
  g_autoptr (JsonParser) k2 = NULL;
  RtsJsonWriter *w1 = rts_json_writer_new ();
  RtsJsonWriter *w2 = rts_json_writer_new ();
  JsonObject *live, *port, *detail;

  rts_render_check (w1, "live", TRUE, "loop runs", NULL, NULL, now);
  rts_render_check (w2, "port", FALSE, "down", &p, &cam, now);
  live = parse (w1, &k1);
  port = parse (w2, &k2);
  detail = json_object_get_object_member (port, "detail");

  g_assert_cmpstr (json_object_get_string_member (live, "status"), ==,
      "healthy");
  g_assert_cmpstr (json_object_get_string_member (live, "check"), ==, "live");
  g_assert_false (json_object_has_member (live, "detail"));
  g_assert_cmpstr (json_object_get_string_member (port, "status"), ==,
      "unhealthy");
  g_assert_cmpint (json_object_get_int_member (detail, "port"), ==, 8555);
  g_assert_false (json_object_get_boolean_member (detail, "streaming"));
  g_assert_cmpfloat (json_object_get_double_member (detail,
                         "video_age_seconds"),
      ==, 10);
  g_assert_cmpstr (json_object_get_string_member (detail, "error"), ==,
      "refused");
}

static void
test_error_json (void)
{
  g_autoptr (JsonParser) keep = NULL;
  RtsJsonWriter *w = rts_json_writer_new ();
  JsonObject *o;

  rts_render_error (w, 404, "no \"such\" path");
  o = parse (w, &keep);

  g_assert_cmpstr (json_object_get_string_member (o, "error"), ==,
      "no \"such\" path");
  g_assert_cmpint (json_object_get_int_member (o, "status"), ==, 404);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/render/url", test_url);
  g_test_add_func ("/render/host-header", test_host_header);
  g_test_add_func ("/render/health-json", test_health_json);
  g_test_add_func ("/render/health-json-unprobed", test_health_json_unprobed);
  g_test_add_func ("/render/urls-json", test_urls_json);
  g_test_add_func ("/render/rate-text", test_rate_text);
  g_test_add_func ("/render/index-html", test_index_html);
  g_test_add_func ("/render/index-html-locked", test_index_html_locked);
  g_test_add_func ("/render/check-json", test_check_json);
  g_test_add_func ("/render/error-json", test_error_json);
  return g_test_run ();
}
