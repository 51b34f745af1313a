# verdant_nn as a user C module in firmware (CMake-based ports: esp32, rp2):
#   make USER_C_MODULES=/path/to/verdant/device/native/micropython.cmake ...
add_library(usermod_verdant_nn INTERFACE)
target_sources(usermod_verdant_nn INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/mod_verdant_nn.c
    ${CMAKE_CURRENT_LIST_DIR}/nn_model.c
    ${CMAKE_CURRENT_LIST_DIR}/nn_kernel.c
    # Thumb MAC loop; empty on other architectures, where the C loop is used.
    ${CMAKE_CURRENT_LIST_DIR}/nn_dot4_thumb.S
)
target_include_directories(usermod_verdant_nn INTERFACE ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(usermod_verdant_nn INTERFACE NN_USE_THUMB_ASM)
target_link_libraries(usermod INTERFACE usermod_verdant_nn)
