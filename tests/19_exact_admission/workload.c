/*
 * Workload for exercise 19, for ThreadSanitizer and helgrind.  Each round,
 * passengers arrive while cars of random capacities load them, and an
 * observer reads station_waiting all the while: a count read or written
 * outside the mutex is a data race the checkers report.  The workload also
 * checks that each car's passengers number what it returned, and gives up
 * (instead of hanging) when the cars or the passengers never finish.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   station_board    x board, load_car    this workload (24 passengers and
 *                      one car thread, every round); tests passenger_
 *                      waits_for_a_car, car_takes_exactly_as_many_as_it_
 *                      can (5 asleep, 3 seats), car_leaves_only_after_its_
 *                      passengers_boarded (3 held while the car waits),
 *                      last_seat_goes_to_one_passenger (2 for one seat,
 *                      the first held at it by the seat hook), two_
 *                      hundred_passengers_and_random_cars
 *   station_load_car x board              the same places; a car with no
 *                      seats beside 3 asleep: no_seats_or_nobody_waiting_
 *                      returns_at_once
 *                    x load_car           never (their contract: cars come
 *                      one after the other)
 *   station_waiting  x board              this workload (the observer, all
 *                      the while); the tests read it only between cars
 *   station_set_seat_hook x board         last_seat_goes_to_one_passenger
 *                      (set while 2 passengers sleep in station_board,
 *                      removed after the car); not in this workload, so
 *                      no race checker sees the two together
 *   init/destroy: before and after the threads only (their contract).
 * Error paths and edges:
 *   init: a pthread call fails (its error, nothing left to destroy)
 *                          no test
 *   nobody waiting, or no seats: 0 at once, and nobody boards
 *                          no_seats_or_nobody_waiting_returns_at_once
 *   exactly min(capacity, waiting): 3 of 5, then 2 with 10 seats
 *                          car_takes_exactly_as_many_as_it_can; random
 *                          cars: two_hundred_passengers_and_random_cars,
 *                          this workload
 *   the car leaves only once its passengers sat, asleep meanwhile
 *                          car_leaves_only_after_its_passengers_boarded
 *   the last seat goes to one passenger
 *                          last_seat_goes_to_one_passenger
 *   each car has exactly the passengers it returned; nobody boards a car
 *     that left            two_hundred_passengers_and_random_cars; this
 *                          workload
 *   cars numbered 1, 2, 3 ..., empty cars too
 *                          passenger_waits_for_a_car (car 1); two_hundred_
 *                          passengers_and_random_cars, this workload (cars
 *                          of 0 seats among them)
 *   a passenger waits, asleep, until a car comes (a spurious wake-up
 *     injected)            passenger_waits_for_a_car
 *   station_waiting counts the passengers not seated
 *                          passenger_waits_for_a_car, no_seats_or_nobody_
 *                          waiting_returns_at_once, car_takes_exactly_as_
 *                          many_as_it_can; this workload (0 at the end)
 *   station_set_seat_hook(NULL) removes the hook
 *                          no test
 */
#include "station.h"
#include "workload.h"
#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { PASSENGERS = 24, MAX_CARS = 5000 };

static struct station station;
static unsigned long boarded_car[PASSENGERS];
static unsigned admitted_by_car[MAX_CARS + 1];
static atomic_int passengers_done;
static atomic_bool round_over;

static void *passenger(void *raw)
{
    unsigned long *car = raw;
    *car = station_board(&station);
    atomic_fetch_add(&passengers_done, 1);
    return NULL;
}

struct shuttle {
    unsigned seed;
    int cars;
    unsigned total;
    double give_up;
};

static void *shuttle(void *raw)
{
    struct shuttle *shuttle = raw;
    while (shuttle->total < PASSENGERS && shuttle->cars < MAX_CARS &&
           now_seconds() < shuttle->give_up) {
        unsigned capacity = (unsigned)(rand_r(&shuttle->seed) % 6);
        unsigned admitted = station_load_car(&station, capacity);
        workload_check(admitted <= capacity, "a car of %u seats admitted %u "
                       "passengers", capacity, admitted);
        admitted_by_car[++shuttle->cars] = admitted;
        shuttle->total += admitted;
        if (admitted == 0)
            sleep_seconds(0.0002);
    }
    return NULL;
}

