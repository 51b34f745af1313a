#!/bin/bash
# The smallest heap (-X heapsize) in which the whole firmware runs two simulated days on the
# sim board with its model on and no error line (tests/device/budget_firmware.py), scanned in
# 256-byte steps from LO to HI: on a fragmented heap success is not monotonic in the size (a
# run can fail in a heap 256 B larger than one it ran in), so both figures are printed: the
# smallest heap that ran, and the smallest from which every size up to HI ran.
# docs/firmware.md#heap-budgets gives the figures.
# Usage: smallest_heap.sh MICROPYTHON [LO HI]   (MICROPYTHON with the firmware frozen in:
#        build/unix32/micropython32 from `make unix32 MPY_DIR=...`; otherwise device/ from source)
set -e
REPO=$(cd "$(dirname "$0")/../.." && pwd)
mp=$1; lo=${2:-84992}; hi=${3:-90112}
if (cd /tmp && MICROPYPATH=.frozen "$mp" -c "import verdant.startup" 2>/dev/null); then path=.frozen; else path="$REPO/device"; fi
smallest=""; from=""; seen=""
for ((size = lo; size <= hi; size += 256)); do
  work=$(mktemp -d)
  cp "$REPO/boards/sim.json" "$work/board.json"
  cp "$REPO/models/default/model.bin" "$work/model.bin"
  last=$(cd "$work" && MICROPYPATH=$path "$mp" -X heapsize=$size "$REPO/tests/device/budget_firmware.py" 172800 2>&1 | tail -1)
  rm -rf "$work"
  case "$last" in
    *'"errors": 0'*'"model": true'* | *'"model": true'*'"errors": 0'*) seen="$seen $size:ok"; smallest=${smallest:-$size}; from=${from:-$size};;
    *'"model": false'*) seen="$seen $size:model-off"; from="";;
    *) seen="$seen $size:failed"; from="";;
  esac
done
echo "heapsize:$seen"
echo "smallest heap that ran: ${smallest:-none} bytes; every size from ${from:-none} to $hi ran"
