/* Tests for exercise 19: a car admits exactly min(seats, waiting). */
#include "harness.h"
#include "sleepers.h"
#include "station.h"
#include "freeze.h"

#include <stdlib.h>
#include <time.h>

/* The station, and every call a test runs in another thread, are static: a
 * thread that a failed test leaves blocked must still find valid memory
 * (not the dead stack frame of the test) while the test process ends. */
static struct station station;

static void init_station(void)
{
    int error = station_init(&station);
    cr_assert_eq(error, 0, "station_init returned %d, expected 0", error);
}

/* station_board in its own thread; records the car and the CPU used. */
struct passenger {
    struct async_call async;
    unsigned long car;
    double cpu_seconds;
};

static void *board(void *raw)
{
    struct passenger *passenger = raw;
    double cpu_before = thread_cpu_seconds();
    passenger->car = station_board(&station);
    passenger->cpu_seconds = thread_cpu_seconds() - cpu_before;
    return NULL;
}

/* station_load_car in its own thread. */
struct car {
    struct async_call async;
    unsigned capacity;
    unsigned admitted;
    double cpu_seconds;
};

static void *load_car(void *raw)
{
    struct car *car = raw;
    double cpu_before = thread_cpu_seconds();
    car->admitted = station_load_car(&station, car->capacity);
    car->cpu_seconds = thread_cpu_seconds() - cpu_before;
    return NULL;
}

static void start_car(struct car *car, unsigned capacity)
{
    car->capacity = capacity;
    car->admitted = 0;
    async_start(&car->async, load_car, car);
}

static void start_passengers(struct passenger *passengers, int count)
{
    for (int i = 0; i < count; i++)
        async_start(&passengers[i].async, board, &passengers[i]);
}

static int count_returned(struct passenger *passengers, int count)
{
    int returned = 0;
    for (int i = 0; i < count; i++)
        returned += async_is_done(&passengers[i].async);
    return returned;
}

/* Waits (at most `seconds`) until `count` passengers sleep in
 * pthread_cond_wait on the platform, and returns how many do (sleepers.h;
 * -1 where /proc cannot tell); stops early once a passenger has returned
 * (a failure of its own). */
static int wait_for_sleeping_passengers(struct passenger *passengers,
                                        int count, double seconds)
{
    return wait_until_asleep_on(&station.seats_offered,
                                sizeof station.seats_offered, count, seconds,
                                any_async_call_returned,
                                ASYNC_CALLS(passengers, count));
}

/* Lets the passengers that are still waiting go: cars until nobody is
 * left, so that no thread stays blocked after a test that passed. */
static void clear_platform(struct passenger *passengers, int count)
{
    for (int car = 0; car < 5 && count_returned(passengers, count) < count;
         car++) {
        static struct car sweeper;
        start_car(&sweeper, (unsigned)count);
        if (!async_wait(&sweeper.async, 3.0))
            return;
        async_finish(&sweeper.async);
        for (int i = 0; i < count; i++)
            async_wait(&passengers[i].async, 0.5);
    }
    for (int i = 0; i < count; i++)
        async_finish(&passengers[i].async);
}

#define LEAVES_EARLY "the car must not leave before its passengers have " \
    "boarded: wait (in a while loop on seat_taken) until the last seat it " \
    "offered is taken"
#define WAKE_EVERY_PASSENGER "wake every waiting passenger when a car comes " \
    "(pthread_cond_broadcast; signal wakes only one), and have the passenger " \
    "who takes the last seat wake the car"

