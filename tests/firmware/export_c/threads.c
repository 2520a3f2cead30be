/*
 * threads.c: one exported module (through net_alias.h) run by two threads at
 * once, each with its own scratch and its own inputs.
 *
 *   threads COUNT ROUNDS   reads 2 * COUNT q7 inputs from stdin; thread t runs
 *                          inputs [t * COUNT, (t + 1) * COUNT) ROUNDS times
 *                          and every round must give the first round's bytes;
 *                          writes the 2 * COUNT outputs in input order.
 *
 * The header promises the module keeps no state of its own, so the threads
 * may share everything but their scratch.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_alias.h"

typedef struct {
    const q7_t *inputs;
    q7_t *outputs;
    unsigned long count;
    unsigned long rounds;
    pthread_barrier_t *start;
    int failed;
} job_t;

static void *work(void *arg)
{
    job_t *job = arg;
    void *scratch = malloc(NET_SCRATCH_SIZE);
    q7_t *again = malloc(NET_OUTPUT_SIZE);
    if (scratch == NULL || again == NULL) {
        job->failed = 1;
        pthread_barrier_wait(job->start);
        return NULL;
    }
    pthread_barrier_wait(job->start); /* both threads run from here at once */
    for (unsigned long r = 0; r < job->rounds && !job->failed; r++) {
        for (unsigned long i = 0; i < job->count; i++) {
            const q7_t *in = job->inputs + i * NET_INPUT_SIZE;
            q7_t *out = job->outputs + i * NET_OUTPUT_SIZE;
            q7_t *dest = r == 0 ? out : again;
            if (net_run(in, dest, scratch) != NET_OK ||
                (r > 0 && memcmp(again, out, NET_OUTPUT_SIZE) != 0)) {
                job->failed = 1;
                break;
            }
        }
    }
    free(scratch);
    free(again);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: threads COUNT ROUNDS\n");
        return 2;
    }
    unsigned long count = strtoul(argv[1], NULL, 10), rounds = strtoul(argv[2], NULL, 10);
    size_t in_size = 2 * count * NET_INPUT_SIZE, out_size = 2 * count * NET_OUTPUT_SIZE;
    q7_t *inputs = malloc(in_size), *outputs = malloc(out_size);
    if (inputs == NULL || outputs == NULL || fread(inputs, 1, in_size, stdin) != in_size) {
        fprintf(stderr, "threads: short input\n");
        return 3;
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    job_t jobs[2];
    pthread_t threads[2];
    for (int t = 0; t < 2; t++) {
        jobs[t] = (job_t){inputs + t * count * NET_INPUT_SIZE, outputs + t * count * NET_OUTPUT_SIZE,
                          count, rounds, &start, 0};
        if (pthread_create(&threads[t], NULL, work, &jobs[t]) != 0) {
            fprintf(stderr, "threads: pthread_create failed\n");
            return 3;
        }
    }
    for (int t = 0; t < 2; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);
    if (jobs[0].failed || jobs[1].failed) {
        fprintf(stderr, "threads: a run failed or changed between rounds\n");
        return 4;
    }
    fwrite(outputs, 1, out_size, stdout);
    free(inputs);
    free(outputs);
    return 0;
}
