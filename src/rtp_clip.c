/* rtp_clip: see rtp_clip.h. */
#include "rtp_clip.h"

#include "clip_private.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <string.h>

struct RtsRtpClip {
  gint ref;
  RtsRtpTrack tracks[2];
  guint n_tracks;
  guint8 *bytes[2]; /* per track: every packet's bytes, one after another */
};

/* What the payloader hands our sink pad while one track is payloaded. */
typedef struct {
  gboolean video;
  GByteArray *bytes;
  GArray *packets; /* RtsRtpPacket, data as an offset into BYTES */
  GstCaps *caps;   /* the payloader's latest */
  /* The access unit being pushed: what its packets inherit. */
  GstClockTime au_dts, au_pts;
  gboolean au_key;
  guint au_packets; /* packets it made so far */
  gboolean bad;     /* a buffer that is not RTP */
} Collect;

static void
collect_packet (Collect *c, GstBuffer *buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  RtsRtpPacket p = { 0 };
  GstMapInfo map;

  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    c->bad = TRUE;
    return;
  }
  p.marker = gst_rtp_buffer_get_marker (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    c->bad = TRUE;
    return;
  }
  p.data = GSIZE_TO_POINTER ((gsize) c->bytes->len);
  p.size = map.size;
  g_byte_array_append (c->bytes, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  /* Video goes out in decode order at its access unit's DTS; an audio
   * payloader may gather several input buffers into one packet, and then
   * its own PTS says when the packet starts. */
  p.pts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) : c->au_pts;
  p.at = c->video || !GST_BUFFER_PTS_IS_VALID (buf) ? c->au_dts : p.pts;
  p.key = !c->video || (c->au_key && c->au_packets == 0);
  c->au_packets++;
  g_array_append_val (c->packets, p);
}

static GstFlowReturn
collect_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  collect_packet (gst_pad_get_element_private (pad), buf);
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static gboolean
collect_one (GstBuffer **buf, guint idx, gpointer data)
{
  collect_packet (data, *buf);
  return TRUE;
}

static GstFlowReturn
collect_chain_list (GstPad *pad, GstObject *parent, GstBufferList *list)
{
  gst_buffer_list_foreach (list, collect_one,
      gst_pad_get_element_private (pad));
  gst_buffer_list_unref (list);
  return GST_FLOW_OK;
}

static gboolean
collect_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  Collect *c = gst_pad_get_element_private (pad);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    gst_caps_replace (&c->caps, caps);
  }
  gst_event_unref (event);
  return TRUE;
}

/* A sink that takes anything: the payloader's output is ours to keep. */
static gboolean
collect_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter = NULL;
      gst_query_parse_caps (query, &filter);
      gst_query_set_caps_result (query, filter ? filter : GST_CAPS_ANY);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:
      gst_query_set_accept_caps_result (query, TRUE);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* Pushes every access unit of IN through PAY, on this thread: a
 * payloader's chain function pushes what it makes before it returns. */
