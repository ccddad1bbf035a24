/*
 * Workload for exercise 08, for ThreadSanitizer and helgrind: three
 * producers and three consumers share a small queue, round after round.
 * Every item must arrive exactly once, each producer's items in order, and
 * the size the consumers sample must never exceed the capacity.  Any field
 * touched outside the mutex is a data race the checkers report.
 */
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
    workload_finished();
    return 0;
}
