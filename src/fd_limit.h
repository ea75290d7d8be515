/* fd_limit: the process's open files.
 *
 * Owns the open-files limit and the budget kept under it. At start the soft
 * limit is raised to the hard one (a container's default soft limit, often
 * 1,024, is about sixty cameras), and cameras that would not fit even so
 * are refused before any starts: out of descriptors, GStreamer cannot make
 * a pipeline and only says so in criticals, by the thousand. Then every
 * accept loop asks before it takes a connection: the last RESERVE
 * descriptors stay for the cameras, the health probes and the readers
 * already playing, so a flood of connections is shed (accepted and closed
 * at once) instead of taking them; and when no descriptor is left at all,
 * accepting pauses, where GLib and gst-rtsp-server would retry the
 * connection they cannot accept in a busy loop. */
#pragma once

#include <gio/gio.h>

/* Raises the soft limit to the hard one and sets the reserve for PORTS
 * listening ports; returns the limit, and in BEFORE the soft limit found. */
guint64 rts_fd_limit_init (guint ports, guint64 *before);

/* The limit now (rts_fd_limit_init's, or the process's if not called). */
guint64 rts_fd_limit (void);

/* Descriptors kept from connections (after rts_fd_limit_init). */
guint64 rts_fd_limit_reserve (void);

/* Descriptors a camera with STREAMS streams (video, audio) takes, about. */
guint rts_fd_limit_camera_cost (guint streams);

/* Descriptors open now (/proc/self/fd); 0 if unknown. */
guint64 rts_fd_limit_open (void);

typedef enum {
  RTS_FD_TAKE,  /* accept it */
  RTS_FD_SHED,  /* into the reserve: accept it and close it at once */
  RTS_FD_PAUSE, /* none left: stop accepting for RTS_FD_PAUSE_MS */
} RtsFdVerdict;

#define RTS_FD_PAUSE_MS 100

/* What an accept loop does with the connection waiting on LISTEN_FD. Tells
 * by the lowest free descriptor, the one the connection would get: the
 * kernel hands out the lowest first, so one inside the reserve means
 * every one below it is taken. */
RtsFdVerdict rts_fd_limit_verdict (int listen_fd);

/* The same for the HTTP API's listener, which stops earlier: half the
 * reserve again is left for RTSP readers and probes, so that idle HTTP
 * connections cannot make the ports shed their own health probes. */
RtsFdVerdict rts_fd_limit_verdict_http (int listen_fd);

/* And for an HTTP connection let in beyond that (RtsAcceptRoom): it may
 * use three quarters of the reserve, so that /health can still say why
 * the ports do not answer while a flood holds them. */
RtsFdVerdict rts_fd_limit_verdict_http_deep (int listen_fd);

/* Counts a connection shed or a pause, and logs it (at most once a
 * second), naming WHAT listens ("RTSP port 8554", "HTTP port 8080"). */
void rts_fd_limit_note (RtsFdVerdict verdict, const char *what);

/* One listener's accept loop, on the default main context, as above. */
typedef struct RtsAcceptor RtsAcceptor;

/* Takes the connection waiting on LISTENER; FALSE when no descriptor was
 * left for it (too many open files): accepting then pauses. */
typedef gboolean (*RtsAcceptTake) (GSocket *listener, gpointer data);

/* HTTP: asked when a connection would not fit (rts_fd_limit_verdict_http)
 * whether it may come in anyway, as far as rts_fd_limit_verdict_http_deep
 * allows: TRUE when the owner holds only a few connections, or has just
 * let its oldest idle one go to make room. */
typedef gboolean (*RtsAcceptRoom) (gpointer data);

/* Accepts on LISTENER (non-blocking) until freed: TAKE takes a connection
 * while it fits; one that does not is accepted, sent SHED_ANSWER (static,
 * may be NULL) and closed; with no descriptor left, accepting pauses for
 * RTS_FD_PAUSE_MS. With ROOM (the HTTP API's), it fits by HTTP's rules
 * (rts_fd_limit_verdict_http, then ROOM). WHAT names the listener in the
 * log. */
RtsAcceptor *
rts_acceptor_new (GSocket *listener, RtsAcceptRoom room, const char *what,
    const char *shed_answer, RtsAcceptTake take, gpointer data);
void rts_acceptor_free (RtsAcceptor *a);

/* Whether a connection was shed or accepting paused in the last 2 s. */
gboolean rts_fd_limit_shedding (void);

/* Connections shed and pauses since start. */
guint64 rts_fd_limit_shed (void);
guint64 rts_fd_limit_pauses (void);
