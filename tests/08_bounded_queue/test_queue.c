/* Tests for exercise 08: a bounded blocking queue with close. */
#include "harness.h"
#include "queue.h"
#include "freeze.h"
#include "sleepers.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The queue, and every call a test runs in another thread, are static: a
 * thread that a failed test leaves blocked must still find valid memory
 * (not the dead stack frame of the test) while the test process ends. */
static struct queue queue;

static void init_queue(size_t capacity)
{
    int error = queue_init(&queue, capacity);
    cr_assert_eq(error, 0, "queue_init(%zu) returned %d, expected 0",
                 capacity, error);
}

/* "0", "EPIPE", "EAGAIN" or the number: for messages. */
static const char *status_name(int status)
{
    static char other[32];
    switch (status) {
    case 0: return "0";
    case EPIPE: return "EPIPE";
    case EAGAIN: return "EAGAIN";
    default:
        snprintf(other, sizeof other, "error %d", status);
        return other;
    }
}

/* Why a get that returned on an empty, open queue is wrong. */
#define GET_MUST_WAIT "a consumer must wait for an item, not give up when " \
    "the queue is momentarily empty; and wait in a loop, since a wait can " \
    "end without a signal (a spurious wake-up)"
#define PUT_MUST_WAIT "a producer must wait until a get makes room; and " \
    "wait in a loop, since a wait can end without a signal (a spurious " \
    "wake-up)"

/* Items are small numbers dressed as pointers. */
static void *item(long number) { return (void *)(intptr_t)number; }
static long number(void *item) { return (long)(intptr_t)item; }

/* queue_get and queue_put, each in its own thread. */
struct call {
    struct async_call async;
    void *item;
    int status;
};

static void *run_get(void *raw)
{
    struct call *call = raw;
    call->status = queue_get(&queue, &call->item);
    return NULL;
}

static void *run_put(void *raw)
{
    struct call *call = raw;
    call->status = queue_put(&queue, call->item);
    return NULL;
}

static void start_get(struct call *call)
{
    call->item = NULL;
    call->status = -1;
    async_start(&call->async, run_get, call);
}

static void start_put(struct call *call, void *item)
{
    call->item = item;
    call->status = -1;
    async_start(&call->async, run_put, call);
}

/* How many of the calls have returned within `seconds` (in all). */
static int wait_for_calls(struct call *calls, int count, double seconds)
{
    double give_up = now_seconds() + seconds;
    int returned = 0;
    for (int i = 0; i < count; i++) {
        double left = give_up - now_seconds();
        returned += async_wait(&calls[i].async, left > 0 ? left : 0);
    }
    return returned;
}

static int count_returned(struct call *calls, int count)
{
    int returned = 0;
    for (int i = 0; i < count; i++)
        returned += async_is_done(&calls[i].async);
    return returned;
}

/* Waits (at most 3 s) until the threads of `count` calls sleep in
 * pthread_cond_wait on one of the queue's condition variables (which one
 * is the solution's business), and returns how many threads do
 * (sleepers.h; -1 where /proc cannot tell); stops early once one of the
 * calls has returned (a failure of its own). */
static int wait_for_sleepers(struct call *calls, int count)
{
    size_t both = (size_t)((char *)(&queue.not_full + 1) -
                           (char *)&queue.not_empty);
    return wait_until_asleep_on(&queue.not_empty, both, count, 3.0,
                                any_async_call_returned,
                                ASYNC_CALLS(calls, count));
}

static void expect_get(long expected, const char *when)
{
    void *got = NULL;
    int status = queue_get(&queue, &got);
    cr_assert_eq(status, 0, "queue_get returned %s %s, expected 0 and item "
                 "%ld", status_name(status), when, expected);
    cr_assert_eq(number(got), expected, "queue_get gave item %ld %s, "
                 "expected %ld: items leave in the order they were put "
                 "(first in, first out)", number(got), when, expected);
}

