# Verdant firmware entry point. The boot is counted first, before anything that can fail;
# then verdant.startup runs the app. A crash (MemoryError included) is noted for the boot
# counter and the board resets, so repeated crashes, or one MemoryError, end in safe mode
# (rules on raw readings, status lines, no model, no config.json); a crash in safe mode
# does not reset (that would loop) but keeps sending "halted" status lines.
import sys

counter = None
try:
    from verdant.safemode import BootCounter
    counter = BootCounter()
    counter.count_boot()
except Exception as exc:
    sys.print_exception(exc)

try:
    from verdant import startup
    startup.run(counter, seconds=startup.run_seconds())
except KeyboardInterrupt:
    raise  # Ctrl-C from the host: stop here and stay at the REPL
except Exception as exc:  # MemoryError too; SystemExit and the vboard's resets pass
    import gc
    gc.collect()  # the app is garbage now: room to report
    try:
        sys.print_exception(exc)
    except Exception:
        pass
    text = type(exc).__name__
    try:
        text = "%s: %s" % (text, exc)
    except Exception:
        pass
    safe = False
    try:  # did this start run in safe mode (its healthy period may have reset the count)?
        safe = sys.modules["verdant.startup"].safe_mode_now
    except Exception:
        pass
    try:
        counter.record_crash(text)
    except Exception as note_exc:
        sys.print_exception(note_exc)
    if safe:
        startup = sys.modules.get("verdant.startup")
        if startup is None:
            from verdant import startup
        try:  # the firmware's modules out of the heap: a crash while importing them left it full
            startup.forget_modules([name for name in sys.modules
                                    if name.startswith("verdant.") and name not in ("verdant.startup", "verdant.safemode")])
        except Exception:
            pass
        startup.halted("crashed in safe mode: " + text, lines=3 if startup.run_seconds() else None)
    else:
        try:
            import machine
            reset = machine.reset
        except (ImportError, AttributeError):  # the plain Unix port has no machine.reset
            sys.exit(1)
        reset()
