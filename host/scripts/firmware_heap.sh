#!/bin/bash
# Heap the whole firmware uses on the sim board: device/main.py with boards/sim.json and
# the default model, 2 simulated days (VERDANT_RUN_S), in a 4 MB heap; the hourly status
# lines carry mem_free after a collection. Prints used = heap - mem_free (min and max).
# Usage: firmware_heap.sh MICROPYTHON [MICROPYTHON32]
set -e
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HEAP=4000000
for mp in "$@"; do
  work=$(mktemp -d)
  cp "$REPO/boards/sim.json" "$work/board.json"
  cp "$REPO/models/default/model.bin" "$work/model.bin"
  (cd "$work" && VERDANT_RUN_S=172800 MICROPYPATH="$REPO/device" "$mp" -X heapsize=$HEAP "$REPO/device/main.py" > out.txt)
  free=$(grep -o '"mem_free":[0-9]*' "$work/out.txt" | sed 's/.*://' | sort -n)
  lo=$(echo "$free" | tail -1); hi=$(echo "$free" | head -1)
  echo "$mp: heap used after gc, 2 days: $((HEAP - lo)) .. $((HEAP - hi)) bytes; model $(grep -c '"model":"on"' "$work/out.txt") status lines on"
  rm -rf "$work"
done
