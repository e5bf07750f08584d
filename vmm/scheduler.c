/* The VM scheduler (see scheduler.h). */
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a VM became runnable or ended */
    struct vm **vms;
    bool *busy; /* stepped by a thread now */
    bool *ended;
    int n, left; /* VMs, and those not ended */
    int next;    /* round-robin start of the search */
    volatile sig_atomic_t *stop;
};

/* With the lock held: the index of a VM to run now, or -1; *wait_until is
 * the earliest idle_until of the idle VMs (0 if none). O(n) per pick. */
static int pick(struct pool *p, double now, double *wait_until)
{
    *wait_until = 0;
    for (int k = 0; k < p->n; k++) {
        int i = (p->next + k) % p->n;
        if (p->busy[i] || p->ended[i]) continue;
        double t = p->vms[i]->idle_until;
        /* A stop request wakes idle VMs so they end promptly. */
        if (t <= now || (p->stop && __atomic_load_n(p->stop, __ATOMIC_RELAXED))) {
            p->next = (i + 1) % p->n;
            return i;
        }
        if (*wait_until == 0 || t < *wait_until) *wait_until = t;
    }
    return -1;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (p->left > 0) {
        double until;
        int i = pick(p, vm_host_now(), &until);
        if (i < 0) {
            if (until == 0) {
                /* Every remaining VM is on another thread. */
                pthread_cond_wait(&p->wake, &p->lock);
            } else {
                /* CLOCK_REALTIME for the condvar: wait the same interval. */
                double dt = until - vm_host_now();
                if (dt > 0.020) dt = 0.020; /* and look at the stop flag now and then */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                long ns = ts.tv_nsec + (long)(dt > 0 ? dt * 1e9 : 0);
                ts.tv_sec += ns / 1000000000L;
                ts.tv_nsec = ns % 1000000000L;
                pthread_cond_timedwait(&p->wake, &p->lock, &ts);
            }
            continue;
        }
        p->busy[i] = true;
        pthread_mutex_unlock(&p->lock);
        struct vm *vm = p->vms[i];
        enum vm_step r = vm_step(vm, p->stop, vm_host_now() + SCHED_SLICE_S);
        pthread_mutex_lock(&p->lock);
        p->busy[i] = false;
        if (r == VM_STEP_END) {
            p->ended[i] = true;
            p->left--;
        }
        pthread_cond_broadcast(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int sched_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int sched_run(struct vm **vms, int n, int threads, volatile sig_atomic_t *stop)
{
    if (n <= 0) return 0;
    if (threads <= 0) threads = sched_default_threads();
    if (threads > n) threads = n;
    struct pool p = {.vms = vms, .n = n, .left = n, .stop = stop};
    p.busy = calloc((size_t)n, sizeof(bool));
    p.ended = calloc((size_t)n, sizeof(bool));
    pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
    if (!p.busy || !p.ended || !tids) {
        free(p.busy), free(p.ended), free(tids);
        return -1;
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.wake, NULL);
    for (int i = 0; i < n; i++) {
        vms[i]->yield_when_idle = true;
        vm_start(vms[i]);
    }
    int started = 0;
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, worker, &p) != 0) break;
        started++;
    }
    if (started == 0) {
        /* No thread: run the pool on this one. */
        worker(&p);
    }
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    pthread_cond_destroy(&p.wake);
    pthread_mutex_destroy(&p.lock);
    free(p.busy), free(p.ended), free(tids);
    return 0;
}
