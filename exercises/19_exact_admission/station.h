/*
 * Exercise 19: exact admission.  Passenger threads wait on a platform; a
 * car with `capacity` seats pulls in, takes exactly as many of them as it
 * has seats for (all of them if fewer wait), and leaves only once every
 * passenger it admitted has taken a seat.
 */
#ifndef STATION_H
#define STATION_H

#include <pthread.h>

struct station;

/* A test hook: see station_set_seat_hook. */
typedef void station_hook(struct station *station, void *context);

/*
 * The fields are public only so that a station can live on the stack or
 * inside another struct: use the functions below, never the fields.
 */
struct station {
    pthread_mutex_t mutex;        /* guards every field below */
    pthread_cond_t seats_offered; /* passengers wait here for a free seat */
    pthread_cond_t seat_taken;    /* the car waits here for its passengers */
    unsigned waiting;             /* passengers on the platform, not seated */
    unsigned free_seats;          /* seats the car at the platform offers and
                                     nobody has taken yet (0: no car) */
    unsigned long car;            /* number of the last car that arrived */
    station_hook *seat_hook;      /* NULL unless a test set one */
    void *hook_context;
};

/*
 * Makes an empty platform with no car.  Returns 0, or the error number of
 * the pthread call that failed; then nothing is left to destroy.
 */
int station_init(struct station *station);

/* Frees what station_init made.  No thread may use the station any more. */
void station_destroy(struct station *station);

/*
 * A passenger: waits on the platform until a car offers it a seat, takes
 * the seat and returns the number of that car.  Cars are numbered 1, 2, 3
 * ... in the order of their station_load_car calls (empty cars count too).
 * A waiting passenger sleeps; it uses no CPU.
 */
unsigned long station_board(struct station *station);

/*
 * A car with `capacity` seats arrives.  It admits exactly
 * min(capacity, passengers waiting now) passengers, and returns that
 * number only once every one of them has taken its seat (returned or about
 * to return from station_board with this car's number).  With no seats or
 * nobody waiting it returns 0 at once.  When it returns the car has left:
 * nobody boards it afterwards.
 * Cars come one after the other: calls of station_load_car never overlap.
 */
unsigned station_load_car(struct station *station, unsigned capacity);

/* How many passengers wait on the platform now (it may change as soon as
 * this returns). */
unsigned station_waiting(struct station *station);

/*
 * For tests: makes station_board call hook(station, context) when the
 * passenger has seen a free seat and before it takes it, with the mutex
 * held; the hook does not release the mutex.  A test's hook pauses there:
 * if a second passenger could reach the same seat meanwhile (because the
 * check and the take are not in one critical section), the test sees two
 * passengers at the seat.  NULL removes the hook.
 */
void station_set_seat_hook(struct station *station, station_hook *hook,
                           void *context);

#endif
