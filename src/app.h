/* app: the running server, wired together.
 *
 * Owns the lifetime of everything: cameras, their RTSP servers, health,
 * faults and the HTTP API, the main loop, signals and the bounded shutdown.
 * Data flows one way: config -> cameras -> servers -> health -> endpoints. */
#pragma once

#include "config.h"

/* Blocks SIGTERM and SIGINT in the calling thread and so in every thread
 * it starts: call first thing in main(), before any thread exists, so the
 * server's signal thread is the one that takes them (rts_app_run). Other
 * paths that want the default action call rts_app_unblock_signals(). */
void rts_app_block_signals (void);
void rts_app_unblock_signals (void);

/* Runs the server until SIGTERM/SIGINT. Returns the process exit status:
 * 0 after a clean shutdown, 1 when a port cannot be bound. */
int rts_app_run (const RtsConfig *cfg);

/* --prepare-cache: makes every loop camera's clip into the clip cache (an
 * image's build runs it, so that its containers start from the cache) and
 * returns the exit status: 0 when every clip is stored, 1 when one could
 * not be made or stored, 2 when the cache is off. */
int rts_app_prepare_cache (const RtsConfig *cfg);

/* --check-config: what rts_config_summary() says, after each file
 * camera's file was read as the start reads it (its codec, size and rate
 * said): the exit status, 0, or 2 when a file would fail the start (the
 * camera and the file named on stderr). */
int rts_app_check_config (const RtsConfig *cfg);