EXERCISE_TEST(queue, rejects_zero_capacity, 10,
              "queue_init or queue_size never returned")
{
    struct queue unused;
    int error = queue_init(&unused, 0);
    cr_assert_eq(error, EINVAL, "queue_init(0) returned %d, expected EINVAL "
                 "(%d): a queue that can hold nothing is useless", error,
                 EINVAL);
    init_queue(3);
    cr_assert_eq(queue_size(&queue), 0, "a new queue must be empty");
    queue_destroy(&queue);
}

EXERCISE_TEST(queue, keeps_items_in_order_around_the_ring, 10,
              "queue_put or queue_get blocked although there was room and an "
              "item: are the count and the ring indices right?")
{
    init_queue(3);
    long next_put = 1, next_get = 1;
    for (int round = 0; round < 12; round++) {
        int batch = 1 + round % 3; /* 1, 2 or 3 items: the ring wraps */
        for (int i = 0; i < batch; i++)
            cr_assert_eq(queue_put(&queue, item(next_put++)), 0,
                         "queue_put failed on an open queue with room");
        size_t size = queue_size(&queue);
        cr_assert_eq(size, (size_t)batch, "queue_size was %zu after %d puts "
                     "into an empty queue", size, batch);
        for (int i = 0; i < batch; i++)
            expect_get(next_get++, "after the ring buffer wrapped around");
    }
    queue_destroy(&queue);
}

EXERCISE_TEST(queue, get_waits_for_an_item_while_open, 15,
              "a get on an empty queue never returned after a put")
{
    init_queue(4);
    static struct call get;
    start_get(&get);
    bool returned_early = async_wait(&get.async, 0.7);
    int status = returned_early ? get.status : 0;
    int asleep = returned_early ? 0 : wait_for_sleepers(&get, 1);
    int put = queue_put(&queue, item(7));
    cr_assert_not(returned_early, "queue_get returned %s on an empty queue "
                  "that is still open: " GET_MUST_WAIT, status_name(status));
    cr_assert(asleep != 0, "the waiting get never slept in pthread_cond_wait "
              "on the queue's condition variables: it polls (busy-waiting)");
    cr_assert_eq(put, 0, "queue_put returned %s on an open queue with room",
                 status_name(put));
    cr_assert(async_wait(&get.async, 3.0), "a get asleep on an empty queue "
              "was still blocked 3 s after a put: put must signal the "
              "condition variable the consumers wait on (not_empty)");
    async_finish(&get.async);
    cr_assert_eq(get.status, 0, "the waiting queue_get returned %s after a "
                 "put, expected 0", status_name(get.status));
    cr_assert_eq(number(get.item), 7, "the waiting queue_get gave item %ld, "
                 "expected the item put (7)", number(get.item));
}

EXERCISE_TEST(queue, put_waits_for_room_while_full, 15,
              "a put on a full queue never returned after a get")
{
    init_queue(2);
    cr_assert_eq(queue_put(&queue, item(1)), 0);
    cr_assert_eq(queue_put(&queue, item(2)), 0);
    static struct call put;
    start_put(&put, item(3));
    bool returned_early = async_wait(&put.async, 0.7);
    int status = returned_early ? put.status : 0;
    int asleep = returned_early ? 0 : wait_for_sleepers(&put, 1);
    size_t size = queue_size(&queue);
    cr_assert_leq(size, 2, "the queue held %zu items with capacity 2: put "
                  "must wait while the queue is full (count == capacity), in "
                  "a loop, since a wait can end without a signal (a spurious "
                  "wake-up)", size);
    cr_assert_not(returned_early, "queue_put returned %s on a full queue (2 "
                  "items, capacity 2): " PUT_MUST_WAIT, status_name(status));
    cr_assert(asleep != 0, "the waiting put never slept in pthread_cond_wait "
              "on the queue's condition variables: it polls (busy-waiting)");
    expect_get(1, "from a full queue");
    cr_assert(async_wait(&put.async, 3.0), "a put asleep on a full queue was "
              "still blocked 3 s after a get made room: get must signal the "
              "condition variable the producers wait on (not_full)");
    async_finish(&put.async);
    cr_assert_eq(put.status, 0, "the waiting queue_put returned %s after a "
                 "get made room, expected 0", status_name(put.status));
    expect_get(2, "after a waiting put went in");
    expect_get(3, "after a waiting put went in");
}

