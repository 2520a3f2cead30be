/*
 * no_model.c: an s8 image runs single kernels only (KERNEL_SETUP / LOAD /
 * RUN), so it carries an empty network: HELLO says 0 layers and a RUN
 * finishes at once with nothing to report.
 */
#include "hil_fw.h"
#include "hil_model.h"

const uint16_t hil_num_layers = 0;
const uint32_t hil_input_size = 0;
q7_t hil_input[4];
const uint8_t hil_model_hash[8] = {0};
const uint8_t hil_export_hash[8] = {0};
const char hil_model_name[] = "";
hil_layer_record_t hil_layer_records[1];

int32_t hil_model_run(void *user)
{
    (void)user;
    return 0;
}
