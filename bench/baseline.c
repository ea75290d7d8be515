/* baseline: the RTSP test server users assemble by hand from GStreamer's
 * test-launch example, one camera per port, to measure ours against.
 *
 * Usage: baseline [--bind ADDRESS] PORT...
 *
 * Deliberately naive: a live x264 encoder per camera, shared media, no
 * health API, nothing tuned. Only the stream matches ours (640x480@30,
 * a keyframe every 30 frames, 1000 kbit/s) so that readers see the same
 * bitrate and GOP from both. */
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const patterns[] = { "smpte", "ball", "pinwheel", "colors" };

static gboolean
on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  const char *bind = "127.0.0.1";
  GMainLoop *loop;
  GPtrArray *servers;
  int first = 1;

  gst_init (&argc, &argv);
  if (argc > 2 && g_str_equal (argv[1], "--bind")) {
    bind = argv[2];
    first = 3;
  }
  if (first >= argc) {
    fprintf (stderr, "usage: baseline [--bind ADDRESS] PORT...\n");
    return 2;
  }

  loop = g_main_loop_new (NULL, FALSE);
  servers = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = first; i < argc; i++) {
    GstRTSPServer *server = gst_rtsp_server_new ();
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points (server);
    GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new ();
    char *launch =
        g_strdup_printf ("( videotestsrc is-live=true pattern=%s "
                         "! video/x-raw,width=640,height=480,framerate=30/1 "
                         "! x264enc tune=zerolatency speed-preset=ultrafast "
                         "key-int-max=30 "
                         "bitrate=1000 "
                         "! rtph264pay name=pay0 pt=96 config-interval=1 )",
            patterns[(i - first) % G_N_ELEMENTS (patterns)]);

    gst_rtsp_server_set_address (server, bind);
    gst_rtsp_server_set_service (server, argv[i]);
    gst_rtsp_media_factory_set_launch (factory, launch);
    gst_rtsp_media_factory_set_shared (factory, TRUE);
    gst_rtsp_mount_points_add_factory (mounts, "/stream", factory);
    g_object_unref (mounts);
    g_free (launch);
    if (gst_rtsp_server_attach (server, NULL) == 0) {
      fprintf (stderr, "baseline: cannot listen on %s:%s\n", bind, argv[i]);
      return 1;
    }
    g_ptr_array_add (servers, server);
  }

  /* A clean exit on SIGTERM lets the bench stop it like ours. */
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);

  g_ptr_array_unref (servers);
  g_main_loop_unref (loop);
  return 0;
}