EXERCISE_TEST(queue, close_wakes_every_waiting_consumer, 15,
              "gets waiting on an empty queue never returned after close")
{
    enum { CONSUMERS = 4 };
    init_queue(4);
    static struct call gets[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++)
        start_get(&gets[i]);
    int asleep = wait_for_sleepers(gets, CONSUMERS);
    int returned_early = count_returned(gets, CONSUMERS);
    queue_close(&queue);
    /* How many returned depends on how far each got: not shown, so that
     * the reason is the same on every run. */
    cr_assert_eq(returned_early, 0, "a get returned on an empty queue that "
                 "is still open: " GET_MUST_WAIT);
    cr_assert(asleep < 0 || asleep == CONSUMERS, "only %d of %d waiting gets "
              "slept in pthread_cond_wait: the others poll (busy-waiting)",
              asleep, CONSUMERS);
    int returned = wait_for_calls(gets, CONSUMERS, 3.0);
    cr_assert_eq(returned, CONSUMERS, "only %d of %d gets asleep on an empty "
                 "queue returned after queue_close: close must broadcast "
                 "(wake every waiter), on the consumers' condition variable",
                 returned, CONSUMERS);
    for (int i = 0; i < CONSUMERS; i++) {
        async_finish(&gets[i].async);
        cr_assert_eq(gets[i].status, EPIPE, "a get woken by queue_close on "
                     "an empty queue returned %s, expected EPIPE",
                     status_name(gets[i].status));
    }
}

