/*
 * hil_model.h: the network as the firmware sees it.
 *
 * The network is the C module `hil export` writes (NAME.h, NAME.c,
 * NAME_weights.c); the host generates hil_model_glue.c, which defines the
 * symbols below from it (hil/firmware/codegen.py), so one firmware source
 * serves every model and runs exactly the code that is exported.
 */
#ifndef HIL_MODEL_H
#define HIL_MODEL_H

#include <stdint.h>
#include "arm_nn_math_types.h"

/* An s8 image (HIL_NN_FAMILY_S8) is built against the CMSIS-NN >= 4.0
 * headers, which have no q7_t/q15_t: the application's byte buffers keep
 * those names. */
#if defined(HIL_NN_FAMILY_S8) && !defined(HIL_Q7_NAMES)
#define HIL_Q7_NAMES
typedef int8_t q7_t;
typedef int16_t q15_t;
#endif

/* The module's layer events (NAME_LAYER_BEGIN / NAME_LAYER_END; the glue
 * checks that they agree). */
#define HIL_LAYER_BEGIN 0
#define HIL_LAYER_END 1

extern const uint16_t hil_num_layers;
extern const uint32_t hil_input_size;      /* bytes of the network input */
extern q7_t hil_input[];                   /* LOAD_INPUT writes here */
extern const uint8_t hil_model_hash[8];    /* first 8 bytes of the host's model hash */
extern const uint8_t hil_export_hash[8];   /* first 8 bytes of the export hash */
extern const char hil_model_name[];

/* What the last run left of each layer: the device holds one run (DETAIL
 * sends it again) and the counts of the run before, which a SUMMARY run's
 * counts are coded against. ticks[] alternates between the two runs. */
typedef struct {
    uint64_t ticks[2];
    uint32_t crc32;
    uint32_t size;
    int32_t status;
} hil_layer_record_t;
extern hil_layer_record_t hil_layer_records[];   /* hil_num_layers of them */

/* Runs the module on hil_input, calling hil_layer_event around every layer
 * with `user`; returns NAME_run_traced's status. */
int32_t hil_model_run(void *user);

/* runner.c: the per-layer callback (the module's NAME_callback_t). */
void hil_layer_event(void *user, int event, uint16_t layer, const char *name, q7_t *output,
                     uint32_t size, int32_t status);

#endif /* HIL_MODEL_H */
