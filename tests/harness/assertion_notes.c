/*
 * Failed assertions, also kept as notes.  Criterion reports a test that
 * crashed as "The test crashed." alone, even when an assertion had failed
 * first: a thread the failed test left running can still touch the test's
 * stack after Criterion unwound it, and crash the process while it reports.
 * This hook runs in Criterion's runner (not in the test's process, which
 * the code under test shares) each time an assertion is reported, so the
 * runner can still show the assertion that failed.
 */
#include "harness.h"

#include <criterion/hooks.h>
#include <criterion/stats.h>

ReportHook(ASSERT)(struct criterion_assert_stats *assertion)
{
    if (!assertion->passed)
        harness_note("assertion-failed: %s:%u: %s", assertion->file,
                     assertion->line, assertion->message);
}
