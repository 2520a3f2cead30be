/*
 * kcall.c: the single kernel call. Function ids are HIL_FN_* from
 * hil_protocol.h; params are the scalar C parameters in C argument order.
 * The per-function tables (parameter counts, in-place test, switch cases)
 * are generated from the kernel catalogue (hil/kernels/catalogue.py, by
 * scripts/gen_kernels.py, into kcall_tables.h); this file holds the
 * argument-order macros they name. Used by KERNEL_RUN (single-kernel
 * runs); a network runs through its exported module, whose calls
 * hil/export/calls.py writes in the same argument orders, to the same
 * kernel objects.
 */
#include <string.h>

#include "hil_fw.h"

#define U(i) ((uint16_t)p[i])

/* Square convolutions: dim_im_in ch_im_in ch_im_out dim_kernel padding stride
 * bias_shift out_shift dim_im_out. */
#define SQUARE_CONV(f) \
    f(in, U(0), U(1), w, U(2), U(3), U(4), U(5), b, U(6), U(7), out, U(8), scratch, NULL)
/* Non-square: dim_im_in_x dim_im_in_y ch_im_in ch_im_out dim_kernel_x
 * dim_kernel_y padding_x padding_y stride_x stride_y bias_shift out_shift
 * dim_im_out_x dim_im_out_y. */
#define NONSQUARE_CONV(f)                                                               \
    f(in, U(0), U(1), U(2), w, U(3), U(4), U(5), U(6), U(7), U(8), U(9), b, U(10), U(11), \
      out, U(12), U(13), scratch, NULL)
/* Fully connected: dim_vec num_of_rows bias_shift out_shift. */
#define FC(f) f(in, w, U(0), U(1), U(2), U(3), b, out, scratch)
/* Pooling: dim_im_in ch_im_in dim_kernel padding stride dim_im_out. */
#define POOL(f) f(in, U(0), U(1), U(2), U(3), U(4), U(5), (q7_t *)scratch, out)
/* In place on the output buffer (hil_kernel_stage copied the input there): size. */
#define IN_PLACE(f) f(out, U(0))
/* Vector to vector: dim_vec. */
#define VECTOR(f) f(in, U(0), out)
/* In place: size int_width type. */
#define ACTIVATION(f) f(out, U(0), U(1), (arm_nn_activation_type)p[2])

#include "kcall_tables.h"

void hil_kernel_stage(uint8_t fn, const q7_t *in, q7_t *out, uint32_t bytes)
{
    if (in_place(fn) && in != out)
        memmove(out, in, bytes);
}

int32_t hil_kernel_call(uint8_t fn, const int32_t *p, uint8_t n, q7_t *in, const q7_t *w,
                        const q7_t *b, q7_t *out, q15_t *scratch)
{
    if (fn == 0 || fn > HIL_FN_COUNT)
        return HIL_KSTATUS_BAD_FUNCTION;
    if (n != n_params_of[fn])
        return HIL_KSTATUS_BAD_PARAMS;
    switch (fn) {
        KCALL_CASES
    default:
        return HIL_KSTATUS_BAD_FUNCTION;
    }
}
