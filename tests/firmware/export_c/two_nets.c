/*
 * two_nets.c: one program that links two exports, cifar and lenet.
 *
 *   two_nets cifar|lenet COUNT   q7 inputs of that network in, its outputs out
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "lenet.h"

/* One scratch for both: a program that runs its networks one after another
 * needs only the larger. */
#define SCRATCH_SIZE (CIFAR_SCRATCH_SIZE > LENET_SCRATCH_SIZE ? CIFAR_SCRATCH_SIZE : LENET_SCRATCH_SIZE)
static uint32_t scratch[(SCRATCH_SIZE + 3) / 4];

typedef int (*run_t)(const q7_t *input, q7_t *output, void *scratch);

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: two_nets cifar|lenet COUNT\n");
        return 2;
    }
    int cifar = strcmp(argv[1], "cifar") == 0;
    run_t run = cifar ? cifar_run : lenet_run;
    size_t in_size = cifar ? CIFAR_INPUT_SIZE : LENET_INPUT_SIZE;
    size_t out_size = cifar ? CIFAR_OUTPUT_SIZE : LENET_OUTPUT_SIZE;
    q7_t in[CIFAR_INPUT_SIZE > LENET_INPUT_SIZE ? CIFAR_INPUT_SIZE : LENET_INPUT_SIZE];
    q7_t out[CIFAR_OUTPUT_SIZE > LENET_OUTPUT_SIZE ? CIFAR_OUTPUT_SIZE : LENET_OUTPUT_SIZE];
    for (unsigned long i = strtoul(argv[2], NULL, 10); i > 0; i--) {
        if (fread(in, 1, in_size, stdin) != in_size) {
            fprintf(stderr, "two_nets: short input\n");
            return 3;
        }
        if (run(in, out, scratch) != 0) {
            fprintf(stderr, "two_nets: %s_run failed\n", argv[1]);
            return 4;
        }
        fwrite(out, 1, out_size, stdout);
    }
    return 0;
}
