/* procstat: see procstat.h. */
#include "procstat.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

static guint
count_entries (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  if (!dir)
    return 0;
  while (g_dir_read_name (dir))
    n++;
  return n;
}

gboolean
ts_proc_stat (GPid pid, TsProcStat *out)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  g_autofree char *fd = g_strdup_printf ("/proc/%d/fd", pid);
  g_autofree char *task = g_strdup_printf ("/proc/%d/task", pid);
  const char *rss;

  memset (out, 0, sizeof *out);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  rss = strstr (text, "\nVmRSS:");
  if (rss)
    out->rss_kib = g_ascii_strtoull (rss + strlen ("\nVmRSS:"), NULL, 10);
  out->fds = count_entries (fd);
  out->threads = count_entries (task);
  return out->threads > 0;
}

gboolean
ts_proc_has_asan (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/maps", pid);
  g_autofree char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL)
      && strstr (text, "libasan") != NULL;
}

gboolean
ts_proc_settle (GPid pid, const TsProcStat *base, guint fd_slack,
    guint thread_slack, double timeout, TsProcStat *out)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout * 1e6);
  TsProcStat now;

  out->fds = G_MAXUINT;
  out->threads = G_MAXUINT;
  do {
    if (!ts_proc_stat (pid, &now))
      return FALSE;
    out->fds = MIN (out->fds, now.fds);
    out->threads = MIN (out->threads, now.threads);
    out->rss_kib = now.rss_kib;
    if (out->fds <= base->fds + fd_slack
        && out->threads <= base->threads + thread_slack)
      return TRUE;
    g_usleep (100 * 1000);
  } while (g_get_monotonic_time () < end);
  return FALSE;
}

GPid
ts_pid_of (GSubprocess *proc)
{
  const char *id = g_subprocess_get_identifier (proc);
  return id ? (GPid) atoi (id) : 0;
}