static gboolean
run_payloader (GstElement *pay, const Track *in, Collect *c, GError **error)
{
  g_autoptr (GstPad) src = gst_pad_new ("src", GST_PAD_SRC);
  g_autoptr (GstPad) sink = gst_pad_new ("sink", GST_PAD_SINK);
  g_autoptr (GstPad) pay_sink = gst_element_get_static_pad (pay, "sink");
  g_autoptr (GstPad) pay_src = gst_element_get_static_pad (pay, "src");
  GstSegment segment;
  GstFlowReturn flow = GST_FLOW_OK;

  gst_pad_set_element_private (sink, c);
  gst_pad_set_chain_function (sink, collect_chain);
  gst_pad_set_chain_list_function (sink, collect_chain_list);
  gst_pad_set_event_function (sink, collect_event);
  gst_pad_set_query_function (sink, collect_query);
  if (!pay_sink || !pay_src || gst_pad_link (src, pay_sink) != GST_PAD_LINK_OK
      || gst_pad_link (pay_src, sink) != GST_PAD_LINK_OK)
    goto refused;
  gst_pad_set_active (sink, TRUE);
  gst_pad_set_active (src, TRUE);
  if (gst_element_set_state (pay, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE)
    goto refused;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  if (!gst_pad_push_event (src, gst_event_new_stream_start ("rts-clip"))
      || !gst_pad_push_event (src, gst_event_new_caps (in->caps))
      || !gst_pad_push_event (src, gst_event_new_segment (&segment)))
    goto refused;
  for (guint i = 0; i < in->frames->len && flow == GST_FLOW_OK; i++) {
    GstBuffer *au = g_ptr_array_index (in->frames, i);
    c->au_dts = GST_BUFFER_DTS (au);
    c->au_pts = GST_BUFFER_PTS (au);
    c->au_key = !GST_BUFFER_FLAG_IS_SET (au, GST_BUFFER_FLAG_DELTA_UNIT);
    c->au_packets = 0;
    flow = gst_pad_push (src, gst_buffer_ref (au));
  }
  /* What a payloader still holds (an audio one gathers samples). */
  c->au_packets = 1;
  gst_pad_push_event (src, gst_event_new_eos ());
  gst_element_set_state (pay, GST_STATE_NULL);
  gst_pad_set_active (src, FALSE);
  gst_pad_set_active (sink, FALSE);
  gst_pad_unlink (src, pay_sink);
  gst_pad_unlink (pay_src, sink);
  if (flow != GST_FLOW_OK || c->bad || !c->caps || c->packets->len == 0)
    goto refused;
  return TRUE;

  /* ERRORS */
refused:
  gst_element_set_state (pay, GST_STATE_NULL);
  g_set_error (error, RTS_CLIP_ERROR, RTS_CLIP_ERROR_ENCODE,
      "%s refused the clip's %s (%s)", GST_OBJECT_NAME (pay),
      c->video ? "video" : "audio", gst_flow_get_name (flow));
  return FALSE;
}

/* The first parameter set of a sprop-* value (base64, comma-separated),
 * its emulation prevention bytes (00 00 03) taken out: the bytes a
 * profile and level are read from. NULL when there is none. */
static GByteArray *
first_param_set (const char *sprop)
{
  g_autofree char *first = NULL;
  g_autofree guchar *raw = NULL;
  gsize len = 0;
  GByteArray *out;
  guint zeros = 0;

  if (!sprop || !*sprop)
    return NULL;
  first = g_strndup (sprop, strcspn (sprop, ","));
  raw = g_base64_decode (first, &len);
  if (!raw || len == 0)
    return NULL;
  out = g_byte_array_sized_new ((guint) len);
  for (gsize i = 0; i < len; i++) {
    if (zeros >= 2 && raw[i] == 3) {
      zeros = 0;
      continue;
    }
    zeros = raw[i] == 0 ? zeros + 1 : 0;
    g_byte_array_append (out, &raw[i], 1);
  }
  return out;
}

/* The profile and level a strict client reads from the SDP (RFC 6184
 * profile-level-id; RFC 7798 profile-id, tier-flag, level-id), from the
 * stream's own SPS. A live camera's payloader writes them from its
 * encoder's caps; a clip's has only the in-band parameter sets, and
 * without them a client must assume Baseline level 1.0 (H.264) or Main
 * level 3.1 (H.265) whatever the stream is. */
static void
add_profile_level (GstStructure *s)
{
  const char *name = gst_structure_get_string (s, "encoding-name");

  if (g_strcmp0 (name, "H264") == 0
      && !gst_structure_has_field (s, "profile-level-id")) {
    g_autoptr (GByteArray) sps =
        first_param_set (gst_structure_get_string (s, "sprop-parameter-sets"));
    /* NAL header, profile_idc, constraint flags, level_idc. */
    if (sps && sps->len >= 4 && (sps->data[0] & 0x1f) == 7) {
      g_autofree char *id = g_strdup_printf ("%02x%02x%02x", sps->data[1],
          sps->data[2], sps->data[3]);
      gst_structure_set (s, "profile-level-id", G_TYPE_STRING, id, NULL);
    }
  } else if (g_strcmp0 (name, "H265") == 0
      && !gst_structure_has_field (s, "profile-id")) {
    g_autoptr (GByteArray) sps =
        first_param_set (gst_structure_get_string (s, "sprop-sps"));
    /* NAL header (2), a byte of ids, then profile_tier_level: space, tier
     * and profile (1), compatibility (4), constraints (6), level (1). */
    if (sps && sps->len >= 15 && ((sps->data[0] >> 1) & 0x3f) == 33) {
      g_autofree char *profile = g_strdup_printf ("%u", sps->data[3] & 0x1f);
      g_autofree char *tier = g_strdup_printf ("%u", (sps->data[3] >> 5) & 1);
      g_autofree char *level = g_strdup_printf ("%u", sps->data[14]);
      gst_structure_set (s, "profile-id", G_TYPE_STRING, profile, "tier-flag",
          G_TYPE_STRING, tier, "level-id", G_TYPE_STRING, level, NULL);
    }
  }
}

/* Made from TRACK with the payloader CHAIN ("rtph264pay name=pay0 pt=96"). */
static gboolean
make_track (RtsRtpClip *rc, guint index, const Track *in, const char *chain,
    GError **error)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GstElement) pay = gst_parse_launch_full (chain, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS | GST_PARSE_FLAG_NO_SINGLE_ELEMENT_BINS,
      &err);
  Collect c = { .video = index == 0 };
  RtsRtpTrack *t = &rc->tracks[index];
  GstStructure *s;
  gint rate = 0, pt = -1;
  GArray *keys;
  gboolean ok;

  if (!pay) {
    g_set_error (error, RTS_CLIP_ERROR, RTS_CLIP_ERROR_MISSING,
        "cannot make the payloader \"%s\": %s", chain, err->message);
    return FALSE;
  }
  c.bytes = g_byte_array_new ();
  c.packets = g_array_new (FALSE, TRUE, sizeof (RtsRtpPacket));
  ok = run_payloader (pay, in, &c, error);
  if (ok) {
    s = gst_caps_get_structure (c.caps, 0);
    if (!gst_structure_get_int (s, "clock-rate", &rate) || rate <= 0
        || !gst_structure_get_int (s, "payload", &pt)) {
      g_set_error (error, RTS_CLIP_ERROR, RTS_CLIP_ERROR_ENCODE,
          "%s announced no clock rate or payload type", GST_OBJECT_NAME (pay));
      ok = FALSE;
    }
  }
  if (!ok) {
    g_byte_array_unref (c.bytes);
    g_array_unref (c.packets);
    gst_clear_caps (&c.caps);
    return FALSE;
  }

  t->n = c.packets->len;
  t->packets = (RtsRtpPacket *) g_array_free (c.packets, FALSE);
  rc->bytes[index] = g_byte_array_free (c.bytes, FALSE);
  keys = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < t->n; i++) {
    RtsRtpPacket *p = &t->packets[i];
    GstClockTime first = t->packets[0].at;
    p->data = rc->bytes[index] + GPOINTER_TO_SIZE (p->data);
    /* Offsets from the first packet, which starts the loop; never back in
     * time (a reader is sent packets in this order) nor past its end. */
    p->at = p->at - first;
    if (i > 0 && p->at < t->packets[i - 1].at)
      p->at = t->packets[i - 1].at;
    if (p->at >= in->length)
      p->at = in->length - 1;
    p->pts = p->pts >= first ? p->pts - first : 0;
    if (p->key)
      g_array_append_val (keys, i);
  }
  /* The loop starts on a keyframe (clip.c's promise); be sure of it. */
  if (keys->len == 0 || g_array_index (keys, guint, 0) != 0) {
    guint zero = 0;
    g_array_prepend_val (keys, zero);
  }
  t->packets[0].key = TRUE;
  t->n_keys = keys->len;
  t->keys = (guint *) g_array_free (keys, FALSE);
  t->length = in->length;
  t->clock_rate = (guint) rate;
  t->pt = (guint) pt;
  t->frames = in->frames->len;
  t->caps = gst_caps_copy (c.caps);
  s = gst_caps_get_structure (t->caps, 0);
  gst_structure_remove_fields (s, "ssrc", "seqnum-offset", "timestamp-offset",
      "clock-base", "seqnum-base", NULL);
  add_profile_level (s);
  gst_caps_unref (c.caps);
  return TRUE;
}

