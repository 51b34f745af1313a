"""`make fleet-bench`: how many boards x messages per second the broker + fleet monitor
sustain on this machine with nothing lost; writes its own block of BENCHMARKS.md.

Two measurements:
  load   K board connections (our MQTT client, QoS 1, each with its own board id and
         sequence numbers) publish pre-encoded reading lines as fast as PUBACKs come
         back, from a separate process; the fleet monitor (paho-mqtt -> SQLite) stores
         them. Figure: stored lines per second until the last one is stored, and lost
         (sent but never stored, or sequence gaps).
  sims   `fleet-demo` itself: N virtual boards (the firmware in the Unix port) at a clock
         speed, to show where the simulated boards, not the broker, become the limit.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

from verdant_host import paths
from verdant_host.broker import Broker
from verdant_host.fleet import FleetWatcher

BEGIN = "<!-- make fleet-bench: begin (host/verdant_host/fleet_bench.py rewrites this block only) -->"
END = "<!-- make fleet-bench: end -->"

_LOAD = r"""
import sys, time
from verdant.mqtt import MQTTClient
from verdant.protocol import Encoder
port, boards, per_board = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
clients, encoders = [], []
for b in range(boards):
    c = MQTTClient("load-%04d" % b, "127.0.0.1", port, keepalive=60)
    c.connect()
    clients.append(c)
    encoders.append(Encoder())
t0 = 1768867200
for i in range(per_board):
    for b in range(boards):
        line = encoders[b].encode(t0 + 300 * i, "reading", {"air_temp_c": 12.5, "rh_pct": 80.0 + b % 7})
        clients[b].publish("verdant/load-%04d/reading" % b, line.rstrip(b"\n"), qos=1)
for c in clients:
    c.disconnect()
"""


def load_run(boards, per_board, out=None):
    work = tempfile.mkdtemp(prefix="verdant-fleet-bench-")
    broker = Broker(work_dir=os.path.join(work, "mosquitto"), max_queued=10 ** 6).start()
    try:
        watcher = FleetWatcher(broker.url, os.path.join(work, "bench.sqlite"), out=out).start()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(paths.REPO_DIR, "host")]))
        began = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _LOAD, str(broker.port), str(boards), str(per_board)], env=env)
        total = boards * per_board
        while proc.poll() is None or watcher.received < total:
            watcher.pump(0.05)
            if proc.poll() is not None and time.monotonic() - began > 600:
                break
        seconds = time.monotonic() - began
        stats = watcher.monitor.stats
        watcher.close()
        lost = total - stats["lines"] + stats["lost"]
        return {"boards": boards, "messages": stats["lines"], "seconds": seconds, "rate": stats["lines"] / seconds,
                "lost": lost, "publisher": proc.returncode}
    finally:
        broker.close()


def sims_run(boards, speed, hours=30.0):
    from verdant_host.fleet_demo import run_fleet
    with open(os.devnull, "w") as devnull:
        figures = run_fleet(boards, hours, speed, work_dir=tempfile.mkdtemp(prefix="verdant-fleet-sims-"),
                            out=devnull)
    figures["speed"] = speed
    return figures


def write_block(path, lines):
    text = open(path).read() if os.path.exists(path) else ""
    block = "\n".join([BEGIN] + lines + [END])
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(paths.REPO_DIR, "BENCHMARKS.md"))
    ap.add_argument("--load", default="10x2000,50x400,200x100", help="BOARDSxMESSAGES_EACH,...")
    ap.add_argument("--sims", default="3x7200,6x36000,12x36000", help="BOARDSxSPEED,...")
    args = ap.parse_args(argv)
    lines = ["## Fleet: broker + fleet monitor (make fleet-bench)", "",
             "Command: `python -m verdant_host.fleet_bench` (Mosquitto %s on 127.0.0.1, this machine: %d cores "
             "shared with other work). QoS 1 end to end, stored in SQLite by the fleet monitor." % (
                 _mosquitto_version(), os.cpu_count() or 0), "",
             "| load: board connections | messages each | stored | seconds | messages/s | lost |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for item in args.load.split(","):
        boards, each = (int(x) for x in item.split("x"))
        r = load_run(boards, each)
        print("load %s: %.0f messages/s, %d lost" % (item, r["rate"], r["lost"]), flush=True)
        lines.append("| %d | %d | %d | %.1f | %.0f | %d |" % (boards, each, r["messages"], r["seconds"], r["rate"],
                                                             r["lost"]))
    lines += ["", "| fleet-demo: virtual boards | clock speed | messages | seconds | messages/s | lines per board | lost |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for item in args.sims.split(","):
        boards, speed = item.split("x")
        r = sims_run(int(boards), float(speed))
        print("sims %s: %.0f messages/s, %d lost" % (item, r["rate"], r["lost"]), flush=True)
        lines.append("| %s | x%s | %d | %.1f | %.0f | %.0f | %d |" % (boards, speed, r["messages"], r["seconds"],
                                                                    r["rate"], r["messages"] / int(boards), r["lost"]))
    lines += ["", "Lines per board fall when the simulated boards (one MicroPython process each, the firmware "
              "with its model) cannot keep their clock: then the CPU, not the broker or the monitor, is the "
              "limit. Larger fleets: docs/mqtt.md#larger-fleets."]
    write_block(args.out, lines)
    print("fleet-bench: wrote %s" % args.out)


def _mosquitto_version():
    try:
        from verdant_host.broker import find_mosquitto
        out = subprocess.run([find_mosquitto(), "-h"], capture_output=True, text=True, timeout=5).stdout
        return out.split()[2] if out.startswith("mosquitto version") else "?"
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
