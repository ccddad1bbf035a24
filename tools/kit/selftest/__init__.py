"""The grader's own test: `tools/grade selftest` (`make grade-selftest`)
grades the deliberately bad submissions of tests/selftest/grading/."""
