/* MicroPython binding of the Verdant int8 kernel: module `verdant_nn`.
 *
 * One source for both builds: a dynamic native module (.mpy, MICROPY_ENABLE_DYNRUNTIME,
 * see Makefile) and a user C module compiled into firmware (micropython.mk/.cmake).
 *
 *   verdant_nn.check(model_buf[, crc]) -> arena_bytes
 *   verdant_nn.init(model_buf, arena)              arena: bytearray of exactly arena_bytes
 *   verdant_nn.run(model_buf, arena, input, output) -> None
 *
 * check verifies everything, the CRC too unless crc is False (a caller that has just
 * verified it, like verdant.engine's parser: the CRC is computed once per load). init
 * checks structure and values but not the CRC; run only runs the cheap structural guard
 * (NN_CHECK_GUARD: no CRC, no per-channel values), so no call can make the kernel read
 * out of bounds whatever happened to the buffers. run allocates nothing.
 */
#if defined(MICROPY_ENABLE_DYNRUNTIME)
#include "py/dynruntime.h"
#else
#include "py/runtime.h"
#endif

#include "nn_kernel.h"

/* Checks the model buffer; raises ValueError with the parser's message. */
static void check_model(mp_obj_t model_obj, uint32_t flags, nn_model *model) {
    mp_buffer_info_t info;
    nn_error err;
    mp_get_buffer_raise(model_obj, &info, MP_BUFFER_READ);
    if (nn_model_check((const uint8_t *)info.buf, info.len, flags, model, &err) != NN_OK) {
        char text[128];
        size_t len = nn_error_format(&err, text, sizeof text);
        mp_raise_type_arg(&mp_type_ValueError, mp_obj_new_str(text, len));
    }
}

/* Gets a writable buffer of exactly `expected` bytes or raises ValueError naming it. */
static uint8_t *exact_buffer(mp_obj_t obj, int flags, size_t expected, mp_rom_error_text_t wrong_size) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(obj, &info, flags);
    if (info.len != expected) {
        mp_raise_ValueError(wrong_size);
    }
    return (uint8_t *)info.buf;
}

static mp_obj_t verdant_nn_check(size_t n_args, const mp_obj_t *args) {
    nn_model model;
    check_model(args[0], n_args < 2 || mp_obj_is_true(args[1]) ? NN_CHECK_CRC : NN_CHECK_VALUES, &model);
    return mp_obj_new_int_from_uint(model.arena_bytes);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(verdant_nn_check_obj, 1, 2, verdant_nn_check);

static mp_obj_t verdant_nn_init(mp_obj_t model_obj, mp_obj_t arena_obj) {
    nn_model model;
    uint8_t *arena;
    check_model(model_obj, NN_CHECK_VALUES, &model);
    arena = exact_buffer(arena_obj, MP_BUFFER_WRITE, model.arena_bytes,
        MP_ERROR_TEXT("arena must be a bytearray of exactly check(model) bytes"));
    nn_init(&model, arena);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(verdant_nn_init_obj, verdant_nn_init);

static mp_obj_t verdant_nn_run(size_t n_args, const mp_obj_t *args) {
    nn_model model;
    uint8_t *arena, *input, *output;
    (void)n_args; /* exactly 4, enforced by MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN */
    check_model(args[0], NN_CHECK_GUARD, &model);
    arena = exact_buffer(args[1], MP_BUFFER_WRITE, model.arena_bytes,
        MP_ERROR_TEXT("arena must be a bytearray of exactly check(model) bytes"));
    input = exact_buffer(args[2], MP_BUFFER_READ, model.input_elements,
        MP_ERROR_TEXT("input must have exactly the model's input elements (bytes)"));
    output = exact_buffer(args[3], MP_BUFFER_WRITE, model.output_elements,
        MP_ERROR_TEXT("output must be a bytearray of exactly the model's output elements"));
    if ((input < arena + model.arena_bytes && arena < input + model.input_elements) ||
        (output < arena + model.arena_bytes && arena < output + model.output_elements)) {
        mp_raise_ValueError(MP_ERROR_TEXT("input and output must not overlap the arena"));
    }
    nn_run(&model, arena, (const int8_t *)input, (int8_t *)output);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(verdant_nn_run_obj, 4, 4, verdant_nn_run);

#if defined(MICROPY_ENABLE_DYNRUNTIME)

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_check, MP_OBJ_FROM_PTR(&verdant_nn_check_obj));
    mp_store_global(MP_QSTR_init, MP_OBJ_FROM_PTR(&verdant_nn_init_obj));
    mp_store_global(MP_QSTR_run, MP_OBJ_FROM_PTR(&verdant_nn_run_obj));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t verdant_nn_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_verdant_nn) },
    { MP_ROM_QSTR(MP_QSTR_check), MP_ROM_PTR(&verdant_nn_check_obj) },
    { MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&verdant_nn_init_obj) },
    { MP_ROM_QSTR(MP_QSTR_run), MP_ROM_PTR(&verdant_nn_run_obj) },
};
static MP_DEFINE_CONST_DICT(verdant_nn_globals, verdant_nn_globals_table);

const mp_obj_module_t verdant_nn_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&verdant_nn_globals,
};

MP_REGISTER_MODULE(MP_QSTR_verdant_nn, verdant_nn_module);

#endif
