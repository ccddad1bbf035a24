/*
 * Exercise 19: a platform where a car admits exactly as many waiting
 * passengers as it has seats.  Read README.md in this folder, then fix the
 * TODOs.
 */
#include "station.h"

#include <stddef.h>

/* Setting up and tearing down are done. */
int station_init(struct station *station)
{
    int error = pthread_mutex_init(&station->mutex, NULL);
    if (error != 0)
        return error;
    error = pthread_cond_init(&station->seats_offered, NULL);
    if (error != 0)
        goto no_seats_offered;
    error = pthread_cond_init(&station->seat_taken, NULL);
    if (error != 0)
        goto no_seat_taken;
    station->waiting = 0;
    station->free_seats = 0;
    station->car = 0;
    station->seat_hook = NULL;
    station->hook_context = NULL;
    return 0;

no_seat_taken:
    pthread_cond_destroy(&station->seats_offered);
no_seats_offered:
    pthread_mutex_destroy(&station->mutex);
    return error;
}

void station_destroy(struct station *station)
{
    pthread_cond_destroy(&station->seat_taken);
    pthread_cond_destroy(&station->seats_offered);
    pthread_mutex_destroy(&station->mutex);
}

unsigned long station_board(struct station *station)
{
    pthread_mutex_lock(&station->mutex);
    station->waiting++;
    /* TODO: a wait can end with no free seat (a spurious wake-up, or
     * another passenger took the last one first). */
    if (station->free_seats == 0)
        pthread_cond_wait(&station->seats_offered, &station->mutex);
    if (station->seat_hook != NULL) /* keep this between seeing the free */
        station->seat_hook(station, station->hook_context); /* seat and  */
    station->free_seats--;                                  /* taking it */
    station->waiting--;
    unsigned long car = station->car;
    /* TODO: the car waits for its last seat to be taken: tell it. */
    pthread_mutex_unlock(&station->mutex);
    return car;
}

unsigned station_load_car(struct station *station, unsigned capacity)
{
    /* TODO: this counts the waiting passengers before taking the mutex,
     * while passengers change the count under it. */
    unsigned admitted = station->waiting < capacity ? station->waiting
                                                    : capacity;
    pthread_mutex_lock(&station->mutex);
    station->car++;
    station->free_seats = admitted;
    /* TODO: this wakes one passenger; every waiting one must look. */
    pthread_cond_signal(&station->seats_offered);
    pthread_mutex_unlock(&station->mutex);
    /* TODO: the car leaves at once.  It must stay until every passenger it
     * admitted has taken a seat (wait on seat_taken). */
    return admitted;
}

unsigned station_waiting(struct station *station)
{
    /* TODO: read the count under the mutex. */
    return station->waiting;
}

void station_set_seat_hook(struct station *station, station_hook *hook,
                           void *context)
{
    pthread_mutex_lock(&station->mutex);
    station->seat_hook = hook;
    station->hook_context = context;
    pthread_mutex_unlock(&station->mutex);
}
