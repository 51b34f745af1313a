#!/bin/bash
# Heap figures of the whole firmware on the sim board for BENCHMARKS.md ("Firmware heap"):
# tests/device/budget_firmware.py (2 simulated days: code, steady state, peak) and
# tests/device/bench_sample_alloc.py (bytes per 15-min sample and per inference) and
# tests/device/bench_stage_alloc.py (the same per stage), on each
# interpreter given. An interpreter with the firmware frozen in (make unix32) runs the
# frozen modules in its board's budget heap (boards/sim32.json); the others run device/
# from source in a large heap.
# Usage: firmware_heap.sh MICROPYTHON [MICROPYTHON...]
set -e
REPO=$(cd "$(dirname "$0")/../.." && pwd)
for mp in "$@"; do
  work=$(mktemp -d)
  cp "$REPO/boards/sim.json" "$work/board.json"
  cp "$REPO/models/default/model.bin" "$work/model.bin"
  if (cd "$work" && MICROPYPATH=.frozen "$mp" -c "import verdant.startup" 2>/dev/null); then
    path=.frozen; heap=$(python3 -c "import json; print(json.load(open('$REPO/boards/sim32.json'))['heap_bytes'])"); kind="frozen"
  else
    path="$REPO/device"; heap=2000000; kind="source"
  fi
  echo "== $mp ($kind modules, heap $heap)"
  (cd "$work" && MICROPYPATH=$path "$mp" -X heapsize=$heap "$REPO/tests/device/budget_firmware.py" 172800 | tail -1)
  rm -f "$work/verdant.log" "$work/boot.json" "$work/model.prev" "$work/board.good.json"
  (cd "$work" && MICROPYPATH=$path "$mp" -X heapsize=8000000 "$REPO/tests/device/bench_sample_alloc.py")
  rm -f "$work/verdant.log" "$work/boot.json" "$work/model.prev" "$work/board.good.json"
  echo "bytes per 15-min sample by stage (nested stages are parts of the ones above them):"
  (cd "$work" && MICROPYPATH=$path "$mp" -X heapsize=8000000 "$REPO/tests/device/bench_stage_alloc.py" | tail -1)
  rm -rf "$work"
done
