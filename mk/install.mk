# The light host install in a fresh venv from PyPI (no TensorFlow): deploy and monitor must
# start, tensorflow must be absent. Not part of `make test` (it downloads ~60 MB).
LIGHT_VENV ?= build/light-venv

.PHONY: light-install-check
light-install-check:
	rm -rf $(LIGHT_VENV) && python3 -m venv $(LIGHT_VENV)
	$(LIGHT_VENV)/bin/pip install --quiet ./host
	$(LIGHT_VENV)/bin/verdant deploy --help >/dev/null
	$(LIGHT_VENV)/bin/verdant monitor --help >/dev/null
	! $(LIGHT_VENV)/bin/python -c "import tensorflow" 2>/dev/null
	@echo "light-install-check: deploy and monitor work without TensorFlow ($$(du -sh $(LIGHT_VENV) | cut -f1))"
