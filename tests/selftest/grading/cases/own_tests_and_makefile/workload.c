/* Grader self-test: a workload that only prints the end line. */
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("threadlings: workload finished %s\n", getenv("THREADLINGS_TOKEN")); return 0; }
