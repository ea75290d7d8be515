/* proc_self: see proc_self.h. */
#include "proc_self.h"

#include <stdio.h>
#include <unistd.h>

guint64
rts_proc_self_rss_bytes (void)
{
  unsigned long size = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (!f)
    return 0;
  if (fscanf (f, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  fclose (f);
  return (guint64) resident * (guint64) sysconf (_SC_PAGESIZE);
}
