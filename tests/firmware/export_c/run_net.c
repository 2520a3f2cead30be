/*
 * run_net.c: drives one exported module (through net_alias.h, which maps the
 * net_* names below to the module's own) over many records read from stdin.
 *
 *   run_net run COUNT         q7 inputs in, q7 outputs out
 *   run_net layers COUNT      q7 inputs in, every layer's output out (run_traced)
 *   run_net names             "index name size" per layer, for one zero input
 *   run_net float COUNT       float32 inputs in, quantize_input + run, q7 out
 *   run_net quantize COUNT    float32 inputs in, quantize_input's q7 out
 *   run_net dequantize COUNT  q7 outputs in, dequantize_output's float32 out
 *   run_net errors            the statuses of calls the module must refuse
 *
 * Every buffer is malloc'ed to its exact size, so the sanitizers see any byte
 * the module touches outside them, and the scratch is refilled with a
 * different pattern before each run: a result that leaned on what an earlier
 * run left behind would differ from hil's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_alias.h"

static void die(const char *what)
{
    fprintf(stderr, "run_net: %s\n", what);
    exit(3);
}

static void *alloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL)
        die("out of memory");
    return p;
}

static void read_exact(void *buf, size_t size)
{
    if (fread(buf, 1, size, stdin) != size)
        die("short input");
}

static void write_exact(const void *buf, size_t size)
{
    if (fwrite(buf, 1, size, stdout) != size)
        die("short write");
}

static void scribble(void *scratch, unsigned run)
{
    uint8_t *p = scratch;
    for (uint32_t i = 0; i < NET_SCRATCH_SIZE; i++)
        p[i] = (uint8_t)(i * 131u + run * 29u + 7u);
}

/* The callback's view of one traced run: it checks the events arrive as
 * documented (BEGIN then END per layer, in order, status 0) and writes each
 * layer's output, or its name. */
typedef struct {
    int names;
    uint16_t next;  /* the layer the next BEGIN must name */
    int open;       /* BEGIN seen, END not yet */
} trace_t;

static void on_layer(void *user, int event, uint16_t layer, const char *name, q7_t *output,
                     uint32_t size, int32_t status)
{
    trace_t *t = user;
    if (event == NET_LAYER_BEGIN) {
        if (t->open || layer != t->next)
            die("BEGIN out of order");
        t->open = 1;
        return;
    }
    if (event != NET_LAYER_END || !t->open || layer != t->next || status != 0)
        die("END out of order or with a status");
    t->open = 0;
    t->next++;
    if (t->names)
        printf("%u %s %u\n", (unsigned)layer, name, (unsigned)size);
    else
        write_exact(output, size);
}

static int traced(const q7_t *in, q7_t *out, void *scratch, int names)
{
    trace_t t = {names, 0, 0};
    int status = net_run_traced(in, out, scratch, on_layer, &t);
    if (status == NET_OK && (t.open || t.next != NET_NUM_LAYERS))
        die("not every layer was traced");
    return status;
}

static int refusals(void)
{
    q7_t *in = alloc(NET_INPUT_SIZE), *out = alloc(NET_OUTPUT_SIZE);
    uint8_t *scratch = alloc(NET_SCRATCH_SIZE + NET_SCRATCH_ALIGN);
    memset(in, 0, NET_INPUT_SIZE);
    printf("null_input %d\n", net_run(NULL, out, scratch));
    printf("null_output %d\n", net_run(in, NULL, scratch));
    printf("null_scratch %d\n", net_run(in, out, NULL));
    printf("misaligned %d\n", net_run(in, out, scratch + 1));
    printf("aligned %d\n", net_run(in, out, scratch));
    free(in);
    free(out);
    free(scratch);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: run_net MODE [COUNT]");
    const char *mode = argv[1];
    if (strcmp(mode, "errors") == 0)
        return refusals();
    unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
    void *scratch = alloc(NET_SCRATCH_SIZE);
    q7_t *in = alloc(NET_INPUT_SIZE), *out = alloc(NET_OUTPUT_SIZE);
    int status = NET_OK;
    if (strcmp(mode, "names") == 0) {
        memset(in, 0, NET_INPUT_SIZE);
        status = traced(in, out, scratch, 1);
    }
    for (unsigned long i = 0; status == NET_OK && strcmp(mode, "names") != 0 && i < count; i++) {
        scribble(scratch, (unsigned)i);
        if (strcmp(mode, "run") == 0) {
            read_exact(in, NET_INPUT_SIZE);
            status = net_run(in, out, scratch);
            write_exact(out, NET_OUTPUT_SIZE);
        } else if (strcmp(mode, "layers") == 0) {
            read_exact(in, NET_INPUT_SIZE);
            status = traced(in, out, scratch, 0);
#if NET_HAS_QUANTISATION
        } else if (strcmp(mode, "float") == 0 || strcmp(mode, "quantize") == 0) {
            float *x = alloc(NET_INPUT_SIZE * sizeof(float));
            read_exact(x, NET_INPUT_SIZE * sizeof(float));
            net_quantize_input(x, in);
            free(x);
            if (strcmp(mode, "quantize") == 0) {
                write_exact(in, NET_INPUT_SIZE);
            } else {
                status = net_run(in, out, scratch);
                write_exact(out, NET_OUTPUT_SIZE);
            }
#endif
#if NET_HAS_DEQUANTIZE
        } else if (strcmp(mode, "dequantize") == 0) {
            float y[NET_OUTPUT_SIZE];
            read_exact(out, NET_OUTPUT_SIZE);
            net_dequantize_output(out, y);
            write_exact(y, sizeof y);
#endif
        } else {
            die("unknown mode");
        }
    }
    free(scratch);
    free(in);
    free(out);
    if (status != NET_OK) {
        fprintf(stderr, "run_net: the module returned %d\n", status);
        return 4;
    }
    return 0;
}
