/*
 * Workload for exercise 08, for ThreadSanitizer and helgrind: three
 * producers and three consumers share a small queue, round after round.
 * Every item must arrive exactly once, each producer's items in order, and
 * the size the consumers sample must never exceed the capacity.  Any field
 * touched outside the mutex is a data race the checkers report.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   queue_put    x put, get    each round (3 producers, 3 consumers);
 *                              many_producers_and_consumers_lose_nothing;
 *                              put_waits_for_room_while_full; room_made_by_
 *                              a_get_wakes_the_waiting_producer
 *                x close       close_wakes_every_waiting_producer (puts
 *                              asleep first, functional only); under the
 *                              checkers: the race phase (added: the rounds
 *                              close only after joining the producers)
 *   queue_get    x get, put    each round; many_producers_and_consumers_
 *                              lose_nothing; get_waits_for_an_item_while_
 *                              open; every_put_wakes_a_waiting_consumer and
 *                              room_made_by_a_get_wakes_the_waiting_producer
 *                              (two consumers, paused by the test)
 *                x close       end of each round (main closes while the
 *                              consumers get); close_wakes_every_waiting_
 *                              consumer (gets asleep first); many_producers_
 *                              and_consumers_lose_nothing
 *   queue_close  x put, get    as above
 *                x close       the race phase (added; also in turn)
 *   queue_size   x put, get    each round (consumers sample it);
 *                              many_producers_and_consumers_lose_nothing;
 *                              put_waits_for_room_while_full and close_
 *                              wakes_every_waiting_producer (a put waits)
 *   the same calls on another queue: nothing shared (each queue's state is
 *                              its own): no test
 *   init/destroy: before and after the threads only (their contract).
 * Error paths and edges:
 *   capacity 0: EINVAL                 rejects_zero_capacity
 *   malloc fails (or capacity * size overflows): ENOMEM, nothing left
 *                                      no test
 *   a pthread init fails: its error, nothing left      no test
 *   get on an empty, open queue waits (a spurious wake-up injected)
 *                                      get_waits_for_an_item_while_open
 *   put on a full queue waits, size never above the capacity
 *                                      put_waits_for_room_while_full;
 *                                      close_wakes_every_waiting_producer;
 *                                      each round (the sampled size)
 *   put on a closed queue: EPIPE, the item not added
 *                                      drains_items_left_after_close
 *   put closed while waiting: EPIPE    close_wakes_every_waiting_producer
 *   get after close: the items left, in order, then EPIPE with *item
 *   untouched                          drains_items_left_after_close
 *   close wakes every waiter, both sides
 *                                      close_wakes_every_waiting_consumer,
 *                                      close_wakes_every_waiting_producer
 *   closing a closed queue changes nothing
 *                                      no test (drains_items_left_after_
 *                                      close closes twice, then checks only
 *                                      the size)
 *   first in, first out around the ring
 *                                      keeps_items_in_order_around_the_ring
 *   every put wakes a waiting consumer (not only the first)
 *                                      every_put_wakes_a_waiting_consumer
 *   a get's wake-up reaches the waiting producer
 *                                      room_made_by_a_get_wakes_the_
 *                                      waiting_producer
 */
#include "interleavings.h"
#include "queue.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

enum { PRODUCERS = 3, CONSUMERS = 3, CAPACITY = 4 };

static struct queue queue;
static long items_per_producer;

struct consumer {
    long *received;               /* [PRODUCERS * items_per_producer] */
    long last[PRODUCERS];         /* last sequence seen per producer */
    long out_of_order, bad_items;
    size_t largest_size;
    int last_status;
};

static void *produce(void *raw)
{
    long producer = (long)(intptr_t)raw, failed = 0;
    for (long i = 0; i < items_per_producer; i++) {
        long code = producer * items_per_producer + i + 1;
        failed += queue_put(&queue, (void *)(intptr_t)code) != 0;
    }
    return (void *)(intptr_t)failed;
}

static void *consume(void *raw)
{
    struct consumer *consumer = raw;
    void *item;
    while ((consumer->last_status = queue_get(&queue, &item)) == 0) {
        long code = (long)(intptr_t)item - 1;
        if (code < 0 || code >= PRODUCERS * items_per_producer) {
            consumer->bad_items++;
            continue;
        }
        long producer = code / items_per_producer;
        long sequence = code % items_per_producer;
        consumer->out_of_order += sequence <= consumer->last[producer];
        consumer->last[producer] = sequence;
        consumer->received[code]++;
        size_t size = queue_size(&queue);
        if (size > consumer->largest_size)
            consumer->largest_size = size;
    }
    return NULL;
}

