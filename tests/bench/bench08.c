/*
 * Exercise 08's queue against what a C programmer could use instead: a
 * pipe (the kernel's queue: one write and one read system call per item),
 * GLib's GAsyncQueue (unbounded, one mutex), a concurrencykit ring
 * (lock-free, and it never blocks: a thread on an empty or full ring
 * retries, yielding the core), and two fast variants: tests/bench/
 * fast_queue.c (lock-free slots, sleeps only when it must) and
 * batch_queue.c (the reference's design, but many items per lock: a
 * producer puts 64, a consumer takes all there is).  Producers send ITEMS
 * small items in all; each consumer stops at a stop item (the batch queue:
 * at its close).  Reported: wall nanoseconds per item, the best of 3 runs
 * with the contenders interleaved.
 */
#include "bench.h"
#include "batch_queue.h"
#include "fast_queue.h"
#include "queue.h"

#include <ck_ring.h>
#include <glib.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define ITEMS 1000000
#define REPEATS 3 /* per round; the best counts */
#define CAPACITY 1024
#ifndef BATCH
#define BATCH 64
#endif
#define STOP ((void *)~(uintptr_t)0)

struct channel {
    const char *name;
    void (*put)(struct channel *, void *);
    void *(*get)(struct channel *);
    int mpmc; /* may be used by several producers and consumers */
    int batched; /* moves BATCH items per call: batch_queue */
    struct batch_queue batch;
    struct queue queue;
    struct fast_queue fast;
    int pipe_ends[2];
    GAsyncQueue *async;
    ck_ring_t ring;
    ck_ring_buffer_t *ring_buffer;
};

static void queue_put_item(struct channel *c, void *item)
{
    if (queue_put(&c->queue, item) != 0)
        bench_fail("queue_put failed on an open queue");
}

static void *queue_get_item(struct channel *c)
{
    void *item = NULL;
    if (queue_get(&c->queue, &item) != 0)
        bench_fail("queue_get failed on an open queue");
    return item;
}

static void fast_put(struct channel *c, void *item)
{
    fast_queue_put(&c->fast, item);
}

static void *fast_get(struct channel *c)
{
    return fast_queue_get(&c->fast);
}

static void pipe_put(struct channel *c, void *item)
{
    /* Writes of at most PIPE_BUF bytes are atomic: items never mix. */
    if (write(c->pipe_ends[1], &item, sizeof item) != sizeof item)
        bench_fail("write to the pipe failed");
}

static void *pipe_get(struct channel *c)
{
    void *item;
    if (read(c->pipe_ends[0], &item, sizeof item) != sizeof item)
        bench_fail("read from the pipe failed");
    return item;
}

static void async_put(struct channel *c, void *item)
{
    g_async_queue_push(c->async, item);
}

static void *async_get(struct channel *c)
{
    return g_async_queue_pop(c->async);
}

static void spsc_put(struct channel *c, void *item)
{
    while (!ck_ring_enqueue_spsc(&c->ring, c->ring_buffer, item))
        sched_yield();
}

static void *spsc_get(struct channel *c)
{
    void *item;
    while (!ck_ring_dequeue_spsc(&c->ring, c->ring_buffer, &item))
        sched_yield();
    return item;
}

static void mpmc_put(struct channel *c, void *item)
{
    while (!ck_ring_enqueue_mpmc(&c->ring, c->ring_buffer, item))
        sched_yield();
}

static void *mpmc_get(struct channel *c)
{
    void *item;
    while (!ck_ring_dequeue_mpmc(&c->ring, c->ring_buffer, &item))
        sched_yield();
    return item;
}

static void open_channel(struct channel *c)
{
    if (c->put == queue_put_item && queue_init(&c->queue, CAPACITY) != 0)
        bench_fail("queue_init failed");
    if (c->put == fast_put && fast_queue_init(&c->fast, CAPACITY) != 0)
        bench_fail("fast_queue_init failed");
    if (c->put == pipe_put && pipe(c->pipe_ends) != 0)
        bench_fail("pipe failed");
    if (c->put == async_put)
        c->async = g_async_queue_new();
    if (c->batched && batch_queue_init(&c->batch, CAPACITY) != 0)
        bench_fail("batch_queue_init failed");
    if (c->put == spsc_put || c->put == mpmc_put) {
        c->ring_buffer = calloc(CAPACITY, sizeof *c->ring_buffer);
        ck_ring_init(&c->ring, CAPACITY);
    }
}

static void close_channel(struct channel *c)
{
    if (c->put == queue_put_item)
        queue_destroy(&c->queue);
    if (c->put == fast_put)
        fast_queue_destroy(&c->fast);
    if (c->put == pipe_put) {
        close(c->pipe_ends[0]);
        close(c->pipe_ends[1]);
    }
    if (c->put == async_put)
        g_async_queue_unref(c->async);
    if (c->batched)
        batch_queue_destroy(&c->batch);
    if (c->put == spsc_put || c->put == mpmc_put)
        free(c->ring_buffer);
}

struct worker {
    struct channel *channel;
    size_t first, count; /* producer: items first+1 .. first+count */
    uint64_t sum;        /* consumer: sum of the items it got */
    pthread_t thread;
};

/* The batched channel: producers gather BATCH items per put, consumers
 * take all there is per get, and the end is a close, not stop items. */
