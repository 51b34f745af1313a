# A fleet on a real broker (docs/mqtt.md): N virtual boards, a private Mosquitto, one monitor.
BOARDS ?= 3

.PHONY: fleet-demo
fleet-demo: setup
	$(VENV)/bin/verdant fleet-demo --boards $(BOARDS)

# Boards x messages/s the broker + fleet monitor sustain with nothing lost -> BENCHMARKS.md (own block).
.PHONY: fleet-bench
fleet-bench: setup
	$(PYTHON) -m verdant_host.fleet_bench --out BENCHMARKS.md
