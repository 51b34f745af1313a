# Benchmark (not a test): heap kept per driver and the cost of one simulated day of
# sampling on the sim board, inside the Unix port. Run: make bench-sensors
import gc
import time

from verdant.board import build_sensors, load_board
from verdant.hal.sim import SimClock
from verdant.sim import make_sim_hal

ENV = {"air_temp_c": 20.0, "rh_pct": 60.0, "co2_ppm": 600, "light_lux": 1000.0,
       "soil_moisture_pct": 40.0, "soil_temp_c": 15.0}


def main():
    config = load_board("../../boards/sim.json")
    clock = SimClock(start_s=1767225600)
    sensors = build_sensors(config, make_sim_hal(config, clock, ENV))
    for s in sensors:
        gc.collect()
        before = gc.mem_alloc()
        s.measure()  # imports the driver module and builds the driver
        gc.collect()
        print("heap kept by %-14s %6d bytes (module + driver)" % (s.driver, gc.mem_alloc() - before))
    t0 = time.ticks_ms()
    reads = 0
    for minute in range(1440):
        for s in sensors:
            if (minute * 60) % s.period_s == 0:
                s.measure()
                reads += 1
        clock.advance_s(60)
    elapsed = time.ticks_diff(time.ticks_ms(), t0)
    print("one simulated day on the sim board: %d reads in %d ms (%.3f ms per read)"
          % (reads, elapsed, elapsed / reads))


main()