/* Reads the count while passengers and cars change it, until the round is
 * over or its cars have given up.  It pauses now and then and ends by
 * itself: if the station's own threads get stuck, the hang watcher then
 * sees them stuck (a deadlock, explained) instead of this busy reader. */
static void *observer(void *raw)
{
    const struct shuttle *shuttle = raw;
    for (unsigned reads = 1; !atomic_load(&round_over) &&
                             now_seconds() < shuttle->give_up; reads++) {
        workload_check(station_waiting(&station) <= PASSENGERS,
                       "station_waiting() counted more passengers than came");
        if (reads % 64 == 0)
            sleep_seconds(0.0001);
    }
    return NULL;
}

/* A car leaves only when the passengers it admitted have taken their
 * seats, so once the cars are done every passenger returns almost at once.
 * Gives up after `quiet_seconds` in which no passenger returned (a bound on
 * progress, not on the whole wait: a slow machine still passes). */
static bool passengers_return(double quiet_seconds)
{
    int seen = atomic_load(&passengers_done);
    double last_progress = now_seconds();
    while (seen < PASSENGERS) {
        if (now_seconds() - last_progress > quiet_seconds)
            return false;
        sleep_seconds(0.001);
        int done = atomic_load(&passengers_done);
        if (done != seen) {
            seen = done;
            last_progress = now_seconds();
        }
    }
    return true;
}

static void run_round(int round, double seconds, double quiet_seconds)
{
    atomic_store(&passengers_done, 0);
    atomic_store(&round_over, false);
    struct shuttle state = {(unsigned)round * 7919u + 1, 0, 0,
                            now_seconds() + seconds};
    pthread_t passengers[PASSENGERS], car_thread, observer_thread;
    pthread_create(&observer_thread, NULL, observer, &state);
    pthread_create(&car_thread, NULL, shuttle, &state);
    for (int i = 0; i < PASSENGERS; i++)
        pthread_create(&passengers[i], NULL, passenger, &boarded_car[i]);

    pthread_join(car_thread, NULL);
    workload_check(state.total == PASSENGERS, "round %d: the cars admitted %u "
                   "of %d passengers in %.0f s (%d cars): is a car or a "
                   "passenger asleep for ever?", round, state.total,
                   PASSENGERS, seconds, state.cars);
    workload_check(passengers_return(quiet_seconds), "round %d: only %d of "
                   "%d passengers boarded although the cars admitted them "
                   "all", round, atomic_load(&passengers_done), PASSENGERS);
    for (int i = 0; i < PASSENGERS; i++)
        pthread_join(passengers[i], NULL);
    atomic_store(&round_over, true);
    pthread_join(observer_thread, NULL);

    static unsigned seated[MAX_CARS + 1];
    for (int car = 0; car <= state.cars; car++)
        seated[car] = 0;
    for (int i = 0; i < PASSENGERS; i++) {
        workload_check(boarded_car[i] >= 1 &&
                       boarded_car[i] <= (unsigned long)state.cars,
                       "round %d: a passenger boarded car %lu of %d", round,
                       boarded_car[i], state.cars);
        seated[boarded_car[i]]++;
    }
    for (int car = 1; car <= state.cars; car++)
        workload_check(seated[car] == admitted_by_car[car], "round %d: car "
                       "%d returned %u but %u passengers boarded it", round,
                       car, admitted_by_car[car], seated[car]);
    workload_check(station_waiting(&station) == 0, "round %d: station_waiting"
                   "() is %u after everybody left", round,
                   station_waiting(&station));
}

int main(void)
{
    const int rounds = workload_rounds(30, 3);
    const double seconds = workload_under_valgrind() ? 60.0 : 5.0;
    const double quiet_seconds = workload_under_valgrind() ? 15.0 : 2.0;
    for (int round = 0; round < rounds; round++) {
        /* A fresh station per round: its cars are numbered from 1. */
        int error = station_init(&station);
        workload_check(error == 0, "station_init failed with %d", error);
        run_round(round, seconds, quiet_seconds);
        station_destroy(&station);
    }
    workload_finished();
    return 0;
}
