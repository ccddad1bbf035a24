/*
 * Exercise 19, solved: a monitor.  One mutex guards the platform's counts;
 * passengers sleep on seats_offered until a car offers seats, the car
 * sleeps on seat_taken until its last seat is taken.
 */
#include "station.h"

#include <stddef.h>

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
    /* while, not if: the wake-up may be spurious, or another passenger
     * may have taken the last seat between the broadcast and our turn. */
    while (station->free_seats == 0)
        pthread_cond_wait(&station->seats_offered, &station->mutex);
    if (station->seat_hook != NULL)
        station->seat_hook(station, station->hook_context);
    /* Seeing the free seat and taking it happen under one lock: nobody
     * can take the same seat in between. */
    station->free_seats--;
    station->waiting--;
    unsigned long car = station->car;
    if (station->free_seats == 0)
        pthread_cond_signal(&station->seat_taken); /* only the car waits */
    pthread_mutex_unlock(&station->mutex);
    return car;
}

unsigned station_load_car(struct station *station, unsigned capacity)
{
    pthread_mutex_lock(&station->mutex);
    station->car++;
    /* The count is read and the seats offered in one critical section:
     * passengers who arrive later cannot make it too many. */
    unsigned admitted = station->waiting < capacity ? station->waiting
                                                    : capacity;
    if (admitted > 0) {
        station->free_seats = admitted;
        /* Every waiting passenger must look: signal would wake only one,
         * and the others would sleep through the car. */
        pthread_cond_broadcast(&station->seats_offered);
        /* The car leaves only when its last seat is taken. */
        while (station->free_seats > 0)
            pthread_cond_wait(&station->seat_taken, &station->mutex);
    }
    pthread_mutex_unlock(&station->mutex);
    return admitted;
}

unsigned station_waiting(struct station *station)
{
    pthread_mutex_lock(&station->mutex);
    unsigned waiting = station->waiting;
    pthread_mutex_unlock(&station->mutex);
    return waiting;
}

void station_set_seat_hook(struct station *station, station_hook *hook,
                           void *context)
{
    pthread_mutex_lock(&station->mutex);
    station->seat_hook = hook;
    station->hook_context = context;
    pthread_mutex_unlock(&station->mutex);
}
