/* rtsp_reader: a minimal RTSP client for tests that must count what a
 * reader receives, packet by packet.
 *
 * ffmpeg and gst-launch say "30 frames decoded" but not whether a packet was
 * lost on the way; this reader plays one camera (OPTIONS, DESCRIBE, SETUP,
 * PLAY) over TCP interleaved or UDP and counts RTP packets, sequence gaps and
 * frames (the RTP marker bit ends each access unit), so a test can assert
 * "every frame arrived". It can also vanish the ways real clients do:
 * TEARDOWN, a plain close, or a TCP reset. It plays the video stream, or
 * over TCP the audio beside it, as ffmpeg does (rts_reader_play_av), each
 * counted on its own. Blocking GIO sockets with timeouts; a background
 * thread does the receiving when asked to. */
#pragma once

#include <gio/gio.h>

typedef enum {
  RTS_READER_TCP, /* RTP/AVP/TCP, interleaved on the RTSP connection */
  RTS_READER_UDP, /* RTP/AVP unicast to a local port pair */
} RtsReaderTransport;

typedef enum {
  RTS_VANISH_TEARDOWN, /* the polite way: TEARDOWN, then close */
  RTS_VANISH_CLOSE,    /* close without TEARDOWN (FIN) */
  RTS_VANISH_RST,      /* close with SO_LINGER 0: the server sees a reset */
} RtsVanish;

typedef struct {
  guint64 packets;           /* RTP packets */
  guint64 frames;            /* RTP packets with the marker bit */
  guint64 bytes;             /* RTP bytes */
  guint64 gaps;              /* times the sequence number jumped */
  guint64 backwards;         /* jumps back: packets sent again */
  guint64 lost;              /* packets the jumps skipped */
  guint64 gaps_mid_frame;    /* jumps inside one frame (same timestamp on
                           * both sides): a frame arrived broken */
  guint64 frames_cut;        /* a frame's end never came: a packet of a
                              * new timestamp followed one without the
                              * marker bit */
  guint32 last_gap_ts_delta; /* RTP timestamp step across the last jump */
  guint64 ts_backwards;      /* packets whose timestamp went back */
  guint64 ts_repeated;       /* video: frames with the previous one's */
  guint64 rtcp;              /* RTCP packets (sender reports) */
  gint64 first_us; /* monotonic time of the first RTP packet, 0 if none */
  gint64 last_us;  /* of the last */
  /* What the pictures were (H.264, or H.265 when the SDP says so): */
  guint64 keyframes;        /* frames with an IDR picture */
  gboolean first_frame_key; /* the first frame was one */
  guint64 delta_after_gap;  /* jumps after which the next frame was not:
                             * a decoder would show a broken picture */
  /* The first packet, and what the PLAY answer's RTP-Info said it would
   * be. */
  guint16 first_seq;
  guint32 first_ts;
  guint32 ssrc;
  gboolean have_rtpinfo;
  gboolean rtpinfo_no_seq; /* its entry named no packet (a live camera's
                            * answer given before its keyframe began) */
  guint16 rtpinfo_seq;
  guint32 rtpinfo_ts;
  /* Sender reports, and the largest difference in ms between a report's
   * map of RTP time to wall-clock time and the packets' own (the time the
   * least delayed one arrived). */
  guint64 reports;
  double report_skew_ms;
  /* After rts_reader_replay: the first packet's sequence number after
   * the new PLAY's answer (whose RTP-Info the fields above now hold). */
  gboolean have_replay_seq;
  guint16 replay_seq;
  /* The first report's map: wall-clock time (s since 1970) and the RTP
   * time it names. */
  double first_report_wall;
  guint32 first_report_ts;
  /* The CNAME the SDP's a=ssrc line gave the stream, and the one its
   * RTCP's SDES carried last ("" if none). */
  char sdp_cname[64];
  char rtcp_cname[64];
} RtsReaderStats;

typedef struct RtsReader RtsReader;

/* Connects to 127.0.0.1:PORT and plays PATH over TRANSPORT: OPTIONS,
 * DESCRIBE, SETUP, PLAY, each answered 200 within TIMEOUT seconds. NULL
 * with ERROR set (naming the step and the answer) otherwise. */
RtsReader *rts_reader_play (guint port, const char *path,
    RtsReaderTransport transport, double timeout, GError **error);

/* The same, with RANGE: PLAY carries "Range: npt=0-" as ffmpeg and VLC
 * send it (rts_reader_play sends none: on this server a Range makes the
 * shared camera seek, and every other reader loses packets; known bug). */
