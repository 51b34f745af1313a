# verdant_nn as a user C module in firmware (make-based ports, e.g. unix, stm32):
#   make USER_C_MODULES=/path/to/verdant/device
# (the build includes every */micropython.mk below that directory: this one)
VERDANT_NN_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(VERDANT_NN_DIR)/mod_verdant_nn.c
SRC_USERMOD_LIB_C += $(VERDANT_NN_DIR)/nn_model.c $(VERDANT_NN_DIR)/nn_kernel.c
# Thumb MAC loop; the file is empty on other architectures, where the C loop is used.
SRC_USERMOD_LIB_ASM += $(VERDANT_NN_DIR)/nn_dot4_thumb.S
CFLAGS_USERMOD += -I$(VERDANT_NN_DIR) -DNN_USE_THUMB_ASM
