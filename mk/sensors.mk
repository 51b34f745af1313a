# Boards, sensor drivers and simulated sensors (engineer D).
.PHONY: test-sensors bench-sensors

SENSOR_TESTS := tests/device/test_board.py tests/device/test_machine_hal.py \
	$(wildcard tests/device/test_drivers_*.py) $(wildcard tests/device/test_sim_*.py)

# Only the board/driver/sim tests (all run inside the micropython Unix port).
test-sensors: setup
	$(PYTHON) -m pytest -q $(SENSOR_TESTS)

# Heap per driver and the cost of a simulated day of sampling (figures, not a test).
bench-sensors: setup
	cd tests/device && MICROPYPATH=$(abspath device):. $(MICROPYTHON) -X heapsize=8M bench_sensors.py
