/* probe: see probe.h. */
#include "probe.h"

#include "rtsp_wire.h"

#include <string.h>

#define MAX_ANSWER 16384

typedef struct {
  GSocketClient *client;
  GSocketConnection *conn;
  GCancellable *cancel; /* ours: fired by the deadline or the caller */
  gulong caller_cancel_id;
  GCancellable *caller_cancel;
  char *request;
  char *describe;
  int stage; /* 0: OPTIONS, 1: DESCRIBE */
  char answer[MAX_ANSWER];
  gsize answer_len;
  gint64 started;
  guint deadline_id;
  gboolean timed_out;
  RtsProbeDone done;
  gpointer data;
} Probe;

/* Exactly one async call is in flight at any time; its callback owns the
 * probe and is the one place that finishes it. */
static void
finish (Probe *p, int status, const char *error)
{
  RtsProbeResult r = { 0 };
  g_autofree char *msg = NULL;

  r.status = status;
  r.latency = (g_get_monotonic_time () - p->started) / 1e6;
  if (p->timed_out) {
    msg = g_strdup_printf ("no answer to %s within the probe timeout",
        p->stage ? "DESCRIBE" : "OPTIONS");
  } else if (error) {
    msg = g_strdup_printf ("%s: %s", p->stage ? "DESCRIBE" : "OPTIONS", error);
  } else if (status != 200) {
    msg = status < 0 ? g_strdup ("answer is not an RTSP/1.0 status line")
                     : g_strdup_printf ("%s answered RTSP %d, not 200",
                         p->stage ? "DESCRIBE" : "OPTIONS", status);
  }
  r.ok = msg == NULL;
  r.error = msg;
  p->done (&r, p->data);

  g_clear_handle_id (&p->deadline_id, g_source_remove);
  if (p->caller_cancel)
    g_cancellable_disconnect (p->caller_cancel, p->caller_cancel_id);
  g_clear_object (&p->caller_cancel);
  if (p->conn)
    g_io_stream_close (G_IO_STREAM (p->conn), NULL, NULL);
  g_clear_object (&p->conn);
  g_clear_object (&p->client);
  g_clear_object (&p->cancel);
  g_free (p->request);
  g_free (p->describe);
  g_free (p);
}

static gboolean
on_deadline (gpointer data)
{
  Probe *p = data;
  p->deadline_id = 0;
  p->timed_out = TRUE;
  g_cancellable_cancel (p->cancel);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancel (GCancellable *c, gpointer data)
{
  Probe *p = data;
  g_cancellable_cancel (p->cancel);
}

static void read_more (Probe *p);
static void on_written (GObject *src, GAsyncResult *res, gpointer data);

static void
on_read (GObject *src, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  g_autoptr (GError) err = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (src), res, &err);
  size_t hdr;

  if (n < 0) {
    finish (p, -1, err->message);
    return;
  }
  p->answer_len += n;
  hdr = wire_header_end (p->answer, p->answer_len);
  if (hdr > 0) {
    int status = wire_status_code (p->answer, p->answer_len, "RTSP");
    long clen = wire_content_length (p->answer, hdr);

    if (status != 200) {
      finish (p, status, NULL);
      return;
    }
    if (p->stage == 0) {
      /* OPTIONS proves the server answers; DESCRIBE proves the mount and
       * its media are there. Same connection, as a reader would. */
      GOutputStream *out =
          g_io_stream_get_output_stream (G_IO_STREAM (p->conn));
      p->stage = 1;
      p->answer_len = 0;
      g_output_stream_write_all_async (out, p->describe, strlen (p->describe),
          G_PRIORITY_DEFAULT, p->cancel, on_written, p);
      return;
    }
    if (clen < 0) {
      finish (p, -1, "answer without a Content-Length for its SDP");
      return;
    }
    if (clen >= (long) sizeof p->answer - (long) hdr) {
      finish (p, -1, "SDP larger than the probe reads");
      return;
    }
    if (p->answer_len >= hdr + (gsize) clen) {
      if (g_strstr_len (p->answer + hdr, clen, "m=video"))
        finish (p, 200, NULL);
      else
        finish (p, -1, "SDP offers no video");
      return;
    }
  }
  if (n == 0) {
    finish (p, -1,
        p->answer_len ? "connection closed mid-answer"
                      : "connection closed without an answer");
    return;
  }
  if (p->answer_len == sizeof p->answer) {
    finish (p, -1, "answer header larger than 4 KiB");
    return;
  }
  read_more (p);
}

static void
read_more (Probe *p)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (p->conn));
  g_input_stream_read_async (in, p->answer + p->answer_len,
      sizeof p->answer - p->answer_len, G_PRIORITY_DEFAULT, p->cancel, on_read,
      p);
}

static void
on_written (GObject *src, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  g_autoptr (GError) err = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (src), res, NULL,
          &err)) {
    finish (p, -1, err->message);
    return;
  }
  read_more (p);
}

static void
on_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  g_autoptr (GError) err = NULL;
  GOutputStream *out;

  p->conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (src), res, &err);
  if (!p->conn) {
    finish (p, -1, err->message);
    return;
  }
  out = g_io_stream_get_output_stream (G_IO_STREAM (p->conn));
  g_output_stream_write_all_async (out, p->request, strlen (p->request),
      G_PRIORITY_DEFAULT, p->cancel, on_written, p);
}

void
rts_probe_port (const char *host, guint port, const char *path,
    const char *header, double timeout, GCancellable *cancel, RtsProbeDone done,
    gpointer data)
{
  Probe *p = g_new0 (Probe, 1);
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) sa = NULL;
  g_autofree char *url = NULL;
  gboolean v6 =
      addr && g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6;

  p->started = g_get_monotonic_time ();
  p->done = done;
  p->data = data;
  p->cancel = g_cancellable_new ();
  url = g_strdup_printf ("rtsp://%s%s%s:%u%s", v6 ? "[" : "", host,
      v6 ? "]" : "", port, path);
  p->request = g_strdup_printf ("OPTIONS %s RTSP/1.0\r\nCSeq: 1\r\n"
                                "User-Agent: rtsp-test-server-probe\r\n"
                                "%s%s\r\n",
      url, header ? header : "", header ? "\r\n" : "");
  p->describe = g_strdup_printf ("DESCRIBE %s RTSP/1.0\r\nCSeq: 2\r\n"
                                 "Accept: application/sdp\r\n"
                                 "User-Agent: rtsp-test-server-probe\r\n"
                                 "%s%s\r\n",
      url, header ? header : "", header ? "\r\n" : "");
  if (cancel) {
    p->caller_cancel = g_object_ref (cancel);
    p->caller_cancel_id =
        g_cancellable_connect (cancel, G_CALLBACK (on_caller_cancel), p, NULL);
  }
  p->deadline_id = g_timeout_add ((guint) (timeout * 1000), on_deadline, p);
  p->client = g_socket_client_new ();
  /* Our own port on an IP literal: never via a proxy. Left on, GIO asks
   * libproxy on a worker thread at every probe (under valgrind, libproxy's
   * C++ exceptions were most of the reports). */
  g_socket_client_set_enable_proxy (p->client, FALSE);

  /* Config admits only IP literals; a bad one here is a programming
   * error, answered as a refused probe rather than a crash. */
  if (!addr)
    addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  sa = g_inet_socket_address_new (addr, port);
  g_socket_client_connect_async (p->client, G_SOCKET_CONNECTABLE (sa),
      p->cancel, on_connected, p);
}
