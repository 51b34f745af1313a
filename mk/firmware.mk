# Firmware application (device/verdant/{app,sampler,features,alerts,protocol,flashlog}.py).

.PHONY: firmware-test firmware-bench
# Only the firmware app's tests (device tests in the Unix port + the CPython feature test).
firmware-test: setup
	$(PYTHON) -m pytest -q tests/host/test_features_host.py tests/device/test_sampler.py \
	  tests/device/test_features.py tests/device/test_alerts.py tests/device/test_rules.py \
	  tests/device/test_protocol.py tests/device/test_flashlog.py tests/device/test_app*.py \
	  tests/device/test_boot.py

# Time and heap of the app's steps and of a simulated day (figures, no pass/fail).
firmware-bench: setup
	cd tests/device && MICROPYPATH=$(CURDIR)/device:$(CURDIR)/tests/device:.frozen $(MICROPYTHON) -X heapsize=8M bench_firmware.py
