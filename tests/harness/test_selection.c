/*
 * Runs only the test named by $THREADLINGS_TEST ("suite/test"), as
 * Criterion's --filter would: every other test is marked disabled before
 * the runner starts its first worker, and is reported as skipped.
 *
 * Why not --filter: Criterion 2.4 matches its pattern against each test's
 * name through a matcher that allocates at every character it compares, so
 * a test's full name in a suite of twenty tests costs about 290,000
 * allocations in the runner.  That is 15 ms in a plain build and 70 of the
 * 90 ms a one-test run takes under AddressSanitizer, whose allocator
 * records a stack for each.  Comparing two strings costs nothing.
 *
 * This hook runs in Criterion's runner process, before any test starts;
 * without the variable (a student running the binary by hand), every test
 * runs.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <stdlib.h>
#include <string.h>

static bool is_named(const char *wanted, const char *suite, const char *test)
{
    size_t suite_length = strlen(suite);
    return strncmp(wanted, suite, suite_length) == 0 &&
           wanted[suite_length] == '/' &&
           strcmp(wanted + suite_length + 1, test) == 0;
}

ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
    const char *wanted = getenv("THREADLINGS_TEST");
    if (wanted == NULL)
        return;
    FOREACH_SET(struct criterion_suite_set *suite, tests->suites) {
        if (suite->tests == NULL)
            continue;
        FOREACH_SET(struct criterion_test *test, suite->tests) {
            if (!is_named(wanted, suite->suite.name, test->name))
                test->data->disabled = true;
        }
    }
}
