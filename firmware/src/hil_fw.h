/*
 * hil_fw.h: internal interfaces between the firmware application's parts
 * (frame codec, dispatcher, layer runner, kernel call table, fault reporter).
 */
#ifndef HIL_FW_H
#define HIL_FW_H

#include <stddef.h>
#include <stdint.h>

#include "arm_nnfunctions.h"
#include "hil_protocol.h"

/* An s8 image (HIL_NN_FAMILY_S8) is built against the CMSIS-NN >= 4.0
 * headers, which have no q7_t/q15_t: the application's byte buffers keep
 * those names. */
#if defined(HIL_NN_FAMILY_S8) && !defined(HIL_Q7_NAMES)
#define HIL_Q7_NAMES
typedef int8_t q7_t;
typedef int16_t q15_t;
#endif

/* crc32.c: CRC-32 (IEEE 802.3, reflected, table-driven). Pass 0 to start. */
uint32_t hil_crc32(uint32_t crc, const void *data, size_t len);

/* frame.c: one frame out is begin + bytes... + end; the payload length is
 * declared up front so nothing is buffered beyond one COBS block. */
void hil_tx_begin(uint8_t type, uint16_t seq, uint16_t length);
void hil_tx_bytes(const void *data, size_t len);
void hil_tx_end(void);
void hil_send(uint8_t type, uint16_t seq, const void *a, size_t a_len,
              const void *b, size_t b_len);
void hil_send_error(uint16_t seq, uint16_t status, uint8_t request_type, const char *detail);
void hil_send_ack(uint16_t seq, uint16_t status, uint32_t value);

/* Blocks until a frame with a valid CRC arrives; answers corrupt or
 * oversized frames with ERROR itself. The returned pointers stay valid
 * until the next call. */
const hil_header_t *hil_recv(const uint8_t **payload);

/* dispatch.c */
void hil_dispatch(const hil_header_t *hdr, const uint8_t *payload);
void hil_send_hello(uint16_t seq);

/* runner.c: runs the network on the input already in hil_input and holds
 * what each layer left (hil_layer_records) until the next run.
 * hil_send_detail sends the held run's LAYER_DONE frames and RUN_DONE again;
 * hil_forget_run drops it (the kernel arena may overlay its buffers). */
void hil_run_network(uint16_t seq, uint8_t dump, uint16_t max_chunk, uint16_t base);
void hil_send_layer_done(uint16_t seq, uint16_t layer);
void hil_send_detail(uint16_t seq, uint16_t run_seq);
void hil_forget_run(void);
/* From the fault handler: the LAYER_DONE frames of the layers a SUMMARY run
 * finished before the fault (a streamed run has sent them already). */
void hil_send_finished_layers(uint16_t seq);

/* kernel.c: the kernel-conformance arena and its messages. */
void hil_kernel_setup(uint16_t seq, const uint8_t *payload, uint16_t len);
void hil_kernel_load(uint16_t seq, const uint8_t *payload, uint16_t len);
void hil_kernel_run(uint16_t seq, const uint8_t *payload, uint16_t len);
extern const uint32_t hil_kernel_arena_bytes;

/* kcall.c: the one table from function id to the arm_* call.
 * hil_kernel_stage copies the input into the output buffer for the in-place
 * functions (arm_relu_q7, arm_nn_activations_direct_q7), outside the timed
 * region; hil_kernel_call then runs on the output buffer. */
void hil_kernel_stage(uint8_t function, const q7_t *in, q7_t *out, uint32_t bytes);
int32_t hil_kernel_call(uint8_t function, const int32_t *params, uint8_t n_params,
                        q7_t *in, const q7_t *weights, const q7_t *bias, q7_t *out,
                        q15_t *scratch);

/* kcheck.c: a KERNEL_RUN checked before the call. sizes[] are the bytes of
 * the input, weights, bias and output regions (each followed by
 * HIL_KERNEL_REGION_PAD more readable bytes) and of the scratch. Returns
 * HIL_KSTATUS_SUCCESS or why the call is refused (BAD_FUNCTION, BAD_PARAMS,
 * PARAM_RANGE, REGION_SIZE); *param is then the refused parameter's index
 * (PARAM_RANGE) or region (REGION_SIZE), otherwise 0xFF. */
#define HIL_KREGION_COUNT (HIL_REGION_SCRATCH + 1u)   /* HIL_REGION_INPUT .. SCRATCH */
#define HIL_KERNEL_REGION_PAD 4u
int32_t hil_kernel_check(uint8_t function, const int32_t *params, uint8_t n_params,
                         const uint32_t sizes[HIL_KREGION_COUNT], uint8_t *param);

/* Sends the bytes of out[0..size) as *_OUTPUT chunks of at most max_chunk
 * bytes (0: as many as fit; dump ALL) and returns their CRC-32 (0 for dump
 * NONE). */
uint32_t hil_send_output(uint16_t seq, uint8_t msg, uint16_t index, const q7_t *out,
                         uint32_t size, uint8_t dump, uint16_t max_chunk);

/* fault.c: what was running when a fault hits, for the FAULT frame. */
void hil_fault_context_set(uint8_t context, uint16_t index, uint16_t seq);

#endif /* HIL_FW_H */
