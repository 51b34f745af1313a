# Verdant firmware entry point. Runs the app; on a crash prints the exception, notes it
# for the boot counter and resets the board, so repeated crashes end in safe mode
# (rules only) instead of a crash loop. See verdant.app and verdant.safemode.
import sys

try:
    from verdant import app
    app.main()
except KeyboardInterrupt:
    raise  # Ctrl-C from the host: stop here and stay at the REPL
except Exception as exc:
    sys.print_exception(exc)
    try:
        from verdant.safemode import BootCounter
        BootCounter().record_crash("%s: %s" % (type(exc).__name__, exc))
    except Exception as note_exc:
        sys.print_exception(note_exc)
    try:
        import machine
        reset = machine.reset
    except (ImportError, AttributeError):  # the plain Unix port has no machine.reset
        sys.exit(1)
    reset()
