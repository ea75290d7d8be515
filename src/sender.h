/* sender: the data plane of loop and file cameras.
 *
 * One thread sends every such camera's RTP packets (rtp_clip.h: made once,
 * kept in memory) to its readers: over TCP through gst-rtsp-server's own
 * connection (interleaved, its send path and back-pressure), over UDP and
 * multicast from the stream's own sockets; and their RTCP sender reports.
 * gst-rtsp-server still does all of RTSP (sessions, transports, auth); the
 * pipeline behind such a camera carries no data, so no encoder, payloader,
 * queue or sink thread wakes for a frame.
 *
 * Owns each camera's timeline (every packet due at a fixed time from the
 * camera's start, on a grid shared by all cameras, so one wake-up serves
 * them all), every reader's place on it, and where a joining reader
 * starts: on the keyframe of the GOP playing now, sent at once, the
 * reader's whole stream shifted by how far into the GOP the camera is.
 * Nobody else's stream changes (no forced keyframe), and every reader's
 * RTP timestamps follow the wall clock alike, so sender reports need no
 * per-reader arithmetic and audio and video stay in sync. A reader that
 * cannot keep up (its TCP connection full) or missed packets (the stall
 * fault, a frozen process) goes on from the next keyframe: it never
 * blocks another reader, and its decoder never sees a broken GOP. */
#pragma once

#include "rtp_clip.h"

#include <gst/rtsp-server/rtsp-server.h>

/* The element a loop camera's media has where a payloader would be
 * ("rtsfeedsrc name=pay0"): an appsrc with the properties gst-rtsp-server
 * asks a payloader for. Register it before a media is made. */
#define RTS_FEED_SRC "rtsfeedsrc"
void rts_feed_src_register (void);

typedef struct RtsFeed RtsFeed;

typedef struct {
  const char *cname; /* RTCP CNAME, one per camera: the camera's name */
  RtsRtpClip *clip;  /* a reference is taken */
  /* The media's streams (video; audio or NULL), prepared, and the SSRC
   * their caps announced. */
  GstRTSPStream *streams[2];
  guint32 ssrc[2];
  /* In-process transports (the house reader), never served. */
  GstRTSPStreamTransport *house[2];
} RtsFeedSetup;

/* Starts sending at once. The media's rtpbin must send no RTCP of its own
 * for these streams (the caller drops it): the feed's sender reports are
 * the only ones. */
RtsFeed *rts_feed_new (const RtsFeedSetup *setup);
/* Stops: no send starts after this returns, and one in progress is waited
 * for, so the media may go at once. */
void rts_feed_free (RtsFeed *feed);

/* While STALLED nothing is sent and nothing counted (the stall fault);
 * afterwards every reader goes on from the next keyframe. Any thread. */
void rts_feed_set_stalled (RtsFeed *feed, gboolean stalled);

/* Called with a PLAY's 200 response of SESSMEDIA, just before it is sent
 * (GstRTSPClient::send-message), on the main loop: decides where each of
 * the session's transports starts and writes the RTP-Info that says so
 * into RESPONSE: each stream's first sequence number, and its RTP time at
 * the instant the reader's stream starts (its keyframe's). gst-rtsp-server
 * has added the transports to their streams by then: one the sender saw
 * first started as any joining reader and is planned anew here (a
 * multicast group that started then keeps its place). rts_feed_kick()
 * then sends their keyframe at once. */
void rts_feed_plan_play (RtsFeed *feed, GstRTSPClient *client,
    GstRTSPSessionMedia *sessmedia, GstRTSPMessage *response);

/* Serve FEED now rather than at its next due packet: a reader was added. */
void rts_feed_kick (RtsFeed *feed);

/* Returns once no send of FEED is under way. Called by a SETUP of a
 * session that is not playing, before gst-rtsp-server replaces its
 * transport's description (gst_rtsp_stream_transport_set_transport frees
 * the old one): the sender reads the descriptions of the transports it
 * found in the stream, and a send that began before the session's PAUSE
 * took its transport out of the stream could read one freed (ASan, 2 of
 * 15 runs of /sender/setup-while-playing on a busy machine). Sends that
 * begin later no longer find the transport. */
void rts_feed_sync (RtsFeed *feed);

typedef struct {
  /* The camera's own timeline, whether or not anyone reads it (the
   * readiness watchdog watches it): video RTP packets, frames and bytes
   * due so far, the stall fault's time excluded. */
  guint64 packets, frames, bytes;
  /* Times a TCP reader's connection was full and its stream waited for
   * it; video frames it skipped, full for over a second, going on from
   * the next keyframe; and readers that went on from a keyframe. */
  guint64 waits;
  guint64 frames_dropped;
  guint64 resyncs;
  gint64 start_us; /* monotonic µs at which the timeline is at 0 */
} RtsFeedCounters;

/* Any thread. */
void rts_feed_counters (RtsFeed *feed, RtsFeedCounters *c);
