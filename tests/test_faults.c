/* Unit tests of faults: what a control request may say. */
#include "faults.h"

#include <string.h>

static void
test_parse_ok (void)
{
  RtsFault f;
  g_autoptr (GError) err = NULL;
  const char *hang = "{\"type\":\"hang-port\"}";
  const char *close = " {\"seconds\": 2.5, \"type\": \"close-port\"} ";

  g_assert_true (rts_fault_parse (hang, strlen (hang), &f, &err));
  g_assert_cmpint (f.type, ==, RTS_FAULT_HANG_PORT);
  g_assert_cmpfloat (f.seconds, ==, 0);
  g_assert_true (rts_fault_parse (close, strlen (close), &f, &err));
  g_assert_cmpint (f.type, ==, RTS_FAULT_CLOSE_PORT);
  g_assert_cmpfloat (f.seconds, ==, 2.5);
  g_assert_cmpstr (rts_fault_type_name (RTS_FAULT_CLOSE_PORT), ==,
      "close-port");
  g_assert_cmpstr (rts_fault_type_name (RTS_FAULT_HANG_PORT), ==, "hang-port");
  {
    const char *stall = "{\"type\":\"stall\",\"seconds\":30}";
    g_assert_true (rts_fault_parse (stall, strlen (stall), &f, &err));
    g_assert_cmpint (f.type, ==, RTS_FAULT_STALL);
    g_assert_cmpfloat (f.seconds, ==, 30);
  }
  {
    const char *reject = "{\"type\":\"reject\"}";
    const char *unauth = "{\"type\":\"reject\",\"status\":401}";
    g_assert_true (rts_fault_parse (reject, strlen (reject), &f, &err));
    g_assert_cmpint (f.type, ==, RTS_FAULT_REJECT);
    g_assert_cmpuint (f.status, ==, 503);
    g_assert_true (rts_fault_parse (unauth, strlen (unauth), &f, &err));
    g_assert_cmpuint (f.status, ==, 401);
    g_assert_cmpstr (rts_fault_type_name (RTS_FAULT_REJECT), ==, "reject");
  }
  {
    const char *slow = "{\"type\":\"slow\"}";
    const char *slow300 = "{\"type\":\"slow\",\"ms\":300,\"seconds\":5}";
    g_assert_true (rts_fault_parse (slow, strlen (slow), &f, &err));
    g_assert_cmpint (f.type, ==, RTS_FAULT_SLOW);
    g_assert_cmpuint (f.ms, ==, RTS_FAULT_SLOW_DEFAULT_MS);
    g_assert_true (rts_fault_parse (slow300, strlen (slow300), &f, &err));
    g_assert_cmpuint (f.ms, ==, 300);
    g_assert_cmpfloat (f.seconds, ==, 5);
    g_assert_cmpstr (rts_fault_type_name (RTS_FAULT_SLOW), ==, "slow");
    /* Only slow holds answers. */
    g_assert_true (rts_fault_parse (close, strlen (close), &f, &err));
    g_assert_cmpuint (f.ms, ==, 0);
  }
}

static void
test_parse_bad (void)
{
  struct {
    const char *body;
    const char *mention;
  } cases[] = {
    { "", "JSON object" },
    { "nope", "not JSON" },
    { "[]", "JSON object" },
    { "\"hang-port\"", "JSON object" },
    { "{}", "\"type\"" },
    { "{\"type\":3}", "\"type\"" },
    { "{\"type\":\"melt\"}", "melt" },
    { "{\"type\":\"hang-port\",\"seconds\":0}", "seconds" },
    { "{\"type\":\"hang-port\",\"seconds\":-1}", "seconds" },
    { "{\"type\":\"hang-port\",\"seconds\":\"5\"}", "seconds" },
    { "{\"type\":\"hang-port\",\"seconds\":1e9}", "seconds" },
    { "{\"type\":\"hang-port\",\"secs\":5}", "secs" },
    { "{\"type\":\"hang-port\",\"seconds\":null}", "seconds" },
    { "{\"type\":\"reject\",\"status\":404}", "503 or 401" },
    { "{\"type\":\"reject\",\"status\":\"401\"}", "503 or 401" },
    { "{\"type\":\"reject\",\"status\":401.5}", "503 or 401" },
    { "{\"type\":\"stall\",\"status\":503}", "goes with reject" },
    { "{\"type\":\"slow\",\"ms\":0}", "from 1 to 10000" },
    { "{\"type\":\"slow\",\"ms\":10001}", "from 1 to 10000" },
    { "{\"type\":\"slow\",\"ms\":-5}", "from 1 to 10000" },
    { "{\"type\":\"slow\",\"ms\":2.5}", "whole number" },
    { "{\"type\":\"slow\",\"ms\":\"300\"}", "whole number" },
    { "{\"type\":\"stall\",\"ms\":300}", "goes with slow" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsFault f;
    g_autoptr (GError) err = NULL;
    g_assert_false (
        rts_fault_parse (cases[i].body, strlen (cases[i].body), &f, &err));
    g_assert_error (err, RTS_FAULT_ERROR, RTS_FAULT_ERROR_BAD_REQUEST);
    if (!strstr (err->message, cases[i].mention))
      g_error ("%s: '%s' does not mention '%s'", cases[i].body, err->message,
          cases[i].mention);
  }
}

/* From the first moment of shutdown no fault is injected or cleared (one
 * would reopen a port the shutdown closed, or hold answers of a server
 * about to be freed): the control API then answers 503. Checked before
 * the camera is looked up, so no server is needed here. */
static void
test_stopping (void)
{
  g_autoptr (GPtrArray) servers = g_ptr_array_new ();
  RtsHealth *health = rts_health_new (servers, "127.0.0.1", 1, 1, 1, 2);
  RtsFaults *faults = rts_faults_new (servers, health);
  RtsFault slow = { RTS_FAULT_SLOW, 0, FALSE, 0, 300 };
  g_autoptr (GError) err = NULL;

  g_assert_false (rts_faults_inject (faults, "cam1", &slow, NULL, &err));
  g_assert_error (err, RTS_FAULT_ERROR, RTS_FAULT_ERROR_NO_CAMERA);
  g_clear_error (&err);
  rts_health_set_stopping (health);
  g_assert_false (rts_faults_inject (faults, "cam1", &slow, NULL, &err));
  g_assert_error (err, RTS_FAULT_ERROR, RTS_FAULT_ERROR_STOPPING);
  g_assert_nonnull (strstr (err->message, "shutting down"));
  g_clear_error (&err);
  g_assert_false (rts_faults_clear (faults, "cam1", &err));
  g_assert_error (err, RTS_FAULT_ERROR, RTS_FAULT_ERROR_STOPPING);
  rts_faults_free (faults);
  rts_health_free (health);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/faults/parse-ok", test_parse_ok);
  g_test_add_func ("/faults/parse-bad", test_parse_bad);
  g_test_add_func ("/faults/stopping", test_stopping);
  return g_test_run ();
}
