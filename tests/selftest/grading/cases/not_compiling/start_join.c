/* Does not compile: a missing semicolon and an undeclared name. */
#include "start_join.h"

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    return undeclared_name(count, task, argument)
}