EXERCISE_TEST(queue, close_wakes_every_waiting_producer, 15,
              "puts waiting on a full queue never returned after close")
{
    enum { PRODUCERS = 2 };
    init_queue(1);
    cr_assert_eq(queue_put(&queue, item(1)), 0);
    static struct call puts[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        start_put(&puts[i], item(10 + i));
    int asleep = wait_for_sleepers(puts, PRODUCERS);
    int returned_early = count_returned(puts, PRODUCERS);
    size_t size = queue_size(&queue);
    queue_close(&queue);
    cr_assert_leq(size, 1, "the queue held %zu items with capacity 1: put "
                  "must wait while the queue is full (count == capacity), in "
                  "a loop, since a wait can end without a signal (a spurious "
                  "wake-up)", size);
    cr_assert_eq(returned_early, 0, "%d of %d puts returned on a full queue "
                 "that is still open: " PUT_MUST_WAIT, returned_early,
                 PRODUCERS);
    cr_assert(asleep < 0 || asleep == PRODUCERS, "only %d of %d waiting puts "
              "slept in pthread_cond_wait: the others poll (busy-waiting)",
              asleep, PRODUCERS);
    int returned = wait_for_calls(puts, PRODUCERS, 3.0);
    cr_assert_eq(returned, PRODUCERS, "only %d of %d puts asleep on a full "
                 "queue returned after queue_close: close must broadcast "
                 "(wake every waiter), on the producers' condition variable too",
                 returned, PRODUCERS);
    for (int i = 0; i < PRODUCERS; i++) {
        async_finish(&puts[i].async);
        cr_assert_eq(puts[i].status, EPIPE, "a put woken by queue_close "
                     "returned %s, expected EPIPE: a closed queue takes no "
                     "more items", status_name(puts[i].status));
    }
    expect_get(1, "after close: consumers drain the items put before close");
}

EXERCISE_TEST(queue, drains_items_left_after_close, 10,
              "a get or put on a closed queue never returned: after close, "
              "nobody may wait any more")
{
    init_queue(4);
    for (long i = 1; i <= 3; i++)
        cr_assert_eq(queue_put(&queue, item(i)), 0);
    queue_close(&queue);
    int status = queue_put(&queue, item(4));
    cr_assert_eq(status, EPIPE, "queue_put on a closed queue returned %s, "
                 "expected EPIPE", status_name(status));
    for (long i = 1; i <= 3; i++) {
        void *got = NULL;
        status = queue_get(&queue, &got);
        cr_assert_eq(status, 0, "queue_get returned %s after close with %ld "
                     "items still in the queue: consumers drain what is left "
                     "before they learn the queue is closed",
                     status_name(status), 4 - i);
        cr_assert_eq(number(got), i, "queue_get gave item %ld after close, "
                     "expected %ld", number(got), i);
    }
    for (int i = 0; i < 2; i++) {
        void *untouched = item(99);
        status = queue_get(&queue, &untouched);
        cr_assert_eq(status, EPIPE, "queue_get on a closed, empty queue "
                     "returned %s, expected EPIPE", status_name(status));
        cr_assert_eq(number(untouched), 99, "queue_get wrote *item although "
                     "it returned EPIPE");
    }
    queue_close(&queue); /* closing twice changes nothing */
    cr_assert_eq(queue_size(&queue), 0);
    queue_destroy(&queue);
}

EXERCISE_TEST(queue, every_put_wakes_a_waiting_consumer, 15,
              "gets waiting on an empty queue never returned after two puts")
{
    enum { CONSUMERS = 2 };
    init_queue(4);
    static struct call gets[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++)
        start_get(&gets[i]);
    int asleep = wait_for_sleepers(gets, CONSUMERS);
    int returned_early = count_returned(gets, CONSUMERS);
    cr_assert_eq(returned_early, 0, "a get returned on an empty queue that "
                 "is still open: " GET_MUST_WAIT);
    cr_assert(asleep != 0, "the waiting gets never slept in "
              "pthread_cond_wait: they poll (busy-waiting)");
    /* Both consumers are paused while both items go in, so neither can take
     * the first item before the second put: the queue is not empty when
     * the second item arrives. */
    pthread_t consumers[CONSUMERS] = {gets[0].async.thread,
                                      gets[1].async.thread};
    bool frozen = freeze_threads(consumers, CONSUMERS, 3.0);
    int first = queue_put(&queue, item(1));
    int second = queue_put(&queue, item(2));
    thaw_threads(CONSUMERS);
    cr_assert(frozen, "the test could not pause the consumer threads (with "
              "the signal SIGUSR2)");
    cr_assert(first == 0 && second == 0, "queue_put returned %s and %s on "
              "an open queue with room", status_name(first),
              status_name(second));
    int returned = wait_for_calls(gets, CONSUMERS, 3.0);
    cr_assert_neq(returned, 0, "neither of two gets asleep on an empty queue "
                  "returned after two puts: put must signal the condition "
                  "variable the consumers wait on (not_empty)");
    cr_assert_eq(returned, CONSUMERS, "only %d of %d gets asleep on an empty "
                 "queue returned after two puts: every put must signal a "
                 "waiting consumer, not only the put that makes the queue "
                 "non-empty", returned, CONSUMERS);
    long sum = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        async_finish(&gets[i].async);
        sum += number(gets[i].item);
    }
    cr_assert_eq(sum, 3, "the two gets returned items %ld and %ld, expected "
                 "1 and 2", number(gets[0].item), number(gets[1].item));
}

