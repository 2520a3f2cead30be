/*
 * Convolution loops shared by the convolution kernels. Every window is
 * clipped to the image (zero padding), so the fast variants' interior
 * assumptions never matter here.
 *
 * On cores with SMLAD, hil_nn_conv_hwc hands the work to
 * hil_nn_conv_widened (hil_nn_conv_simd.c); the loops here are the portable
 * path: two windows at a time copied into byte columns (im2col), every
 * filter run over them.
 */
#include "hil_nn_internal.h"

/* im2col's rows are often a few bytes long (small ch_in), where a
 * library call would cost more than the copy. */
static inline void copy_row(q7_t *dst, const q7_t *src, uint32_t n)
{
    if (n >= 16u) {
        memcpy(dst, src, n);
        return;
    }
    for (; n >= 4u; n -= 4u, dst += 4, src += 4) {
        memcpy(dst, src, 4);
    }
    for (; n > 0u; n--) {
        *dst++ = *src++;
    }
}

/* One window row that leaves the image sideways: zeros, then the pixels
 * inside (row is image row y's first byte), then zeros. */
static void clipped_row(const hil_nn_conv_geom *g, const q7_t *row, int32_t x0, q7_t *col)
{
    const uint32_t ch = g->ch_in;
    const uint32_t row_len = (uint32_t)g->k_x * ch;
    const int32_t kx0 = x0 < 0 ? -x0 : 0;
    const int32_t end = x0 + (int32_t)g->k_x > (int32_t)g->in_x ? (int32_t)g->in_x - x0
                                                                 : (int32_t)g->k_x;
    if (end <= kx0) {
        memset(col, 0, row_len);
        return;
    }
    const uint32_t left = (uint32_t)kx0 * ch;
    const uint32_t inside = (uint32_t)(end - kx0) * ch;
    if (left != 0u) {
        memset(col, 0, left);
    }
    copy_row(col + left, row + (uint32_t)(x0 + kx0) * ch, inside);
    if (left + inside != row_len) {
        memset(col + left + inside, 0, row_len - left - inside);
    }
}

void hil_nn_im2col(const hil_nn_conv_geom *g, const q7_t *in, int32_t y0, int32_t x0, q7_t *col)
{
    const uint32_t ch = g->ch_in;
    const uint32_t row_len = (uint32_t)g->k_x * ch;
    const uint32_t in_row = (uint32_t)g->in_x * ch;
    const int32_t x_inside = x0 >= 0 && x0 + (int32_t)g->k_x <= (int32_t)g->in_x;

    if (x_inside && y0 >= 0 && y0 + (int32_t)g->k_y <= (int32_t)g->in_y) {
        /* the usual case: the whole window inside the image */
        const q7_t *row = in + (uint32_t)y0 * in_row + (uint32_t)x0 * ch;
        for (uint32_t ky = g->k_y; ky > 0u; ky--, col += row_len, row += in_row) {
            copy_row(col, row, row_len);
        }
        return;
    }
    for (int32_t ky = 0; ky < (int32_t)g->k_y; ky++, col += row_len) {
        const int32_t y = y0 + ky;
        if (y < 0 || y >= (int32_t)g->in_y) {
            memset(col, 0, row_len);
        } else if (x_inside) {
            copy_row(col, in + (uint32_t)y * in_row + (uint32_t)x0 * ch, row_len);
        } else {
            clipped_row(g, in + (uint32_t)y * in_row, x0, col);
        }
    }
}

void hil_nn_filters(const q7_t *col, const q7_t *wt, const q7_t *bias, uint32_t k_len,
                    uint32_t ch_out, uint16_t bias_shift, uint16_t out_shift, q7_t *out)
{
    uint32_t co = 0;
    for (; co + 2u <= ch_out; co += 2u, wt += 2u * k_len) {
        int32_t a0 = hil_nn_acc_init(bias[co], bias_shift, out_shift);
        int32_t a1 = hil_nn_acc_init(bias[co + 1u], bias_shift, out_shift);
        hil_nn_dot2_q7(col, wt, wt + k_len, k_len, &a0, &a1);
        out[co] = hil_nn_requantise(a0, out_shift);
        out[co + 1u] = hil_nn_requantise(a1, out_shift);
    }
    if (co < ch_out) {
        const int32_t acc = hil_nn_acc_init(bias[co], bias_shift, out_shift);
        out[co] = hil_nn_requantise(hil_nn_dot_q7(col, wt, k_len, acc), out_shift);
    }
}

void hil_nn_filters2(const q7_t *col0, const q7_t *col1, const q7_t *wt, const q7_t *bias,
                     uint32_t k_len, uint32_t ch_out, uint16_t bias_shift, uint16_t out_shift,
                     q7_t *out0, q7_t *out1)
{
    uint32_t co = 0;
    for (; co + 2u <= ch_out; co += 2u, wt += 2u * k_len) {
        const int32_t i0 = hil_nn_acc_init(bias[co], bias_shift, out_shift);
        const int32_t i1 = hil_nn_acc_init(bias[co + 1u], bias_shift, out_shift);
        int32_t acc[4] = {i0, i1, i0, i1};
        hil_nn_dot2x2_q7(col0, col1, wt, wt + k_len, k_len, acc);
        out0[co] = hil_nn_requantise(acc[0], out_shift);
        out0[co + 1u] = hil_nn_requantise(acc[1], out_shift);
        out1[co] = hil_nn_requantise(acc[2], out_shift);
        out1[co + 1u] = hil_nn_requantise(acc[3], out_shift);
    }
    if (co < ch_out) {
        const int32_t acc = hil_nn_acc_init(bias[co], bias_shift, out_shift);
        out0[co] = hil_nn_requantise(hil_nn_dot_q7(col0, wt, k_len, acc), out_shift);
        out1[co] = hil_nn_requantise(hil_nn_dot_q7(col1, wt, k_len, acc), out_shift);
    }
}

