/* faults: failures injected on purpose, per camera, through the control API.
 *
 * Owns which fault each camera has, its expiry timer, and the parsing of a
 * fault request: "close-port" (the port refuses connections), "hang-port"
 * (the port accepts and never answers, like a hung server), "stall" (video
 * stops, sockets stay open), "refuse-udp" (461 to UDP SETUP), "reject"
 * (every request answered 503 or 401), "slow" (every answer held some
 * milliseconds), and "disconnect" (every reader dropped now, by TCP reset
 * or by close; an action, not a state). Health sees them as it would see
 * real failures: through its probes, never by being told. */
#pragma once

#include "health.h"

typedef enum {
  RTS_FAULT_NONE,
  RTS_FAULT_CLOSE_PORT,
  RTS_FAULT_HANG_PORT,
  RTS_FAULT_STALL,
  RTS_FAULT_REFUSE_UDP,
  RTS_FAULT_DISCONNECT,
  RTS_FAULT_REJECT,
  RTS_FAULT_SLOW,
} RtsFaultType;

/* slow: the delay when the request names none, and the most it may. */
#define RTS_FAULT_SLOW_DEFAULT_MS 1000
#define RTS_FAULT_SLOW_MAX_MS 10000

typedef struct {
  RtsFaultType type;
  double seconds; /* 0: until cleared */
  gboolean rst;   /* disconnect: TCP reset (default) rather than close */
  guint status;   /* reject: 503 (default) or 401 */
  guint ms;       /* slow: each answer's delay */
} RtsFault;

#define RTS_FAULT_ERROR (rts_fault_error_quark ())
GQuark rts_fault_error_quark (void);

typedef enum {
  RTS_FAULT_ERROR_BAD_REQUEST,
  RTS_FAULT_ERROR_NO_CAMERA,
  RTS_FAULT_ERROR_FAILED,
  RTS_FAULT_ERROR_STOPPING, /* shutting down: nothing changes any more */
} RtsFaultError;

/* Pure: a JSON body such as {"type":"hang-port","seconds":30},
 * {"type":"reject","status":401} or {"type":"slow","ms":300}. */
gboolean
rts_fault_parse (const char *body, gsize len, RtsFault *fault, GError **error);
const char *rts_fault_type_name (RtsFaultType type);

typedef struct RtsFaults RtsFaults;

/* SERVERS holds RtsRtspServer*; HEALTH is asked to probe after a change so
 * that /health follows within one probe, not one interval. */
RtsFaults *rts_faults_new (GPtrArray *servers, RtsHealth *health);
void rts_faults_free (RtsFaults *f);

/* DROPPED (may be NULL) gets how many readers a disconnect dropped. */
gboolean rts_faults_inject (RtsFaults *f, const char *camera,
    const RtsFault *fault, guint *dropped, GError **error);
gboolean rts_faults_clear (RtsFaults *f, const char *camera, GError **error);

/* The fault camera INDEX has now, RTS_FAULT_NONE if none. */
RtsFaultType rts_faults_active (const RtsFaults *f, guint index);

/* The same for the camera named CAMERA; RTS_FAULT_NONE if none or no such
 * camera. */
RtsFaultType rts_faults_active_named (const RtsFaults *f, const char *camera);
