"""Run @micropython.viper functions under CPython the way a 32-bit board runs them.

Viper ints are machine words. The only MicroPython in the test suite is the x64
Unix port, where they are 64 bit; ESP32, ESP32-C3, RP2040 and RP2350 have 32-bit
words, so a wrap-around bug or a too-large literal would only show on a board.
`load_module(path)` reads a device module's source, rewrites each viper function
(ast) to compute as a 32-bit port does, and executes the module under CPython:

- every result of + - * & | ^ << and of unary - ~ wraps to a signed 32-bit word;
- >> is arithmetic (viper ints are signed); a shift count outside 0..31 raises
  ShiftCountError, since ARM, Xtensa, RISC-V and x86 disagree on such shifts;
- // and % floor like Python's small-int helpers that viper calls; a zero divisor
  raises ZeroDivisionError (the board would not);
- an int literal must be a 32-bit small int (|v| < 2^30): viper refuses others on
  those ports, so LiteralError is raised at load time with file and line;
- ptr8 / ptr16 loads zero-extend, ptr32 loads give the signed word; stores keep the
  low 8 / 16 / 32 bits (little-endian, as on all our boards); an index outside the
  buffer, or a store into a read-only one, raises MemoryAccessError (on a board it
  silently reads or overwrites other memory);
- an argument annotated int is truncated to a word (mp_obj_get_int_truncated), as is
  int(x) inside viper; a viper int returned to Python is the signed word;
- module-level code sees sys.maxsize == 2**31 - 1, as on the board.

Only what our viper code uses is modelled: signed int values, int / ptr8 / ptr16 /
ptr32 arguments, range loops, int() and const() names. Anything else (uint, calls
to Python functions, globals that are objects, floats, /, **) raises
NotModelledError at load time, so a kernel needing more makes this file grow
instead of passing untested.

    ops = load_module("device/verdant/engine/ops_viper.py")
    ops.ViperLayers(model).run(src, dst)     # the module's own Python code, 32-bit viper inside
"""
import ast
import builtins
import os
import struct
import sys
import types

WORD_BITS = 32
SMALL_INT_LIMIT = 1 << 30  # small ints of a 32-bit port: -2^30 <= v < 2^30
PORT_MAXSIZE = (1 << 31) - 1
POINTER_WIDTHS = {"ptr8": 1, "ptr16": 2, "ptr32": 4}
_MASK = 0xFFFFFFFF
_SIGN = 0x80000000
_WORD = struct.Struct("<i")
_UWORD = struct.Struct("<I")
_HALF = struct.Struct("<H")


class Viper32Error(Exception):
    """The code would misbehave on a 32-bit port, or be refused by its viper compiler."""


class LiteralError(Viper32Error):
    """An int literal in a viper function is not a 32-bit small int."""


class ShiftCountError(Viper32Error):
    """A shift by a count outside 0..31."""


class MemoryAccessError(Viper32Error):
    """A pointer access outside its buffer, or a store into a read-only buffer."""


class NotModelledError(Viper32Error):
    """The viper function uses something this harness does not emulate."""


def wrap32(value):
    """value as a signed 32-bit word (two's complement wrap-around)."""
    value &= _MASK
    return value - 0x100000000 if value & _SIGN else value


# ---- the arithmetic of a 32-bit viper int ---------------------------------------------

def _add(a, b):
    v = (a + b) & _MASK
    return v - 0x100000000 if v & _SIGN else v


def _sub(a, b):
    v = (a - b) & _MASK
    return v - 0x100000000 if v & _SIGN else v


def _mul(a, b):
    v = (a * b) & _MASK
    return v - 0x100000000 if v & _SIGN else v


def _and(a, b):
    return wrap32(a & b)


def _or(a, b):
    return wrap32(a | b)


def _xor(a, b):
    return wrap32(a ^ b)


def _shift_count(count, site):
    if not 0 <= count < WORD_BITS:
        raise ShiftCountError("%s: shift count %d outside 0..31" % (site, count))


def _lshift(a, b, site):
    _shift_count(b, site)
    return wrap32(a << b)


def _rshift(a, b, site):
    _shift_count(b, site)
    return wrap32(a) >> b  # arithmetic: the operand is a signed word