static void produce_batches(struct worker *w)
{
    void *items[BATCH];
    size_t gathered = 0;
    for (size_t i = 1; i <= w->count; i++) {
        items[gathered++] = (void *)(uintptr_t)(w->first + i);
        if (gathered == BATCH || i == w->count) {
            batch_queue_put_many(&w->channel->batch, items, gathered);
            gathered = 0;
        }
    }
}

/* A consumer takes all it finds (up to the capacity): the fuller its
 * take, the fewer lock round trips per item. */
#define TAKE CAPACITY
static void consume_batches(struct worker *w)
{
    void *items[TAKE];
    size_t got;
    while ((got = batch_queue_get_many(&w->channel->batch, items, TAKE)) > 0)
        for (size_t i = 0; i < got; i++)
            w->sum += (uintptr_t)items[i];
}

static void *produce(void *raw)
{
    struct worker *w = raw;
    if (w->channel->batched) {
        produce_batches(w);
        return NULL;
    }
    for (size_t i = 1; i <= w->count; i++)
        w->channel->put(w->channel, (void *)(uintptr_t)(w->first + i));
    return NULL;
}

static void *consume(void *raw)
{
    struct worker *w = raw;
    if (w->channel->batched) {
        consume_batches(w);
        return NULL;
    }
    for (;;) {
        void *item = w->channel->get(w->channel);
        if (item == STOP)
            return NULL;
        w->sum += (uintptr_t)item;
    }
}

/* Nanoseconds per item, from the first put to the last get. */
static double measure(struct channel *c, int producers, int consumers,
                      size_t items)
{
    struct worker p[8], k[8];
    open_channel(c);
    double started = bench_now();
    for (int i = 0; i < consumers; i++) {
        k[i] = (struct worker){.channel = c};
        pthread_create(&k[i].thread, NULL, consume, &k[i]);
    }
    for (int i = 0; i < producers; i++) {
        p[i] = (struct worker){c, items / (size_t)producers * (size_t)i,
                               items / (size_t)producers, 0, 0};
        pthread_create(&p[i].thread, NULL, produce, &p[i]);
    }
    for (int i = 0; i < producers; i++)
        pthread_join(p[i].thread, NULL);
    if (c->batched)
        batch_queue_close(&c->batch);
    else
        for (int i = 0; i < consumers; i++)
            c->put(c, STOP);
    uint64_t sum = 0;
    for (int i = 0; i < consumers; i++) {
        pthread_join(k[i].thread, NULL);
        sum += k[i].sum;
    }
    double seconds = bench_now() - started;
    close_channel(c);
    uint64_t sent = items / (uint64_t)producers * (uint64_t)producers;
    if (sum != sent * (sent + 1) / 2) {
        fprintf(stderr, "%s: the consumers got items that sum to %llu, "
                "expected %llu (lost or doubled items)\n", c->name,
                (unsigned long long)sum,
                (unsigned long long)(sent * (sent + 1) / 2));
        exit(1);
    }
    return seconds * 1e9 / (double)sent;
}

int main(int argc, char **argv)
{
    int round = bench_round(argc, argv);
    size_t items = (size_t)(ITEMS * (bench_scale() < 1 ? bench_scale() : 1));
    struct channel channels[] = {
        {.name = "queue (08)", .put = queue_put_item, .get = queue_get_item,
         .mpmc = 1},
        {.name = "fast queue", .put = fast_put, .get = fast_get, .mpmc = 1},
        {.name = "batch queue (put 64, get all)", .batched = 1, .mpmc = 1},
        {.name = "pipe", .put = pipe_put, .get = pipe_get, .mpmc = 1},
        {.name = "GAsyncQueue", .put = async_put, .get = async_get, .mpmc = 1},
        {.name = "ck_ring SPSC", .put = spsc_put, .get = spsc_get},
        {.name = "ck_ring MPMC", .put = mpmc_put, .get = mpmc_get, .mpmc = 1},
    };
    size_t count = sizeof channels / sizeof channels[0];
    bench_table("queue_1p1c", "ns per item",
                "08: 1,000,000 items, 1 producer and 1 consumer "
                "(capacity 1024)");
    bench_table("queue_mpmc", "ns per item",
                "08: 1,000,000 items, several producers and consumers");
    static const struct {
        int producers, consumers;
        const char *x;
    } shapes[] = {
        {1, 1, "1P1C"}, {2, 2, "2P2C"}};
    for (size_t s = 0; s < 2; s++) {
        /* Best of REPEATS, contenders interleaved: on a shared machine a
         * run is only ever slowed down by others, never sped up. */
        double best[sizeof channels / sizeof channels[0]];
        for (int repeat = 0; repeat < REPEATS; repeat++)
            for (size_t k = 0; k < count; k++) {
                size_t which = (k + (size_t)round) % count;
                struct channel *c = &channels[which];
                if (shapes[s].producers > 1 && !c->mpmc)
                    continue;
                double ns = measure(c, shapes[s].producers,
                                    shapes[s].consumers, items);
                if (repeat == 0 || ns < best[which])
                    best[which] = ns;
            }
        for (size_t k = 0; k < count; k++)
            if (shapes[s].producers == 1 || channels[k].mpmc)
                bench_value(s == 0 ? "queue_1p1c" : "queue_mpmc",
                            channels[k].name, shapes[s].x, best[k]);
    }
    return 0;
}