void hil_nn_conv_hwc(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                     const q7_t *bias, q7_t *out, q7_t *col)
{
    if (hil_nn_conv_widened(g, in, wt, bias, out, col)) {
        return;
    }
    const uint32_t k_len = (uint32_t)g->k_x * g->k_y * g->ch_in;
    const uint32_t pixels = (uint32_t)g->out_x * g->out_y;
    q7_t *col1 = col + k_len;
    int32_t y0, x0;
    uint32_t p = 0;

    /* two output pixels per pass, like the genuine library's two columns */
    for (; p + 2u <= pixels; p += 2u, out += 2u * g->ch_out) {
        hil_nn_window(g, p, &y0, &x0);
        hil_nn_im2col(g, in, y0, x0, col);
        hil_nn_window(g, p + 1u, &y0, &x0);
        hil_nn_im2col(g, in, y0, x0, col1);
        hil_nn_filters2(col, col1, wt, bias, k_len, g->ch_out, g->bias_shift, g->out_shift, out,
                        out + g->ch_out);
    }
    if (p < pixels) {
        hil_nn_window(g, p, &y0, &x0);
        hil_nn_im2col(g, in, y0, x0, col);
        hil_nn_filters(col, wt, bias, k_len, g->ch_out, g->bias_shift, g->out_shift, out);
    }
}

void hil_nn_depthwise_hwc(const hil_nn_conv_geom *g, const q7_t *in, const q7_t *wt,
                          const q7_t *bias, q7_t *out)
{
    const uint32_t ch = g->ch_in;

    for (int32_t oy = 0; oy < (int32_t)g->out_y; oy++) {
        const int32_t y0 = oy * (int32_t)g->stride_y - (int32_t)g->pad_y;
        const int32_t ky0 = y0 < 0 ? -y0 : 0;
        const int32_t ky1 = y0 + (int32_t)g->k_y > (int32_t)g->in_y ? (int32_t)g->in_y - y0 : (int32_t)g->k_y;
        for (int32_t ox = 0; ox < (int32_t)g->out_x; ox++) {
            const int32_t x0 = ox * (int32_t)g->stride_x - (int32_t)g->pad_x;
            const int32_t kx0 = x0 < 0 ? -x0 : 0;
            const int32_t kx1 = x0 + (int32_t)g->k_x > (int32_t)g->in_x ? (int32_t)g->in_x - x0 : (int32_t)g->k_x;
            uint32_t c = 0;

            /* four channels per pass keeps four accumulators in registers */
            for (; c + 4u <= ch; c += 4u) {
                int32_t a0 = hil_nn_acc_init(bias[c], g->bias_shift, g->out_shift);
                int32_t a1 = hil_nn_acc_init(bias[c + 1u], g->bias_shift, g->out_shift);
                int32_t a2 = hil_nn_acc_init(bias[c + 2u], g->bias_shift, g->out_shift);
                int32_t a3 = hil_nn_acc_init(bias[c + 3u], g->bias_shift, g->out_shift);
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const q7_t *p = in + ((uint32_t)(y0 + ky) * g->in_x + (uint32_t)(x0 + kx0)) * ch + c;
                    const q7_t *w = wt + ((uint32_t)ky * g->k_x + (uint32_t)kx0) * ch + c;
                    for (int32_t kx = kx0; kx < kx1; kx++, p += ch, w += ch) {
                        a0 += (int32_t)p[0] * w[0];
                        a1 += (int32_t)p[1] * w[1];
                        a2 += (int32_t)p[2] * w[2];
                        a3 += (int32_t)p[3] * w[3];
                    }
                }
                out[c] = hil_nn_requantise(a0, g->out_shift);
                out[c + 1u] = hil_nn_requantise(a1, g->out_shift);
                out[c + 2u] = hil_nn_requantise(a2, g->out_shift);
                out[c + 3u] = hil_nn_requantise(a3, g->out_shift);
            }
            for (; c < ch; c++) {
                int32_t acc = hil_nn_acc_init(bias[c], g->bias_shift, g->out_shift);
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const q7_t *p = in + ((uint32_t)(y0 + ky) * g->in_x + (uint32_t)(x0 + kx0)) * ch + c;
                    const q7_t *w = wt + ((uint32_t)ky * g->k_x + (uint32_t)kx0) * ch + c;
                    for (int32_t kx = kx0; kx < kx1; kx++, p += ch, w += ch) {
                        acc += (int32_t)*p * *w;
                    }
                }
                out[c] = hil_nn_requantise(acc, g->out_shift);
            }
            out += ch;
        }
    }
}