def _floordiv(a, b, site):
    if b == 0:
        raise ZeroDivisionError("%s: viper division by zero" % site)
    return wrap32(a // b)


def _mod(a, b, site):
    if b == 0:
        raise ZeroDivisionError("%s: viper modulo by zero" % site)
    return wrap32(a % b)


def _neg(a):
    return wrap32(-a)


def _invert(a):
    return wrap32(~a)


def _to_word(value, what):
    """mp_obj_get_int_truncated: a Python int (or bool) as a machine word."""
    if isinstance(value, int):
        return wrap32(value)
    raise TypeError("%s: can't convert %s to int" % (what, type(value).__name__))


_BINARY = {ast.Add: "_v32_add", ast.Sub: "_v32_sub", ast.Mult: "_v32_mul",
           ast.BitAnd: "_v32_and", ast.BitOr: "_v32_or", ast.BitXor: "_v32_xor"}
_BINARY_WITH_SITE = {ast.LShift: "_v32_lshift", ast.RShift: "_v32_rshift",
                     ast.FloorDiv: "_v32_floordiv", ast.Mod: "_v32_mod"}
RUNTIME = {"_v32_add": _add, "_v32_sub": _sub, "_v32_mul": _mul, "_v32_and": _and, "_v32_or": _or,
           "_v32_xor": _xor, "_v32_lshift": _lshift, "_v32_rshift": _rshift, "_v32_floordiv": _floordiv,
           "_v32_mod": _mod, "_v32_neg": _neg, "_v32_invert": _invert, "_v32_int": _to_word}


# ---- pointers ----------------------------------------------------------------------------

class Pointer:
    """A ptr8/ptr16/ptr32 argument: the object's buffer seen as a board sees memory."""

    def __init__(self, obj, kind, where):
        try:
            view = memoryview(obj)
        except TypeError:
            raise NotModelledError("%s: %s argument of type %s has no buffer (viper would take it as an address)"
                                   % (where, kind, type(obj).__name__))
        self.view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        self.width = POINTER_WIDTHS[kind]
        self.size = self.view.nbytes
        self.where = where
        self.kind = kind

    def _offset(self, index):
        offset = index * self.width
        if index < 0 or offset + self.width > self.size:
            raise MemoryAccessError("%s: %s[%d] is outside its %d-byte buffer" % (self.where, self.kind, index, self.size))
        return offset

    def __getitem__(self, index):
        offset = self._offset(index)
        if self.width == 1:
            return self.view[offset]                          # zero-extended byte
        if self.width == 2:
            return _HALF.unpack_from(self.view, offset)[0]    # zero-extended half word
        return _WORD.unpack_from(self.view, offset)[0]        # the word, signed

    def __setitem__(self, index, value):
        offset = self._offset(index)
        if self.view.readonly:
            raise MemoryAccessError("%s: store into %s[%d] of a read-only buffer" % (self.where, self.kind, index))
        value = _to_word(value, self.where)
        if self.width == 1:
            self.view[offset] = value & 0xFF                  # strb keeps the low byte
        elif self.width == 2:
            _HALF.pack_into(self.view, offset, value & 0xFFFF)
        else:
            _UWORD.pack_into(self.view, offset, value & _MASK)


# ---- the viper decorator of the emulated port ---------------------------------------------

def viper(function):
    """Wrap a rewritten viper function: arguments and result cross the boundary as on
    a 32-bit port. Annotations were turned into strings by the rewrite."""
    code = function.__code__
    params = code.co_varnames[:code.co_argcount]
    annotations = function.__annotations__
    kinds = []
    for name in params:
        kind = annotations.get(name)
        if kind != "int" and kind not in POINTER_WIDTHS:
            raise NotModelledError("viper function %s: argument %s annotated %r; only int and ptr8/16/32 are modelled"
                                   % (function.__name__, name, kind))
        kinds.append(kind)
    returns = annotations.get("return")
    if returns not in (None, "int"):
        raise NotModelledError("viper function %s returns %r; only int or no annotation is modelled"
                               % (function.__name__, returns))

    def call(*args):
        if len(args) != len(kinds):
            raise TypeError("%s takes %d positional arguments but %d were given"
                            % (function.__name__, len(kinds), len(args)))
        converted = []
        for name, kind, value in zip(params, kinds, args):
            where = "%s(%s)" % (function.__name__, name)
            converted.append(_to_word(value, where) if kind == "int" else Pointer(value, kind, where))
        result = function(*converted)
        return wrap32(result) if isinstance(result, int) and not isinstance(result, bool) else result

    call.__name__ = function.__name__
    call.__doc__ = function.__doc__
    call.__wrapped__ = function
    return call


def _port_module(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


class _PortSys(types.ModuleType):
    """sys as a 32-bit port shows it: maxsize 2^31 - 1, the rest from the real sys."""
    maxsize = PORT_MAXSIZE

    def __getattr__(self, name):
        return getattr(sys, name)


PORT_MODULES = {
    "sys": _PortSys("sys"),
    "micropython": _port_module("micropython", viper=viper, native=lambda f: f, const=lambda x: x),
}


def _port_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name in PORT_MODULES:
        return PORT_MODULES[name]
    return builtins.__import__(name, globals, locals, fromlist, level)


# ---- the rewrite -----------------------------------------------------------------------------

def _is_viper(node):
    return any(isinstance(d, ast.Attribute) and d.attr == "viper" and isinstance(d.value, ast.Name)
               and d.value.id == "micropython" for d in node.decorator_list)


_ALLOWED_STATEMENTS = (ast.Assign, ast.AugAssign, ast.For, ast.While, ast.If, ast.Return, ast.Pass,
                       ast.Break, ast.Continue, ast.Expr)
_ALLOWED_EXPRESSIONS = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Constant, ast.Name,
                        ast.Subscript, ast.Call)
_CALLABLES = ("int", "range")


def _const_value(node, consts):
    """Value of a const() argument: int literals, earlier consts, + - * << >> | & ^ ~."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Invert)):
        v = _const_value(node.operand, consts)
        return -v if isinstance(node.op, ast.USub) else ~v
    if isinstance(node, ast.BinOp):
        a, b = _const_value(node.left, consts), _const_value(node.right, consts)
        ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b, ast.BitOr: a | b, ast.BitAnd: a & b,
               ast.BitXor: a ^ b}
        if isinstance(node.op, ast.LShift):
            return a << b
        if isinstance(node.op, ast.RShift):
            return a >> b
        if type(node.op) in ops:
            return ops[type(node.op)]
    raise NotModelledError("line %d: const() of something other than an integer expression" % node.lineno)


def module_consts(tree):
    """NAME = const(expr) at module level: MicroPython substitutes these in viper code."""
    consts = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "const" and len(node.value.args) == 1):
            consts[node.targets[0].id] = _const_value(node.value.args[0], consts)
    return consts


class _ViperRewriter(ast.NodeTransformer):
    """Turns one viper function's body into CPython code with 32-bit word arithmetic."""

    def __init__(self, filename, function, consts):
        self.filename = os.path.basename(filename)
        self.function = function
        self.consts = consts
        self.locals = {a.arg for a in function.args.args}
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.locals.add(node.id)

    def site(self, node):
        return "%s:%d in %s" % (self.filename, node.lineno, self.function.name)

    def refuse(self, node, what):
        raise NotModelledError("%s: %s" % (self.site(node), what))

    def rewrite(self):
        fn = self.function
        args = fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.posonlyargs:
            self.refuse(fn, "only plain positional arguments are modelled")
        for arg in args.args:  # annotations become strings the port's viper decorator reads
            arg.annotation = ast.Constant(ast.unparse(arg.annotation)) if arg.annotation else None
        fn.returns = ast.Constant(ast.unparse(fn.returns)) if fn.returns else None
        for i, statement in enumerate(fn.body):
            is_docstring = (i == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                            and isinstance(statement.value.value, str))
            if not is_docstring:
                self.check(statement)
        fn.body = [self.visit(statement) for statement in fn.body]
        return fn

    def check(self, tree):
        """Refuse, before running anything, constructs the emulation does not cover."""
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and not isinstance(node, _ALLOWED_STATEMENTS):
                self.refuse(node, "%s statements are not modelled" % type(node).__name__)
            if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Call):
                self.refuse(node, "bare expression statement")
            if isinstance(node, ast.expr) and not isinstance(node, _ALLOWED_EXPRESSIONS):
                self.refuse(node, "%s expressions are not modelled" % type(node).__name__)
            if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY and type(node.op) not in _BINARY_WITH_SITE:
                self.refuse(node, "operator %s on viper ints is not modelled" % type(node.op).__name__)
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn))
                                                     for op in node.ops):
                self.refuse(node, "is / in comparisons are not modelled")
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.func.id not in _CALLABLES or node.keywords:
                    self.refuse(node, "call of %s: only int() and range() are modelled" % ast.unparse(node.func))
                if node.func.id == "int" and len(node.args) != 1:
                    self.refuse(node, "int() with %d arguments" % len(node.args))
            if isinstance(node, ast.For) and not (isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Name)
                                                  and node.iter.func.id == "range"):
                self.refuse(node, "for loops other than over range() are not modelled")
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
                self.refuse(node, "slices are not modelled")
            if isinstance(node, ast.Constant) and not isinstance(node.value, (bool, int)) and node.value is not None:
                self.refuse(node, "%s literal in viper code is not modelled" % type(node.value).__name__)
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(not isinstance(t, (ast.Name, ast.Subscript)) for t in targets):
                    self.refuse(node, "tuple or attribute assignment is not modelled")
            if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in self.locals
                    and node.id not in _CALLABLES and node.id not in self.consts):
                self.refuse(node, "global %r is a Python object inside viper (make it a const() or pass it in)"
                            % node.id)

    def call(self, name, node, *args):
        return ast.copy_location(ast.Call(ast.Name(name, ast.Load()), list(args), []), node)

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and not -SMALL_INT_LIMIT < value < SMALL_INT_LIMIT:
            raise LiteralError("%s: literal %d is not a small int on 32-bit ports, viper refuses it "
                               "(build the value at run time)" % (self.site(node), value))
        return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id not in self.locals and node.id in self.consts:
            return self.visit_Constant(ast.copy_location(ast.Constant(self.consts[node.id]), node))
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        op = type(node.op)
        if op in _BINARY:
            return self.call(_BINARY[op], node, node.left, node.right)
        return self.call(_BINARY_WITH_SITE[op], node, node.left, node.right, ast.Constant(self.site(node)))

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub):
            if isinstance(node.operand, ast.Constant):
                return node  # -128: a negative literal, folded by the compiler
            return self.call("_v32_neg", node, node.operand)
        if isinstance(node.op, ast.Invert):
            return self.call("_v32_invert", node, node.operand)
        if isinstance(node.op, ast.UAdd):
            return node.operand
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        target = node.target
        if isinstance(target, ast.Name):
            current = ast.Name(target.id, ast.Load())
        else:
            current = ast.Subscript(target.value, target.slice, ast.Load())
        value = self.visit_BinOp(ast.copy_location(ast.BinOp(current, node.op, node.value), node))
        return ast.copy_location(ast.Assign([target], value), node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if node.func.id == "int":
            return self.call("_v32_int", node, node.args[0], ast.Constant(self.site(node)))
        return node


def rewrite_viper_functions(tree, filename):
    """Rewrite every @micropython.viper function of the module tree in place; returns their names."""
    consts = module_consts(tree)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _is_viper(node):
            _ViperRewriter(filename, node, consts).rewrite()
            names.append(node.name)
    ast.fix_missing_locations(tree)
    return names


def load_source(source, filename, name="viper32_module"):
    """Execute module source with its viper functions emulated; returns the module.
    Its imports of sys and micropython get the 32-bit port's versions."""
    tree = ast.parse(source, filename)
    names = rewrite_viper_functions(tree, filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    port_builtins = dict(vars(builtins))
    port_builtins["__import__"] = _port_import
    module.__dict__.update(RUNTIME)
    module.__dict__["__builtins__"] = port_builtins
    exec(compile(tree, filename, "exec"), module.__dict__)
    module.VIPER32_FUNCTIONS = tuple(names)
    return module


def load_module(path, name=None):
    """load_source of a file; name defaults to the file's base name + '_32bit'."""
    with open(path) as f:
        source = f.read()
    return load_source(source, path, name or os.path.splitext(os.path.basename(path))[0] + "_32bit")
