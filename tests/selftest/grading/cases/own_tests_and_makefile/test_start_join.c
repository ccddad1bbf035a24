/* Grader self-test: a test file that only ever passes. */
#include <criterion/criterion.h>

Test(start_join, always_passes) { cr_assert(1); }
