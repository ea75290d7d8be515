/* rtsp_servers: one gst-rtsp-server per camera, on its own port.
 *
 * Owns each camera's listening socket, its GstRTSPServer (mount, shared media
 * factory, session pool) and the count of readers. The socket is ours, not
 * gst-rtsp-server's, so that a port can be closed, reopened on the same
 * number, or left to accept without answering (a hung server), all without
 * restarting the process. Everything runs on the default main context. */
#pragma once

#include "camera.h"
#include "clip.h"
#include "rtp_clip.h"

#include <gio/gio.h>

typedef struct RtsRtspServer RtsRtspServer;

/* The realm a camera's credentials belong to, in its RTSP challenges and
 * its snapshot's (http_api), so a client's saved credentials fit both. */
#define RTS_AUTH_REALM "rtsp-test-server"

typedef enum {
  RTS_LISTEN_OPEN,   /* accepting and answering */
  RTS_LISTEN_HUNG,   /* kernel accepts, nobody answers */
  RTS_LISTEN_CLOSED, /* port closed: connections refused */
  /* Bound and listening while the cameras start: the kernel accepts,
   * nobody answers yet. */
  RTS_LISTEN_STARTING,
} RtsListenState;

/* What one client may hold, and for how long. */
typedef struct {
  guint max_readers;       /* per camera; beyond: 453 Not Enough Bandwidth */
  guint max_readers_total; /* over every camera of the process */
  guint session_timeout;   /* seconds without keep-alive (RFC 2326: 60) */
  guint idle_timeout;      /* seconds a connection may stay without a session */
  gboolean ignore_play_range; /* no seek of the shared media on PLAY */
  guint max_request_bytes;    /* a request's body, refused before reading */
  guint max_request_headers;  /* a request's header lines; more: 413 */
} RtsRtspLimits;

/* Binds and listens on CAM's port at BIND; answers nothing until
 * rts_rtsp_server_start(). Fails with G_IO_ERROR_ADDRESS_IN_USE and a
 * message naming the port when it is taken. LIMITS is copied. */
RtsRtspServer *rts_rtsp_server_new (const RtsCamera *cam, const char *bind,
    const RtsRtspLimits *limits, GError **error);
void rts_rtsp_server_free (RtsRtspServer *srv);

/* Starts the camera's pipeline and keeps it playing for the server's life,
 * readers or not.
 * Readers then join a stream that already flows: no encoder start-up on the
 * first DESCRIBE, and none of gst-rtsp-server's races between a media being
 * prepared or torn down and the next reader (a PLAY before the first buffer
 * aborts in gst_rtsp_media_get_rates; a DESCRIBE right after the last reader
 * left gets 503). Does not wait for data: see rts_rtsp_server_has_data().
 * CLIP (loop and file sources; NULL for live) is what the camera replays;
 * RTP, when not NULL, its packets as another camera of the same clip has
 * them (one copy of a file's video for all its cameras), else they are
 * made here. */
gboolean rts_rtsp_server_warm_up (RtsRtspServer *srv, RtsClip *clip,
    RtsRtpClip *rtp, GError **error);

/* The packets a loop or file camera replays (NULL for live), for another
 * camera of the same clip to share. */
RtsRtpClip *rts_rtsp_server_rtp_clip (RtsRtspServer *srv);

/* TRUE once the first RTP packet has left the camera's payloader. Safe from
 * any thread. (Not the house reader's count: that packet arrives about
 * 50 ms later, paced by the sink's clock, and start-up would wait for it.) */
gboolean rts_rtsp_server_has_data (RtsRtspServer *srv);

/* While STALLED, the camera's packets are dropped before any reader (and
 * the watchdog) sees them: the stall fault. */
void rts_rtsp_server_set_stalled (RtsRtspServer *srv, gboolean stalled);

/* Faults: answer 461 Unsupported Transport to a SETUP that offers no TCP ... */
void rts_rtsp_server_set_refuse_udp (RtsRtspServer *srv, gboolean refuse);
/* ... answer every request with STATUS (503 or 401; 0: stop). Streams
 * already playing go on: only requests are refused. */
void rts_rtsp_server_set_reject (RtsRtspServer *srv, guint status);
/* ... hold every answer MS milliseconds before it goes (0: stop; held
 * answers then go at once). */
void rts_rtsp_server_set_answer_delay (RtsRtspServer *srv, guint ms);
/* ... drop every reader now, by TCP reset (RST) or by closing its session
 * and connection (FIN). Returns how many. */
guint rts_rtsp_server_drop_readers (RtsRtspServer *srv, gboolean rst);

typedef struct {
  guint64 frames;         /* video frames sent (each reaches every reader) */
  guint64 bytes;          /* RTP bytes sent */
  guint64 sessions;       /* readers that ever set up a session */
  guint64 refused;        /* SETUPs refused: reader limits */
  guint64 idle_closed;    /* connections closed for holding no session */
  guint64 reader_waits;   /* loop cameras: times a reader's connection was
                           * full and its stream waited */
  guint64 frames_dropped; /* loop cameras: frames a full reader missed */
  guint64 auth_failures;  /* requests with wrong credentials (401) */
} RtsCameraCounters;

/* Counters since start. Safe from the main loop. */
void rts_rtsp_server_counters (RtsRtspServer *srv, RtsCameraCounters *c);

/* RTP packets the camera has sent since start (wraps); each one reached
 * the point where readers are served. Safe from any thread. */
guint rts_rtsp_server_packets (RtsRtspServer *srv);

/* The camera's picture as a JPEG, at most about a second old; NULL before
 * the first one. TAKEN_US (may be NULL) gets when, in real time. Safe from
 * any thread. */
GBytes *rts_rtsp_server_snapshot (RtsRtspServer *srv, gint64 *taken_us);

/* TRUE when the camera will have no snapshot: its stills could not be
 * made (the log said why). Any thread. */
gboolean rts_rtsp_server_snapshots_failed (RtsRtspServer *srv);

/* "X-Rts-Probe: KEY", a header line for the server's own health probe:
 * with it a request passes a camera's credentials check (not a fault).
 * The key is random per process. */
const char *rts_rtsp_server_probe_header (void);

/* Starts answering on the default main context. */
void rts_rtsp_server_start (RtsRtspServer *srv);

const RtsCamera *rts_rtsp_server_camera (const RtsRtspServer *srv);

/* The port actually bound (never 0 once created). */
guint rts_rtsp_server_port (const RtsRtspServer *srv);

RtsListenState rts_rtsp_server_listen_state (const RtsRtspServer *srv);
const char *rts_listen_state_name (RtsListenState state);

/* Moves to STATE. Reopening a closed port binds the same number again and
 * fails if someone else took it meanwhile. */
gboolean rts_rtsp_server_set_listen_state (RtsRtspServer *srv,
    RtsListenState state, GError **error);

/* Readers now: connections that set up a session and are still open. */
guint rts_rtsp_server_readers (const RtsRtspServer *srv);

/* RTSP connections now, readers or not. */
guint rts_rtsp_server_connections (RtsRtspServer *srv);

/* For shutdown: stop accepting, drop every connection and session. */
void rts_rtsp_server_stop (RtsRtspServer *srv);
