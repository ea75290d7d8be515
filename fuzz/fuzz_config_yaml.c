/* fuzz_config_yaml: the configuration file's reader (src/config_yaml.c)
 * and what config.c makes of its entries, on arbitrary bytes. */
#include "config.h"
#include "config_yaml.h"

#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint n = 0;
  gboolean has = FALSE;
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) entries =
      rts_yaml_read ("fuzz.yaml", (const char *) data, size, &n, &has, &err);

  /* One or the other, never both, never neither. */
  if (!entries == !err)
    abort ();
  if (entries && n > RTS_MAX_CAMERAS)
    abort ();

  /* The whole loader, from a file: messages name it, nothing crashes. */
  static char *path;
  if (!path) {
    int fd = g_file_open_tmp ("fuzz-config-XXXXXX.yaml", &path, NULL);
    close (fd);
  }
  if (g_file_set_contents (path, (const char *) data, size, NULL)) {
    g_autofree char *flag = g_strconcat ("--config=", path, NULL);
    char *argv[] = { (char *) "rtsp-test-server", flag, NULL };
    char *envp[] = { NULL };
    RtsConfig cfg;
    g_autoptr (GError) e = NULL;
    if (rts_config_load (&cfg, argv, envp, &e) == (e != NULL))
      abort ();
    rts_config_clear (&cfg);
  }
  return 0;
}