EXERCISE_TEST(station, no_seats_or_nobody_waiting_returns_at_once, 15,
              "station_load_car never returned: with no seats, or nobody "
              "waiting, a car admits nobody and leaves at once")
{
    init_station();
    static struct car empty_platform;
    start_car(&empty_platform, 4);
    cr_assert(async_wait(&empty_platform.async, 2.0), "station_load_car(4) "
              "on an empty platform had not returned after 2 s: with nobody "
              "waiting the car admits nobody and leaves at once (it does not "
              "wait for passengers to come)");
    async_finish(&empty_platform.async);
    cr_assert_eq(empty_platform.admitted, 0, "station_load_car(4) on an "
                 "empty platform returned %u, expected 0",
                 empty_platform.admitted);

    enum { PASSENGERS = 3 };
    static struct passenger passengers[PASSENGERS];
    start_passengers(passengers, PASSENGERS);
    wait_for_sleeping_passengers(passengers, PASSENGERS, 3.0);
    static struct car no_seats;
    start_car(&no_seats, 0);
    cr_assert(async_wait(&no_seats.async, 2.0), "station_load_car(0) with %d "
              "passengers waiting had not returned after 2 s: a car with no "
              "seats admits nobody and leaves at once", PASSENGERS);
    async_finish(&no_seats.async);
    cr_assert_eq(no_seats.admitted, 0, "station_load_car(0) returned %u: a "
                 "car with no seats admits nobody", no_seats.admitted);
    sleep_seconds(0.3);
    int boarded = count_returned(passengers, PASSENGERS);
    cr_assert_eq(boarded, 0, "%d passengers boarded a car with no seats (or "
                 "no car at all): a passenger waits, in a while loop, until "
                 "a car offers a free seat", boarded);
    unsigned waiting = station_waiting(&station);
    cr_assert_eq(waiting, PASSENGERS, "station_waiting() returned %u with %d "
                 "passengers on the platform", waiting, PASSENGERS);
    clear_platform(passengers, PASSENGERS);
}

EXERCISE_TEST(station, passenger_waits_for_a_car, 15,
              "a passenger never boarded the car that came for it")
{
    init_station();
    static struct passenger passenger;
    async_start(&passenger.async, board, &passenger);
    bool returned_early = async_wait(&passenger.async, 0.7);
    int asleep = returned_early ? 0
                                : wait_for_sleeping_passengers(&passenger, 1,
                                                               2.0);
    unsigned waiting = station_waiting(&station);
    static struct car car;
    start_car(&car, 1);
    cr_assert_not(returned_early, "station_board returned (car %lu) although "
                  "no car had come: a wait can end without a signal (a "
                  "spurious wake-up), so wait in a loop: while (free_seats "
                  "== 0) pthread_cond_wait(...)", passenger.car);
    cr_assert(asleep != 0, "the waiting passenger never slept in "
              "pthread_cond_wait on seats_offered: it must block there, not "
              "poll the count (busy-waiting)");
    cr_assert_eq(waiting, 1, "station_waiting() returned %u with one "
                 "passenger on the platform", waiting);
    cr_assert(async_wait(&car.async, 3.0), "station_load_car(1) with one "
              "passenger waiting had not returned after 3 s: " WAKE_EVERY_PASSENGER);
    async_finish(&car.async);
    cr_assert_eq(car.admitted, 1, "station_load_car(1) with one passenger "
                 "waiting returned %u, expected 1", car.admitted);
    cr_assert(async_wait(&passenger.async, 3.0), "the passenger had not "
              "boarded 3 s after a car with a free seat came");
    async_finish(&passenger.async);
    cr_assert_eq(passenger.car, 1, "the passenger boarded car %lu, but only "
                 "car 1 had come (station_board returns station->car, and "
                 "every station_load_car counts it up)", passenger.car);
    cr_assert_lt(passenger.cpu_seconds, 0.05, "a passenger waiting for a car "
                 "used %.2f s of CPU: it polls (busy-waiting); sleep in "
                 "pthread_cond_wait instead", passenger.cpu_seconds);
}

