#!/usr/bin/env python3
"""Server CPU per echo round trip for a few `echo_bench_server` variants,
run alternately, medians over the repetitions (docs/benchmarks.md,
"io_uring: a measured spike").

    cargo build --release -p coro-benches --features io-uring \\
        --bin echo_bench_server --bin load_client
    python3 benches/scripts/echo_cpu.py --reps 7 --connections 500 \\
        raw_polling raw_uring raw_uring:mode=multishot,fixed=1 coro_mt coro_ct
    # --perf: also syscalls and context switches per round trip (perf stat
    # on the tracepoints, attached to the server over the window)

A VARIANT is `RUNTIME[:OPTION=VALUE,...]`, the options passed on as
`--OPTION VALUE`, except `bin=PATH`: that server binary instead of
BIN_DIR's (a before/after pair in one run: `coro_mt coro_mt:bin=/tmp/old`). Method, as `bench_report`'s echo rows: one server
process per run; `load_client --sync 1` opens every connection and prints
`ready`; the server's utime and stime (/proc/PID/stat) are read, the
window runs, the client prints `end`, they are read again. Repetition r
runs the variants in order, r+1 in reverse, so slow drifts of a shared
machine fall on every variant alike. `uptime` is printed before and after.
"""
import argparse
import os
import signal
import statistics
import subprocess
import time

PERF_EVENTS = [
    "raw_syscalls:sys_enter",
    "syscalls:sys_enter_io_uring_enter",
    "syscalls:sys_enter_epoll_wait",
    "syscalls:sys_enter_recvfrom",
    "syscalls:sys_enter_sendto",
    "context-switches",
]
HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """(utime, stime) of process `pid`, in clock ticks."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)


def expect(proc, prefix):
    """The next line of `proc`'s stdout that starts with `prefix`."""
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{proc.args[0]} ended before printing {prefix!r}")
        if line.startswith(prefix):
            return line.strip()


def run_once(bin_dir, variant, connections, seconds, perf):
    runtime, _, options = variant.partition(":")
    server_cmd = [f"{bin_dir}/echo_bench_server", "--runtime", runtime, "--addr", "127.0.0.1:0"]
    for option in filter(None, options.split(",")):
        name, value = option.split("=")
        if name == "bin":  # another build of the server, e.g. before a change
            server_cmd[0] = value
        else:
            server_cmd += [f"--{name}", value]
    server = subprocess.Popen(server_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        addr = expect(server, "listening on ").split()[-1]
        client = subprocess.Popen(
            [f"{bin_dir}/load_client", "--addr", addr, "--sync", "1",
             "--connections", str(connections), "--seconds", str(seconds), "--size", "64"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        expect(client, "ready")
        counter = None
        if perf:
            counter = subprocess.Popen(
                ["perf", "stat", "-x", ",", "-e", ",".join(PERF_EVENTS), "-p", str(server.pid)],
                stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)  # attached before the window starts
        user0, sys0 = cpu_ticks(server.pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        expect(client, "end")
        user1, sys1 = cpu_ticks(server.pid)
        counts = {}
        if counter:
            counter.send_signal(signal.SIGINT)
            for line in counter.communicate()[1].splitlines():
                fields = line.split(",")
                if len(fields) > 2 and fields[0].strip().isdigit():
                    counts[fields[2]] = int(fields[0])
        client.stdin.write("close\n")
        client.stdin.flush()
        result = dict(kv.split("=") for kv in expect(client, "round_trips=").split())
        client.wait(10)
    finally:
        server.kill()
        server.wait()
    round_trips = float(result["round_trips"])
    per_trip_us = lambda ticks: ticks / HZ * 1e6 / round_trips
    sample = {
        "rt/s": round_trips / float(result["seconds"]),
        "p50 µs": float(result["p50_us"]),
        "p99 µs": float(result["p99_us"]),
        "cpu µs/rt": per_trip_us(user1 - user0 + sys1 - sys0),
        "user µs/rt": per_trip_us(user1 - user0),
        "sys µs/rt": per_trip_us(sys1 - sys0),
        "errors": int(result["errors"]) + int(result["stalled"]),
    }
    # Per round trip; perf's window starts 0.3 s early, when nothing runs.
    sample.update({name: count / round_trips for name, count in counts.items()})
    return sample


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--bin-dir", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "release"))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--perf", action="store_true")
    args = parser.parse_args()
    print("before:", subprocess.check_output(["uptime"], text=True).strip(), flush=True)
    samples = {variant: [] for variant in args.variants}
    for rep in range(args.reps):
        order = args.variants if rep % 2 == 0 else args.variants[::-1]
        for variant in order:
            sample = run_once(args.bin_dir, variant, args.connections, args.seconds, args.perf)
            samples[variant].append(sample)
            print(f"rep {rep} {variant}: "
                  + " ".join(f"{k}={v:.4g}" for k, v in sample.items()), flush=True)
    print("after:", subprocess.check_output(["uptime"], text=True).strip())
    columns = list(samples[args.variants[0]][0])
    print("| variant | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for variant in args.variants:
        medians = [statistics.median(s[c] for s in samples[variant]) for c in columns]
        print(f"| {variant} | " + " | ".join(f"{m:.3g}" for m in medians) + " |")


if __name__ == "__main__":
    main()