RtsRtpClip *
rts_rtp_clip_new (RtsClip *clip, GError **error)
{
  RtsRtpClip *rc = g_new0 (RtsRtpClip, 1);

  rc->ref = 1;
  rc->n_tracks = clip->audio.frames ? 2 : 1;
  if (!make_track (rc, 0, &clip->video, clip->video.chain, error)
      || (clip->audio.frames
          && !make_track (rc, 1, &clip->audio, clip->audio.chain, error))) {
    rts_rtp_clip_unref (rc);
    return NULL;
  }
  return rc;
}

RtsRtpClip *
rts_rtp_clip_ref (RtsRtpClip *rc)
{
  g_atomic_int_inc (&rc->ref);
  return rc;
}

void
rts_rtp_clip_unref (RtsRtpClip *rc)
{
  if (!rc || !g_atomic_int_dec_and_test (&rc->ref))
    return;
  for (guint i = 0; i < 2; i++) {
    g_free (rc->tracks[i].packets);
    gst_clear_caps (&rc->tracks[i].caps);
    g_free (rc->tracks[i].keys);
    g_free (rc->bytes[i]);
  }
  g_free (rc);
}

const RtsRtpTrack *
rts_rtp_clip_track (const RtsRtpClip *rc, guint index)
{
  return index < rc->n_tracks ? &rc->tracks[index] : NULL;
}