EXERCISE_TEST(station, car_takes_exactly_as_many_as_it_can, 20,
              "station_load_car or a passenger never returned: "
              WAKE_EVERY_PASSENGER)
{
    enum { PASSENGERS = 5, SEATS = 3 };
    init_station();
    static struct passenger passengers[PASSENGERS];
    start_passengers(passengers, PASSENGERS);
    int asleep = wait_for_sleeping_passengers(passengers, PASSENGERS, 3.0);
    int returned_early = count_returned(passengers, PASSENGERS);
    cr_assert_eq(returned_early, 0, "%d passengers boarded before any car "
                 "came: a wait can end without a signal (a spurious "
                 "wake-up), so wait in a loop while no seat is free",
                 returned_early);
    cr_assert(asleep < 0 || asleep == PASSENGERS, "only %d of %d waiting "
              "passengers slept in pthread_cond_wait on seats_offered",
              asleep, PASSENGERS);

    static struct car first;
    start_car(&first, SEATS);
    bool left = async_wait(&first.async, 3.0);
    sleep_seconds(0.3);
    int boarded = count_returned(passengers, PASSENGERS);
    cr_assert(left, "station_load_car(%d) with %d passengers asleep on the "
              "platform had not returned after 3 s, and %d of them had "
              "boarded: " WAKE_EVERY_PASSENGER, SEATS, PASSENGERS, boarded);
    async_finish(&first.async);
    cr_assert_eq(first.admitted, SEATS, "station_load_car(%d) with %d "
                 "passengers waiting returned %u: a car admits "
                 "min(capacity, waiting)", SEATS, PASSENGERS, first.admitted);
    cr_assert_eq(boarded, SEATS, "%d passengers boarded a car of %d seats "
                 "(%d were waiting): exactly min(capacity, waiting) may board",
                 boarded, SEATS, PASSENGERS);
    for (int i = 0; i < PASSENGERS; i++)
        if (async_is_done(&passengers[i].async))
            cr_assert_eq(passengers[i].car, 1, "a passenger boarded car %lu, "
                         "but the first car is 1", passengers[i].car);
    unsigned waiting = station_waiting(&station);
    cr_assert_eq(waiting, PASSENGERS - SEATS, "station_waiting() returned %u "
                 "after %d of %d passengers left: a passenger who takes a "
                 "seat is no longer waiting", waiting, SEATS, PASSENGERS);

    static struct car second;
    start_car(&second, 10);
    cr_assert(async_wait(&second.async, 3.0), "station_load_car(10) with %d "
              "passengers waiting had not returned after 3 s: the car must "
              "offer only as many seats as passengers wait, or it waits for "
              "ever for the rest", PASSENGERS - SEATS);
    async_finish(&second.async);
    cr_assert_eq(second.admitted, PASSENGERS - SEATS, "station_load_car(10) "
                 "with %d passengers waiting returned %u: a car admits "
                 "min(capacity, waiting)", PASSENGERS - SEATS,
                 second.admitted);
    for (int i = 0; i < PASSENGERS; i++)
        cr_assert(async_wait(&passengers[i].async, 3.0), "a passenger had "
                  "not boarded 3 s after a car with a free seat for it came");
    clear_platform(passengers, PASSENGERS);
}

