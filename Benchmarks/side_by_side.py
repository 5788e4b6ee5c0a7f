"""`radfm bench` and `Benchmarks/pytorch_stages.py` run in alternation, stage by stage ratios from one run.

On a shared machine a single run of each program can land in a busy minute of one and a quiet minute of
the other. This runs the pair `--rounds` times, alternating which goes first, keeps each stage's best time
per program, and prints the ratio PyTorch time / radfm time (above 1: radfm is faster) with the OpenBLAS
kernel the radfm runs reported. It also prints radfm's decode throughput at the largest batch over batch 1.

    python3 Benchmarks/side_by_side.py --radfm-bin .build/release/radfm --python /path/to/venv/bin/python \\
        --radfm-checkout RADFM_CHECKOUT [--rounds 2] [--depths 4 64] [--batches 1 4 16]

Not part of CI: the PyTorch side needs a benchmark venv (see pytorch_stages.py).
"""
import argparse
import os
import re
import subprocess
import sys

OURS = re.compile(r"^(vision \S+|prefill batch \d+|decode batch \d+)\s+([0-9.]+) s\b")
THEIRS = re.compile(r"^(vision \S+|prefill batch \d+|decode batch \d+): ([0-9.]+) s")
KERNEL = re.compile(r"^OpenBLAS kernel ([^\s,]+)")


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result.stdout.splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--radfm-bin", default=".build/release/radfm")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the benchmark venv")
    parser.add_argument("--radfm-checkout", required=True, help="checkout of chaoyi-wu/RadFM")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--depths", nargs="+", default=["4", "64"])
    parser.add_argument("--batches", nargs="+", default=["1", "4", "16"])
    args = parser.parse_args()

    env = dict(os.environ)
    ours_cmd = [args.radfm_bin, "bench", "--depths", *args.depths, "--batches", *args.batches]
    theirs_cmd = [args.python, os.path.join(os.path.dirname(__file__), "pytorch_stages.py"),
                  "--radfm", args.radfm_checkout, "--threads", str(args.threads),
                  "--depths", *args.depths, "--batches", *args.batches]
    best = {"ours": {}, "theirs": {}}
    kernels = set()
    for round_index in range(args.rounds):
        order = [("ours", ours_cmd), ("theirs", theirs_cmd)]
        if round_index % 2:
            order.reverse()
        for side, command in order:
            for line in run(command):
                if side == "ours" and (match := KERNEL.match(line)):
                    kernels.add(match.group(1))
                pattern = OURS if side == "ours" else THEIRS
                if match := pattern.match(line.strip()):
                    stage, seconds = match.group(1), float(match.group(2))
                    best[side][stage] = min(seconds, best[side].get(stage, float("inf")))
        print(f"round {round_index + 1} of {args.rounds} done", file=sys.stderr, flush=True)

    print(f"OpenBLAS kernel {', '.join(sorted(kernels)) or 'unreported'}; {args.threads} threads; "
          f"best of {args.rounds} alternating rounds per stage")
    print(f"{'stage':<22}{'radfm s':>10}{'pytorch s':>11}{'pytorch/radfm':>15}")
    for stage, ours in best["ours"].items():
        theirs = best["theirs"].get(stage)
        ratio = f"{theirs / ours:.2f}x" if theirs else "-"
        print(f"{stage:<22}{ours:>10.3f}{theirs if theirs else float('nan'):>11.3f}{ratio:>15}")
    decode = {int(s.split()[-1]): t for s, t in best["ours"].items() if s.startswith("decode batch")}
    if 1 in decode and len(decode) > 1:
        largest = max(decode)
        print(f"radfm decode tokens/s, batch {largest} over batch 1: "
              f"{largest * decode[1] / decode[largest]:.2f}x")


if __name__ == "__main__":
    main()
