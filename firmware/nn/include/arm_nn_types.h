/*
 * arm_nn_types.h: enums of the CMSIS-NN legacy q7 API (hil portable backend).
 */
#ifndef ARM_NN_TYPES_H
#define ARM_NN_TYPES_H

typedef enum {
    ARM_SIGMOID = 0,
    ARM_TANH = 1
} arm_nn_activation_type;

#endif /* ARM_NN_TYPES_H */