EXERCISE_TEST(station, car_leaves_only_after_its_passengers_boarded, 20,
              "station_load_car never returned after its passengers were "
              "let go: the passenger who takes the last seat must wake the car")
{
    enum { PASSENGERS = 3 };
    init_station();
    static struct passenger passengers[PASSENGERS];
    start_passengers(passengers, PASSENGERS);
    wait_for_sleeping_passengers(passengers, PASSENGERS, 3.0);
    cr_assert_eq(count_returned(passengers, PASSENGERS), 0, "a passenger "
                 "boarded before any car came: a wait can end without a "
                 "signal (a spurious wake-up), so wait in a loop while no "
                 "seat is free");
    /* The passengers are held (frozen in a signal handler, still waiting
     * on the condition variable) while the car arrives: none of them can
     * take a seat until the test lets them go. */
    pthread_t threads[PASSENGERS];
    for (int i = 0; i < PASSENGERS; i++)
        threads[i] = passengers[i].async.thread;
    cr_assert(freeze_threads(threads, PASSENGERS, 3.0), "the test could not "
              "hold the passenger threads (a test fault, not yours)");
    static struct car car;
    start_car(&car, PASSENGERS);
    bool left_early = async_wait(&car.async, 0.5);
    thaw_threads(PASSENGERS);
    cr_assert_not(left_early, "station_load_car(%d) returned %u while the %d "
                  "passengers it admitted were held by the test and had not "
                  "taken their seats: " LEAVES_EARLY, PASSENGERS, car.admitted,
                  PASSENGERS);
    cr_assert(async_wait(&car.async, 3.0), "station_load_car(%d) had not "
              "returned 3 s after its passengers were let go: "
              WAKE_EVERY_PASSENGER, PASSENGERS);
    async_finish(&car.async);
    cr_assert_eq(car.admitted, PASSENGERS, "station_load_car(%d) with %d "
                 "passengers waiting returned %u", PASSENGERS, PASSENGERS,
                 car.admitted);
    cr_assert_lt(car.cpu_seconds, 0.05, "the car used %.2f s of CPU while it "
                 "waited for its passengers: it polls (busy-waiting); sleep in "
                 "pthread_cond_wait on seat_taken", car.cpu_seconds);
    clear_platform(passengers, PASSENGERS);
}

/* The seat hook: holds a passenger that has seen a free seat (at most half
 * a second) until a second passenger sees one too.  With the free count
 * checked and decremented under one lock, no second passenger gets there. */
static struct {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    int inside, peak;
} seat_hook_state = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void hold_at_the_seat(struct station *unused, void *context)
{
    (void)unused;
    (void)context;
    pthread_mutex_lock(&seat_hook_state.mutex);
    seat_hook_state.inside++;
    if (seat_hook_state.inside > seat_hook_state.peak)
        seat_hook_state.peak = seat_hook_state.inside;
    pthread_cond_broadcast(&seat_hook_state.changed);
    double give_up = now_seconds() + 0.5;
    while (seat_hook_state.inside < 2 && now_seconds() < give_up) {
        pthread_mutex_unlock(&seat_hook_state.mutex);
        sleep_seconds(0.002);
        pthread_mutex_lock(&seat_hook_state.mutex);
    }
    seat_hook_state.inside--;
    pthread_mutex_unlock(&seat_hook_state.mutex);
}

EXERCISE_TEST(station, last_seat_goes_to_one_passenger, 20,
              "station_load_car(1) never returned: did two passengers take "
              "the same seat (the free count went below zero)?")
{
    enum { PASSENGERS = 2 };
    init_station();
    static struct passenger passengers[PASSENGERS];
    start_passengers(passengers, PASSENGERS);
    wait_for_sleeping_passengers(passengers, PASSENGERS, 3.0);
    cr_assert_eq(count_returned(passengers, PASSENGERS), 0, "a passenger "
                 "boarded before any car came: a wait can end without a "
                 "signal (a spurious wake-up), so wait in a loop while no "
                 "seat is free");
    station_set_seat_hook(&station, hold_at_the_seat, NULL);
    static struct car car;
    start_car(&car, 1);
    bool left = async_wait(&car.async, 3.0);
    sleep_seconds(0.3);
    int boarded = count_returned(passengers, PASSENGERS);
    pthread_mutex_lock(&seat_hook_state.mutex);
    int peak = seat_hook_state.peak;
    pthread_mutex_unlock(&seat_hook_state.mutex);
    cr_assert_lt(peak, 2, "two passengers saw the car's one free seat and "
                 "both went to take it: check the free seat and take it in "
                 "one critical section (do not unlock between the check and "
                 "free_seats--), and re-check after every wake-up");
    cr_assert(left, "station_load_car(1) with 2 passengers waiting had not "
              "returned after 3 s, %d passengers boarded", boarded);
    async_finish(&car.async);
    cr_assert_eq(car.admitted, 1, "station_load_car(1) returned %u",
                 car.admitted);
    cr_assert_eq(boarded, 1, "%d passengers boarded a car of one seat",
                 boarded);
    station_set_seat_hook(&station, NULL, NULL);
    clear_platform(passengers, PASSENGERS);
}

