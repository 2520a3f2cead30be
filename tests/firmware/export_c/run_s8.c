/*
 * run_s8.c: drives one exported s8 module (through net_alias.h, which maps the
 * net_* names below to the module's own) over float inputs read from stdin.
 *
 *   run_s8 COUNT    COUNT float32 inputs in; per input out: the int8 input
 *                   (quantize_input), every layer's output (run_traced), the
 *                   float32 output (dequantize_output)
 *   run_s8 errors   the statuses of calls the module must refuse
 *
 * Buffers are malloc'ed to their exact sizes, so the sanitizers see any byte
 * the module touches outside them, and the scratch is refilled with a new
 * pattern before each run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_alias.h"

static void die(const char *what)
{
    fprintf(stderr, "run_s8: %s\n", what);
    exit(3);
}

static void record(void *user, int event, uint16_t layer, const char *name, int8_t *output,
                   uint32_t size, int32_t status)
{
    (void)user;
    (void)layer;
    (void)name;
    if (event == NET_LAYER_END)
    {
        if (status != 0)
            die("a kernel failed");
        fwrite(output, 1, size, stdout);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: run_s8 COUNT | run_s8 errors");
    uint8_t *scratch = malloc(NET_SCRATCH_SIZE + NET_SCRATCH_ALIGN);
    float *x = malloc(NET_INPUT_SIZE * sizeof(float));
    int8_t *q = malloc(NET_INPUT_SIZE);
    int8_t *out = malloc(NET_OUTPUT_SIZE);
    float *y = malloc(NET_OUTPUT_SIZE * sizeof(float));
    if (!scratch || !x || !q || !out || !y)
        die("out of memory");
    if (strcmp(argv[1], "errors") == 0)
    {
        memset(q, 0, NET_INPUT_SIZE);
        printf("%d %d %d %d %d\n",
               net_run(NULL, out, scratch),
               net_run(q, NULL, scratch),
               net_run(q, out, NULL),
               net_run(q, out, scratch + 1),
               net_run(q, out, scratch));
        return 0;
    }
    long count = strtol(argv[1], NULL, 10);
    for (long i = 0; i < count; i++)
    {
        if (fread(x, sizeof(float), NET_INPUT_SIZE, stdin) != NET_INPUT_SIZE)
            die("short input");
        memset(scratch, (int)(0x5a + i), NET_SCRATCH_SIZE);
        net_quantize_input(x, q);
        fwrite(q, 1, NET_INPUT_SIZE, stdout);
        if (net_run_traced(q, out, scratch, record, NULL) != NET_OK)
            die("run failed");
        net_dequantize_output(out, y);
        fwrite(y, sizeof(float), NET_OUTPUT_SIZE, stdout);
    }
    free(scratch);
    free(x);
    free(q);
    free(out);
    free(y);
    return 0;
}
