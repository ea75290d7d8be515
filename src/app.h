/* app: the running server, wired together.
 *
 * Owns the lifetime of everything: cameras, their RTSP servers, health,
 * faults and the HTTP API, the main loop, signals and the bounded shutdown.
 * Data flows one way: config -> cameras -> servers -> health -> endpoints. */
#pragma once

#include "config.h"

/* Runs the server until SIGTERM/SIGINT. Returns the process exit status:
 * 0 after a clean shutdown, 1 when a port cannot be bound. */
int rts_app_run (const RtsConfig *cfg);