/* 200 passengers arrive while cars of random capacities (0 to 7) come one
 * after another until everybody has left. */
enum { CROWD = 200, MAX_CARS = 20000 };
static struct passenger crowd[CROWD];
static unsigned admitted_by_car[MAX_CARS + 1];
static unsigned capacity_of_car[MAX_CARS + 1];
static struct {
    unsigned seed;
    int cars;
    unsigned total;
    bool over_capacity;
} shuttle;

static void *run_shuttle(void *unused)
{
    (void)unused;
    double give_up = now_seconds() + 5.0;
    while (shuttle.total < CROWD && shuttle.cars < MAX_CARS &&
           now_seconds() < give_up) {
        unsigned capacity = (unsigned)(rand_r(&shuttle.seed) % 8);
        unsigned admitted = station_load_car(&station, capacity);
        shuttle.cars++;
        capacity_of_car[shuttle.cars] = capacity;
        admitted_by_car[shuttle.cars] = admitted;
        shuttle.over_capacity = shuttle.over_capacity || admitted > capacity;
        shuttle.total += admitted;
        if (admitted == 0)
            sleep_seconds(0.0005);
    }
    return NULL;
}

EXERCISE_TEST(station, two_hundred_passengers_and_random_cars, 40,
              "the cars or the passengers never finished: is a car waiting "
              "for a passenger who will never come, or a passenger asleep "
              "through a car?")
{
    init_station();
    shuttle.seed = (unsigned)time(NULL);
    harness_note("random car capacities from seed %u", shuttle.seed);
    static struct async_call shuttle_call;
    async_start(&shuttle_call, run_shuttle, NULL);
    start_passengers(crowd, CROWD);
    bool finished = async_wait(&shuttle_call, 7.0);
    int boarded = 0;
    for (int i = 0; i < CROWD; i++)
        boarded += async_wait(&crowd[i].async, finished ? 3.0 : 0);
    cr_assert(finished, "the cars had not finished after 7 s (%d cars, %u "
              "admitted, %d passengers boarded): a car waits for ever, "
              "perhaps for a seat nobody takes: " WAKE_EVERY_PASSENGER,
              shuttle.cars, shuttle.total, boarded);
    async_finish(&shuttle_call);
    cr_assert_not(shuttle.over_capacity, "a car admitted more passengers "
                  "than it has seats");
    cr_assert_eq(shuttle.total, CROWD, "the cars admitted %u passengers in "
                 "all, but %d came", shuttle.total, CROWD);
    cr_assert_eq(boarded, CROWD, "only %d of %d passengers boarded although "
                 "the cars admitted %u", boarded, CROWD, shuttle.total);
    static unsigned seated[MAX_CARS + 1];
    for (int i = 0; i < CROWD; i++) {
        unsigned long car = crowd[i].car;
        cr_assert(car >= 1 && car <= (unsigned long)shuttle.cars, "a "
                  "passenger boarded car %lu, but the cars were numbered 1 "
                  "to %d", car, shuttle.cars);
        seated[car]++;
    }
    for (int car = 1; car <= shuttle.cars; car++)
        cr_assert_eq(seated[car], admitted_by_car[car], "car %d (%u seats) "
                     "returned %u, but %u passengers boarded it: a passenger "
                     "may only take a seat the car at the platform offers, "
                     "and the car leaves once they are seated",
                     car, capacity_of_car[car], admitted_by_car[car],
                     seated[car]);
    for (int i = 0; i < CROWD; i++)
        async_finish(&crowd[i].async);
}