GstClockTime
rts_rtp_track_due (const RtsRtpTrack *t, guint64 g)
{
  return (g / t->n) * t->length + t->packets[g % t->n].at;
}

GstClockTime
rts_rtp_track_pts (const RtsRtpTrack *t, guint64 g)
{
  return (g / t->n) * t->length + t->packets[g % t->n].pts;
}

guint32
rts_rtp_track_ticks (const RtsRtpTrack *t, guint64 g)
{
  /* From the loop's whole presentation time each time, not by adding a
   * loop's worth of ticks: a length that is no whole number of ticks does
   * not drift from the wall clock, however many loops go by. */
  return rts_rtp_track_ticks_at (t, rts_rtp_track_pts (t, g));
}

guint32
rts_rtp_track_ticks_at (const RtsRtpTrack *t, GstClockTime pts)
{
  return (guint32) gst_util_uint64_scale_round (pts, t->clock_rate, GST_SECOND);
}

/* The first index in a loop due at or after R (N when none is). */
static guint
first_at_or_after (const RtsRtpTrack *t, GstClockTime r)
{
  guint lo = 0, hi = t->n;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (t->packets[mid].at < r)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

guint64
rts_rtp_track_at_or_after (const RtsRtpTrack *t, GstClockTime pos)
{
  guint64 loop = pos / t->length;

  return loop * t->n + first_at_or_after (t, pos % t->length);
}

guint64
rts_rtp_track_at_or_before (const RtsRtpTrack *t, GstClockTime pos)
{
  guint64 loop = pos / t->length;
  guint i = first_at_or_after (t, pos % t->length + 1);

  /* Packet 0 is due at 0, so I is at least 1. */
  return loop * t->n + i - 1;
}

/* The index in T->keys of the last keyframe start at or before loop
 * index I; keys[0] is 0, so there is one. */
static guint
key_index_at_or_before (const RtsRtpTrack *t, guint i)
{
  guint lo = 0, hi = t->n_keys;

  while (hi - lo > 1) {
    guint mid = lo + (hi - lo) / 2;
    if (t->keys[mid] <= i)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

guint64
rts_rtp_track_key_at_or_before (const RtsRtpTrack *t, guint64 g)
{
  guint64 loop = g / t->n;

  return loop * t->n + t->keys[key_index_at_or_before (t, g % t->n)];
}

guint64
rts_rtp_track_key_at_or_after (const RtsRtpTrack *t, guint64 g)
{
  guint64 loop = g / t->n;
  guint i = (guint) (g % t->n);
  guint k = key_index_at_or_before (t, i);

  if (t->keys[k] == i)
    return g;
  if (k + 1 < t->n_keys)
    return loop * t->n + t->keys[k + 1];
  return (loop + 1) * t->n; /* the next loop's first packet, a keyframe */
}

gint64
rts_rtp_track_ticks_in (const RtsRtpTrack *t, gint64 duration)
{
  gint64 ticks = (gint64) gst_util_uint64_scale_round ((guint64) ABS (duration),
      t->clock_rate, GST_SECOND);

  return duration < 0 ? -ticks : ticks;
}
