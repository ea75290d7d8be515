/* proc_self: the resident memory it reads is this process's, in bytes:
 * it grows by about what the test touches and falls back once that is
 * returned to the system. */
#include "proc_self.h"

#include <string.h>
#include <sys/mman.h>

#define TOUCH (64u << 20)

static void
test_rss (void)
{
  guint64 before = rts_proc_self_rss_bytes (), touched, after;
  /* mmap, not malloc: munmap gives the pages back for sure. */
  char *mem = mmap (NULL, TOUCH, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  g_assert_true (mem != MAP_FAILED);
  /* Some resident memory, and less than this machine has (pages, not
   * bytes, would be 4,096 times too small). */
  g_assert_cmpuint (before, >, 1u << 20);
  memset (mem, 1, TOUCH);
  touched = rts_proc_self_rss_bytes ();
  g_test_message ("resident: %.1f MiB, %.1f MiB with 64 MiB touched",
      before / 1048576.0, touched / 1048576.0);
  g_assert_cmpuint (touched, >=, before + TOUCH - (4u << 20));
  g_assert_cmpuint (touched, <=, before + TOUCH + (16u << 20));
  munmap (mem, TOUCH);
  after = rts_proc_self_rss_bytes ();
  g_assert_cmpuint (after, <, touched - TOUCH / 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proc_self/rss", test_rss);
  return g_test_run ();
}