EXERCISE_TEST(queue, room_made_by_a_get_wakes_the_waiting_producer, 15,
              "a put waiting on a full queue never returned after a get")
{
    enum { CONSUMERS = 2 };
    init_queue(1);
    static struct call gets[CONSUMERS], put;
    for (int i = 0; i < CONSUMERS; i++)
        start_get(&gets[i]);
    int asleep = wait_for_sleepers(gets, CONSUMERS);
    int returned_early = count_returned(gets, CONSUMERS);
    cr_assert_eq(returned_early, 0, "a get returned on an empty queue that "
                 "is still open: " GET_MUST_WAIT);
    cr_assert(asleep != 0, "the waiting gets never slept in "
              "pthread_cond_wait: they poll (busy-waiting)");
    /* Consumers paused: the item fills the queue, and a producer comes to
     * wait for room while both consumers still wait too.  Once they go on,
     * one consumer takes the item; its wake-up must reach the producer. */
    pthread_t consumers[CONSUMERS] = {gets[0].async.thread,
                                      gets[1].async.thread};
    bool frozen = freeze_threads(consumers, CONSUMERS, 3.0);
    int first = queue_put(&queue, item(1));
    start_put(&put, item(2));
    int producer_asleep = wait_for_sleepers(&put, 1);
    thaw_threads(CONSUMERS);
    cr_assert(frozen, "the test could not pause the consumer threads (with "
              "the signal SIGUSR2)");
    cr_assert_eq(first, 0, "queue_put returned %s on an open, empty queue",
                 status_name(first));
    cr_assert(producer_asleep != 0, "a put on a full queue never slept in "
              "pthread_cond_wait");
    cr_assert(async_wait(&put.async, 3.0), "a put waiting on a full queue was "
              "still blocked 3 s after a get made room, while another "
              "consumer was waiting too: the get's signal woke the wrong kind "
              "of waiter.  Producers and consumers wait for different "
              "things: give each its own condition variable (not_full, "
              "not_empty), or broadcast");
    async_finish(&put.async);
    cr_assert_eq(put.status, 0, "the waiting put returned %s, expected 0",
                 status_name(put.status));
    int returned = wait_for_calls(gets, CONSUMERS, 3.0);
    cr_assert_eq(returned, CONSUMERS, "only %d of %d gets returned after two "
                 "items were put", returned, CONSUMERS);
    for (int i = 0; i < CONSUMERS; i++)
        async_finish(&gets[i].async);
}

/* The stress test: producers put numbered items, consumers check them. */
enum { PRODUCERS = 3, CONSUMERS = 3, ITEMS = 1000, CAPACITY = 4 };

static long encode(int producer, long sequence)
{
    return 1 + producer * (long)ITEMS + sequence;
}

struct producer {
    struct async_call async;
    int index;
    int failed_puts;
};

static void *produce(void *raw)
{
    struct producer *producer = raw;
    for (long i = 0; i < ITEMS; i++)
        if (queue_put(&queue, item(encode(producer->index, i))) != 0)
            producer->failed_puts++;
    return NULL;
}

/* How many items the consumers have taken so far: the test's sign of
 * progress (a stall, not a clock, decides that a run is stuck). */
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;
static long items_taken;

static long items_taken_so_far(void)
{
    pthread_mutex_lock(&progress_lock);
    long taken = items_taken;
    pthread_mutex_unlock(&progress_lock);
    return taken;
}

struct consumer {
    struct async_call async;
    unsigned char received[PRODUCERS][ITEMS]; /* how often each item came */
    long last[PRODUCERS];                     /* last sequence per producer */
    int out_of_order;
    int bad_items;
    size_t largest_size;
    int status;
};

static void *consume(void *raw)
{
    struct consumer *consumer = raw;
    for (int p = 0; p < PRODUCERS; p++)
        consumer->last[p] = -1;
    void *got;
    while ((consumer->status = queue_get(&queue, &got)) == 0) {
        long code = number(got) - 1;
        if (code < 0 || code >= PRODUCERS * (long)ITEMS) {
            consumer->bad_items++;
            continue;
        }
        int producer = (int)(code / ITEMS);
        long sequence = code % ITEMS;
        if (sequence <= consumer->last[producer])
            consumer->out_of_order++;
        consumer->last[producer] = sequence;
        if (consumer->received[producer][sequence] < 255)
            consumer->received[producer][sequence]++;
        pthread_mutex_lock(&progress_lock);
        items_taken++;
        pthread_mutex_unlock(&progress_lock);
        size_t size = queue_size(&queue);
        if (size > consumer->largest_size)
            consumer->largest_size = size;
    }
    return NULL;
}

