# Runs first at every start (also before an mpremote session), so it stays minimal:
# the boot counter lives in main.py, counting only starts of the application, not
# host tool connections.
try:
    import micropython
    micropython.alloc_emergency_exception_buf(128)  # tracebacks even when the heap is full
except (ImportError, AttributeError):
    pass
import gc

gc.collect()
