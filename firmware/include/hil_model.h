/*
 * hil_model.h: the network as the firmware sees it.
 *
 * The host generates model_data.c (hil/firmware/codegen.py) defining every
 * symbol below from a hil Network; one firmware source serves every model.
 * Activations live in hil_arena (ping-pong buffers planned on the host);
 * hil_scratch is the kernels' q15 scratch (bufferA / vec_buffer).
 */
#ifndef HIL_MODEL_H
#define HIL_MODEL_H

#include <stdint.h>
#include "arm_nnfunctions.h"

#define HIL_MAX_PARAMS 16

typedef struct {
    uint8_t function;                 /* HIL_FN_* id (hil_protocol.h) */
    uint8_t n_params;                 /* scalar parameters used */
    uint16_t params[HIL_MAX_PARAMS];  /* scalar C parameters, C argument order */
    const q7_t *weights;              /* NULL when the function takes none */
    const q7_t *bias;                 /* NULL when the function takes none */
    uint32_t in_offset;               /* byte offset of the input in hil_arena */
    uint32_t out_offset;              /* byte offset of the output in hil_arena */
    uint32_t in_size;                 /* input elements */
    uint32_t out_size;                /* output elements */
} hil_layer_t;

extern const hil_layer_t hil_layers[];
extern const uint16_t hil_num_layers;
extern const uint32_t hil_input_size;      /* elements of the network input */
extern const uint32_t hil_input_offset;    /* where the input goes in hil_arena */
extern q7_t hil_arena[];
extern const uint32_t hil_arena_size;      /* bytes */
extern q15_t hil_scratch[];
extern const uint32_t hil_scratch_size;    /* q15 elements */
extern const uint8_t hil_model_hash[8];    /* first 8 bytes of the host's model hash */
extern const char hil_model_name[];

#endif /* HIL_MODEL_H */
