/* proc_self: this process as the kernel counts it.
 *
 * Owns the reading of /proc/self for figures that more than one module
 * reports: the metrics endpoint (its resident memory gauge) and the stills
 * (what a heap trim gave back). A leaf: it includes nothing of ours, so
 * any module may ask it without reaching up the data flow. */
#pragma once

#include <glib.h>

/* Resident set size from /proc/self/statm; 0 if unknown. */
guint64 rts_proc_self_rss_bytes (void);
