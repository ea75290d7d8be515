/* procstat: what a process holds, from /proc, for tests that must show
 * nothing grows: resident memory, open file descriptors, threads. */
#pragma once

#include <gio/gio.h>

typedef struct {
  guint64 rss_kib;
  guint fds;
  guint threads;
} TsProcStat;

/* FALSE when PID is gone. */
gboolean ts_proc_stat (GPid pid, TsProcStat *out);

/* Whether PID runs under AddressSanitizer: its quarantine keeps freed
 * memory resident by design, so RSS says nothing about leaks there. */
gboolean ts_proc_has_asan (GPid pid);

/* Polls PID until its fds and threads are at most BASE's plus FD_SLACK and
 * THREAD_SLACK, up to TIMEOUT seconds; OUT gets the smallest counts seen
 * (RSS: the last). TRUE when they got there. */
gboolean ts_proc_settle (GPid pid, const TsProcStat *base, guint fd_slack,
    guint thread_slack, double timeout, TsProcStat *out);

GPid ts_pid_of (GSubprocess *proc);