static struct producer producers[PRODUCERS];
static struct consumer consumers[CONSUMERS];

/* Waits until every producer has returned; false once the consumers have
 * taken nothing for `stall` seconds while a producer was still busy. */
static bool wait_for_producers(double stall)
{
    long seen = -1;
    double last_progress = now_seconds();
    for (;;) {
        int done = 0;
        for (int i = 0; i < PRODUCERS; i++)
            done += async_is_done(&producers[i].async);
        if (done == PRODUCERS)
            return true;
        long taken = items_taken_so_far();
        if (taken != seen) {
            seen = taken;
            last_progress = now_seconds();
        } else if (now_seconds() - last_progress > stall) {
            return false;
        }
        sleep_seconds(0.005);
    }
}

EXERCISE_TEST(queue, many_producers_and_consumers_lose_nothing, 20,
              "producers or consumers never finished: a lost wake-up, or a "
              "close that wakes nobody?")
{
    init_queue(CAPACITY);
    items_taken = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        memset(&consumers[i], 0, sizeof consumers[i]);
        async_start(&consumers[i].async, consume, &consumers[i]);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        producers[i] = (struct producer){.index = i};
        async_start(&producers[i].async, produce, &producers[i]);
    }
    bool producers_done = wait_for_producers(3.0);
    queue_close(&queue);
    cr_assert(producers_done, "the producers got stuck: for 3 s no consumer "
              "took an item, after %ld of %d items (capacity %d); a lost "
              "wake-up?", items_taken_so_far(), PRODUCERS * ITEMS, CAPACITY);
    int consumers_done = 0;
    double give_up = now_seconds() + 3.0;
    for (int i = 0; i < CONSUMERS; i++) {
        double left = give_up - now_seconds();
        consumers_done += async_wait(&consumers[i].async, left > 0 ? left : 0);
    }
    cr_assert_eq(consumers_done, CONSUMERS, "only %d of %d consumers returned "
                 "after the producers finished and the queue was closed",
                 consumers_done, CONSUMERS);

    int failed_puts = 0, out_of_order = 0, bad = 0, missing = 0, twice = 0;
    size_t largest = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        async_finish(&producers[i].async);
        failed_puts += producers[i].failed_puts;
    }
    for (int i = 0; i < CONSUMERS; i++) {
        async_finish(&consumers[i].async);
        cr_assert_eq(consumers[i].status, EPIPE, "a consumer's last get "
                     "returned %s, expected EPIPE",
                     status_name(consumers[i].status));
        out_of_order += consumers[i].out_of_order;
        bad += consumers[i].bad_items;
        if (consumers[i].largest_size > largest)
            largest = consumers[i].largest_size;
    }
    for (int p = 0; p < PRODUCERS; p++)
        for (long s = 0; s < ITEMS; s++) {
            int times = 0;
            for (int c = 0; c < CONSUMERS; c++)
                times += consumers[c].received[p][s];
            missing += times == 0;
            twice += times > 1;
        }
    cr_assert_eq(failed_puts, 0, "%d puts failed on an open queue: a full "
                 "queue must make the producer wait, not fail", failed_puts);
    cr_assert_eq(bad, 0, "consumers got %d items that nobody put (a slot read "
                 "before it was written?)", bad);
    cr_assert_eq(missing, 0, "%d of %d items were never received: lost (a "
                 "slot overwritten, or the consumers stopped early)", missing,
                 PRODUCERS * ITEMS);
    cr_assert_eq(twice, 0, "%d items were received more than once", twice);
    cr_assert_eq(out_of_order, 0, "a consumer got one producer's items out of "
                 "order %d times: the queue must be first in, first out",
                 out_of_order);
    cr_assert_leq(largest, CAPACITY, "queue_size reached %zu with capacity %d",
                  largest, CAPACITY);
}