RtsReader *rts_reader_play_range (guint port, const char *path,
    RtsReaderTransport transport, gboolean range, double timeout,
    GError **error);

/* The same, with the socket's receive buffer set to RCVBUF bytes before it
 * connects (a small TCP window): a reader that stops reading is then one
 * that the server cannot write to within a second or so. */
RtsReader *rts_reader_play_rcvbuf (guint port, const char *path,
    RtsReaderTransport transport, guint rcvbuf, double timeout, GError **error);

/* The same over TCP with the audio stream too, on interleaved channels
 * 2-3 of the one connection (video on 0-1), as ffmpeg plays a camera with
 * audio. An SDP without audio is an error. */
RtsReader *rts_reader_play_av (guint port, const char *path, double timeout,
    GError **error);

/* The same over TCP with the audio stream only, on channels 2-3: its
 * counters are stream 1's (rts_reader_stream_stats). */
RtsReader *rts_reader_play_audio (guint port, const char *path, double timeout,
    GError **error);

/* Receives on the calling thread until PACKETS RTP packets of video (of
 * audio, for rts_reader_play_audio) have arrived in all, or TIMEOUT
 * seconds pass. Only while no thread runs. */
gboolean rts_reader_receive (RtsReader *r, guint64 packets, double timeout);

/* The same until every stream has had a sender report of its own. */
gboolean rts_reader_wait_reports (RtsReader *r, double timeout);

/* PAUSE, then PLAY again on the same session, as a player's pause and
 * resume (only while no thread runs); FALSE unless both are answered 200
 * within TIMEOUT seconds. */
gboolean rts_reader_replay (RtsReader *r, double timeout);

/* The same without the PAUSE: a PLAY while playing (RFC 2326 lets a
 * client send one). */
gboolean rts_reader_play_again (RtsReader *r, double timeout);

/* A SETUP of the video again on the same session, asking for a new
 * transport as a client changing it would: over UDP a new port pair
 * (where the reader then listens if it is answered 200), over TCP the
 * same channels. With PAUSE_FIRST, PAUSE before it and, once it is
 * answered 200, PLAY after it (what RFC 2326 allows any server). Returns
 * the SETUP's status, -1 with ERROR set. Only while no thread runs. */
int rts_reader_setup_again (RtsReader *r, gboolean pause_first, double timeout,
    GError **error);

/* Receives on a thread of its own (with a GET_PARAMETER keep-alive every
 * 20 s, as real cameras expect) until rts_reader_close. */
void rts_reader_start_thread (RtsReader *r);

/* A copy of the video's counters so far; safe while the thread runs. */
void rts_reader_stats (RtsReader *r, RtsReaderStats *out);

/* Waits until R's thread has counted WANT frames of video; FALSE after
 * TIMEOUT seconds or once the reader failed. */
gboolean rts_reader_wait_frames (RtsReader *r, guint64 want, double timeout);

/* The same of STREAM: 0 the video, 1 the audio (rts_reader_play_av).
 * Keyframes are counted in the video only. */
void rts_reader_stream_stats (RtsReader *r, guint stream, RtsReaderStats *out);

/* The error that ended the receiving thread, or NULL. */
const char *rts_reader_error (RtsReader *r);

/* A TEARDOWN of the session, the connection kept: its status, -1 on
 * error. Only while no thread runs. */
int rts_reader_teardown (RtsReader *r, double timeout);

/* Reads (and drops) until the server closes the connection: TRUE if it
 * did within TIMEOUT seconds. Only while no thread runs. */
gboolean rts_reader_wait_closed (RtsReader *r, double timeout);

/* Stops the thread if any and leaves HOW; the UDP sockets stay open. */
void rts_reader_vanish (RtsReader *r, RtsVanish how);

/* After rts_reader_vanish of a UDP reader: RTP packets that still reach
 * its port within SECONDS (after dropping what was queued). A reaped
 * session sends none. */
guint64 rts_reader_udp_packets_after (RtsReader *r, double seconds);

/* rts_reader_vanish, then frees everything. */
void rts_reader_close (RtsReader *r, RtsVanish how);

/* The session id the server gave, for log checks. */
const char *rts_reader_session (RtsReader *r);

/* The session timeout the server announced in SETUP (seconds; RFC 2326
 * says 60 when it announces none). */
guint rts_reader_session_timeout (RtsReader *r);

/* UDP: the port the server takes RTCP on (SETUP's server_port), or 0. */
guint rts_reader_server_rtcp_port (RtsReader *r);
