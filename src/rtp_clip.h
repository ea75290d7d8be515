/* rtp_clip: a clip made into RTP packets once, by GStreamer's own
 * payloaders, and the arithmetic of replaying them forever.
 *
 * Owns, for each track of a clip (video, and audio if any), the packets of
 * one loop as the payloader made them, when each is due from the loop's
 * start, the presentation time its RTP timestamp comes from, where a reader
 * may start (the first packet of each keyframe), and the caps a media
 * announces in its SDP. Sequence number, timestamp and SSRC are written at
 * each send (sender.c), so one RtsRtpClip serves any number of cameras and
 * readers; it is immutable once made.
 *
 * Positions are global packet indices: packet G is packet G % n of loop
 * G / n, so a position keeps rising across the loop point and so do the
 * due time, the sequence number and the timestamp made from it. */
#pragma once

#include "clip.h"

#include <gst/gst.h>

typedef struct {
  const guint8 *data; /* the whole packet, its 12-byte header first */
  guint size;
  gboolean key;     /* first packet of a keyframe: a reader may start here */
  gboolean marker;  /* RTP marker: the last packet of a video frame */
  GstClockTime at;  /* when it is due, from the loop's start (its DTS) */
  GstClockTime pts; /* what its RTP timestamp says, from the loop's start */
} RtsRtpPacket;

typedef struct {
  RtsRtpPacket *packets; /* one loop, in sending order */
  guint n;
  GstClockTime length; /* one loop */
  guint clock_rate;
  guint pt;
  guint frames; /* access units in one loop */
  guint *keys;  /* indices of the keyframe starts, rising; keys[0] is 0 */
  guint n_keys;
  /* application/x-rtp, as the payloader announced it (sprop-parameter-sets
   * and the like) less its random ssrc, seqnum-offset and
   * timestamp-offset: the caller adds its own. */
  GstCaps *caps;
} RtsRtpTrack;

typedef struct RtsRtpClip RtsRtpClip;

/* Payloads every access unit of CLIP with the payloader its chain names
 * (rts_clip_video_chain, rts_clip_audio_chain), synchronously on the
 * calling thread: no pipeline, no thread, a few milliseconds. Fails with
 * RTS_CLIP_ERROR when a payloader is missing or refuses the clip. */
RtsRtpClip *rts_rtp_clip_new (RtsClip *clip, GError **error);
RtsRtpClip *rts_rtp_clip_ref (RtsRtpClip *rc);
void rts_rtp_clip_unref (RtsRtpClip *rc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtsRtpClip, rts_rtp_clip_unref)

/* Track 0 (video) or 1 (audio); NULL for audio when the clip has none. */
const RtsRtpTrack *rts_rtp_clip_track (const RtsRtpClip *rc, guint index);

/* Packet G (any position). */
static inline const RtsRtpPacket *
rts_rtp_track_packet (const RtsRtpTrack *t, guint64 g)
{
  return &t->packets[g % t->n];
}

/* When packet G is due, from loop 0's start. */
GstClockTime rts_rtp_track_due (const RtsRtpTrack *t, guint64 g);

/* Packet G's presentation time, from loop 0's start (loops included). */
GstClockTime rts_rtp_track_pts (const RtsRtpTrack *t, guint64 g);

/* Packet G's RTP timestamp, less the stream's random base: its
 * presentation time (loops included) in clock-rate ticks, modulo 2^32. */
guint32 rts_rtp_track_ticks (const RtsRtpTrack *t, guint64 g);

/* The same for any presentation time PTS (from loop 0's start), rounded as
 * a packet's is: a packet at PTS has it. */
guint32 rts_rtp_track_ticks_at (const RtsRtpTrack *t, GstClockTime pts);

/* The first position due at or after time POS (from loop 0's start). */
guint64 rts_rtp_track_at_or_after (const RtsRtpTrack *t, GstClockTime pos);

/* The last position due at or before POS; POS must not be before the
 * first packet (0 is not: every track's first packet is due at 0). */
guint64 rts_rtp_track_at_or_before (const RtsRtpTrack *t, GstClockTime pos);

/* The last keyframe start at or before position G, or the first one at or
 * after it. A track without keyframes (audio) answers G. */
guint64 rts_rtp_track_key_at_or_before (const RtsRtpTrack *t, guint64 g);
guint64 rts_rtp_track_key_at_or_after (const RtsRtpTrack *t, guint64 g);

/* RTP clock ticks in DURATION (which may be negative), rounded. */
gint64 rts_rtp_track_ticks_in (const RtsRtpTrack *t, gint64 duration);
