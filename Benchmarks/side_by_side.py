"""`radfm bench` and `Benchmarks/pytorch_stages.py` in lockstep: stage by stage ratios from one run.

This machine's speed drifts by tens of percent over minutes (a shared host), so two programs run one after the
other can land in a fast minute of one and a slow minute of the other. Here both run at once in `--lockstep`
mode, each holding its model, and this driver asks them for one stage at a time, alternately: radfm runs a
stage, then PyTorch runs the same stage (or the other way round, alternating each round) while the other
waits on its stdin. The two times of one pair are seconds apart. A warm-up round is discarded, then
`--rounds` rounds are timed. Per stage it prints each program's best time, the ratio of the bests (PyTorch
time / radfm time, above 1: radfm is faster), the median and the range of the per-pair ratios, and radfm's
decode throughput at the largest batch over batch 1 (from the best steps).

    python3 Benchmarks/side_by_side.py --radfm-bin .build/release/radfm --python /path/to/venv/bin/python \\
        --radfm-checkout RADFM_CHECKOUT [--rounds 3] [--depths 4 64] [--batches 1 4 16]

With `--baseline-bin OTHER_RADFM` the other side is a second radfm build instead of PyTorch (an A/B of an
engine change, ratio = baseline time / radfm time): no venv or checkout needed.

Not part of CI: the PyTorch side needs a benchmark venv (see pytorch_stages.py).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

OURS = re.compile(r"^(vision \S+|prefill batch \d+|decode batch \d+)\s+([0-9.]+) s\b")
THEIRS = re.compile(r"^(vision \S+|prefill batch \d+|decode batch \d+): ([0-9.]+) s")
KERNEL = re.compile(r"^OpenBLAS kernel ([^\s,]+)")


class Side:
    """One program in `--lockstep` mode: requests go to its stdin, one result line comes back per request."""

    def __init__(self, name, command, pattern):
        self.name, self.pattern, self.header = name, pattern, []
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        bufsize=1)

    def wait_ready(self):
        for line in self.process.stdout:
            if line.strip() == "ready":
                return
            self.header.append(line.rstrip())
        sys.exit(f"{self.name} exited before it was ready (status {self.process.wait()}):\n" + "\n".join(self.header))

    def ask(self, request):
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        match = self.pattern.match(line.strip())
        if not match:
            sys.exit(f"{self.name} answered `{request}` with: {line.strip() or 'nothing (it exited)'}")
        return match.group(1), float(match.group(2))

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--radfm-bin", default=".build/release/radfm")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the benchmark venv")
    parser.add_argument("--radfm-checkout", help="checkout of chaoyi-wu/RadFM (for the PyTorch side)")
    parser.add_argument("--baseline-bin", help="another radfm build to compare with instead of PyTorch")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds, after one discarded warm-up round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--depths", nargs="+", default=["4", "64"])
    parser.add_argument("--batches", nargs="+", default=["1", "4", "16"])
    args = parser.parse_args()

    if not args.baseline_bin and not args.radfm_checkout:
        parser.error("give --radfm-checkout (PyTorch side) or --baseline-bin (another radfm build)")
    ours = Side("radfm", [args.radfm_bin, "bench", "--lockstep"], OURS)
    ours.wait_ready()
    if args.baseline_bin:
        other = "baseline"
        theirs = Side(other, [args.baseline_bin, "bench", "--lockstep"], OURS)
    else:
        other = "pytorch"
        theirs = Side(other, [args.python, os.path.join(os.path.dirname(__file__), "pytorch_stages.py"),
                              "--radfm", args.radfm_checkout, "--threads", str(args.threads), "--stages", "sgemm",
                              "--lockstep"], THEIRS)
    theirs.wait_ready()
    kernels = {m.group(1) for line in ours.header if (m := KERNEL.match(line))}
    requests = [f"vision {d}" for d in args.depths]
    requests += [r for b in args.batches for r in (f"prefill {b}", f"decode {b}")]

    times = {"ours": {}, "theirs": {}}
    ratios = {}
    try:
        for round_index in range(args.rounds + 1):
            for request in requests:
                pair = {}
                order = [("ours", ours), ("theirs", theirs)]
                if round_index % 2:
                    order.reverse()
                for side_name, side in order:
                    stage, seconds = side.ask(request)
                    pair[side_name] = seconds
                if round_index == 0:
                    continue  # warm-up: first allocations at each size
                for side_name, seconds in pair.items():
                    times[side_name].setdefault(stage, []).append(seconds)
                ratios.setdefault(stage, []).append(pair["theirs"] / pair["ours"])
            print(f"round {round_index} of {args.rounds} done" + (" (warm-up, discarded)" if not round_index else ""),
                  file=sys.stderr, flush=True)
    finally:
        ours.close()
        theirs.close()

    print(f"OpenBLAS kernel {', '.join(sorted(kernels)) or 'unreported'}; {args.threads} threads; lockstep, "
          f"{args.rounds} timed rounds after a warm-up; ratio = {other} time / radfm time")
    print(f"{'stage':<20}{'radfm best':>11}{other + ' best':>14}{'ratio of bests':>15}{'pair median':>12}"
          f"{'pair range':>14}")
    for stage, ours_times in times["ours"].items():
        best_ours, best_theirs = min(ours_times), min(times["theirs"][stage])
        pair = ratios[stage]
        print(f"{stage:<20}{best_ours:>11.3f}{best_theirs:>14.3f}{best_theirs / best_ours:>14.2f}x"
              f"{statistics.median(pair):>11.2f}x{min(pair):>8.2f}-{max(pair):.2f}x")
    decode = {int(s.split()[-1]): min(t) for s, t in times["ours"].items() if s.startswith("decode batch")}
    if 1 in decode and len(decode) > 1:
        largest = max(decode)
        print(f"radfm decode tokens/s, batch {largest} over batch 1: {largest * decode[1] / decode[largest]:.2f}x")


if __name__ == "__main__":
    main()