static void run_round(int round, struct consumer *consumers)
{
    int error = queue_init(&queue, CAPACITY);
    workload_check(error == 0, "queue_init failed with %d", error);
    pthread_t producers[PRODUCERS], consumer_threads[CONSUMERS];
    for (int c = 0; c < CONSUMERS; c++) {
        for (long i = 0; i < PRODUCERS * items_per_producer; i++)
            consumers[c].received[i] = 0;
        for (int p = 0; p < PRODUCERS; p++)
            consumers[c].last[p] = -1;
        consumers[c].out_of_order = consumers[c].bad_items = 0;
        consumers[c].largest_size = 0;
        pthread_create(&consumer_threads[c], NULL, consume, &consumers[c]);
    }
    for (long p = 0; p < PRODUCERS; p++)
        pthread_create(&producers[p], NULL, produce, (void *)(intptr_t)p);

    long failed_puts = 0;
    for (int p = 0; p < PRODUCERS; p++) {
        void *failed;
        pthread_join(producers[p], &failed);
        failed_puts += (long)(intptr_t)failed;
    }
    queue_close(&queue);
    for (int c = 0; c < CONSUMERS; c++)
        pthread_join(consumer_threads[c], NULL);
    queue_destroy(&queue);

    workload_check(failed_puts == 0, "round %d: %ld puts failed on an open "
                   "queue", round, failed_puts);
    for (int c = 0; c < CONSUMERS; c++) {
        workload_check(consumers[c].last_status == EPIPE, "round %d: a "
                       "consumer's last get returned %d, expected EPIPE",
                       round, consumers[c].last_status);
        workload_check(consumers[c].bad_items == 0, "round %d: consumers got "
                       "items nobody put", round);
        workload_check(consumers[c].out_of_order == 0, "round %d: a consumer "
                       "got a producer's items out of order", round);
        workload_check(consumers[c].largest_size <= CAPACITY, "round %d: "
                       "queue_size reached %zu with capacity %d", round,
                       consumers[c].largest_size, CAPACITY);
    }
    for (long i = 0; i < PRODUCERS * items_per_producer; i++) {
        long times = 0;
        for (int c = 0; c < CONSUMERS; c++)
            times += consumers[c].received[i];
        workload_check(times == 1, "round %d: item %ld was received %ld "
                       "times, expected exactly once", round, i, times);
    }
}

/* The race phase: put, get, size and two closes, each in a thread of its
 * own, overlapping (workload_race), on a small queue: the first close
 * comes while puts and gets are under way, so a put, get or close that
 * reads `closed` (or the count) without the mutex meets the close's write
 * under the checkers.  The rounds above close only after every producer
 * was joined. */
static struct queue race_queue;
static int race_item;

static void race_put(void *unused)
{
    (void)unused;
    int error = queue_put(&race_queue, &race_item);
    workload_check(error == 0 || error == EPIPE, "race phase: queue_put "
                   "returned %d, expected 0 or EPIPE", error);
}

static void race_get(void *unused)
{
    (void)unused;
    void *item;
    int error = queue_get(&race_queue, &item);
    workload_check(error == 0 || error == EPIPE, "race phase: queue_get "
                   "returned %d, expected 0 or EPIPE", error);
}

static void race_size(void *unused)
{
    (void)unused;
    workload_check(queue_size(&race_queue) <= 4, "race phase: the size of a "
                   "queue of capacity 4 went above 4");
}

static void race_close(void *unused)
{
    (void)unused;
    queue_close(&race_queue);
}

static void race_phase(void)
{
    int error = queue_init(&race_queue, 4);
    workload_check(error == 0, "queue_init failed with %d", error);
    race_function *const functions[] = {race_put, race_put, race_get,
                                        race_size, race_close, race_close};
    void *const arguments[] = {NULL, NULL, NULL, NULL, NULL, NULL};
    workload_race(functions, arguments, 6, workload_rounds(500, 50));
    queue_destroy(&race_queue);
}

/* The same calls in turn (workload_in_turn): each pair one after the other
 * on a fresh queue holding 2 items of 4, so no call waits (a get finds an
 * item, a put finds room); an access made without the mutex then races
 * with the other call's on every run, not only when the scheduler
 * overlaps them. */
static void fresh_race_queue(void)
{
    static bool made;
    if (made)
        queue_destroy(&race_queue);
    int error = queue_init(&race_queue, 4);
    workload_check(error == 0, "queue_init failed with %d", error);
    made = true;
    for (int i = 0; i < 2; i++)
        workload_check(queue_put(&race_queue, &race_item) == 0,
                       "queue_put on a queue of capacity 4 holding %d items "
                       "failed", i);
}

static void in_turn_phase(void)
{
    race_function *const functions[] = {race_put, race_get, race_size,
                                        race_close};
    void *const arguments[] = {NULL, NULL, NULL, NULL};
    workload_in_turn(functions, arguments, 4, fresh_race_queue);
    queue_destroy(&race_queue);
}

int main(void)
{
    items_per_producer = workload_rounds(3000, 300);
    const int rounds = workload_rounds(10, 3);
    struct consumer consumers[CONSUMERS];
    for (int c = 0; c < CONSUMERS; c++) {
        consumers[c].received = calloc((size_t)(PRODUCERS * items_per_producer),
                                       sizeof *consumers[c].received);
        workload_check(consumers[c].received != NULL, "out of memory");
    }
    for (int round = 0; round < rounds; round++)
        run_round(round, consumers);
    for (int c = 0; c < CONSUMERS; c++)
        free(consumers[c].received);
    race_phase();
    in_turn_phase();
    workload_finished();
    return 0;
}
