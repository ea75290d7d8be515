/* nonces: the Digest nonces the HTTP API hands out in its challenges.
 *
 * Owns making them, which were issued, until when each is good, and which
 * nonce counts (nc) each has been used with. libsoup's
 * SoupAuthDomainDigest checks that a response hash fits the password, but
 * not that the server issued the nonce nor that the count is new: a
 * captured request for a snapshot could be replayed for ever. Nor are its
 * own nonces fit to be kept: the message's address and the second, the
 * same for clients that follow each other within a second. So the HTTP
 * API challenges with nonces made here, 128 random bits each, and asks
 * here after libsoup accepted the hash, so only the password's holder can
 * use up a count.
 *
 * A count may arrive out of order (a browser's parallel requests): any
 * count not yet used is taken, within the last 64 below the highest seen.
 * A request without a count (no qop, RFC 2069, which libsoup refuses
 * before this is asked) would use its nonce once. The
 * table holds at most a fixed number of nonces: a flood of challenges
 * evicts the oldest, whose holders are then told "stale" and retry. */
#pragma once

#include <glib.h>

typedef struct _RtsNonces RtsNonces;

typedef enum {
  RTS_NONCE_OK,      /* issued, in time, count new: now used */
  RTS_NONCE_UNKNOWN, /* never issued here, or evicted */
  RTS_NONCE_EXPIRED, /* issued, its lifetime is over */
  RTS_NONCE_REPLAY,  /* this count (or the nonce without one) was used */
  RTS_NONCE_BAD_NC,  /* the count is not 8 hex digits */
} RtsNonceVerdict;

RtsNonces *rts_nonces_new (guint max, gint64 lifetime_us);
void rts_nonces_free (RtsNonces *n);
/* A new nonce (32 hex digits), given out at NOW_US (monotonic); g_free()
 * it. */
char *rts_nonces_issue (RtsNonces *n, gint64 now_us);
/* A request whose hash is right came with NONCE and count NC (NULL when
 * it has none); OK marks the count used. */
RtsNonceVerdict
rts_nonces_use (RtsNonces *n, const char *nonce, const char *nc, gint64 now_us);
guint rts_nonces_count (const RtsNonces *n);
const char *rts_nonce_verdict_name (RtsNonceVerdict v);
