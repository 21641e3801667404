"""Run every benchmark in turn, each in its own process (each picks its own matplotlib backend and threads).

    .venv/bin/python benchmarks/run_all.py
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = [
    ["bench_explorers.py", "--agg"],
    ["bench_explorers.py"],
    ["bench_browser.py"],
    ["bench_conv.py"],
    ["bench_training.py"],
    ["bench_grade.py"],
    ["bench_hub.py"],
]

if __name__ == "__main__":
    failed = 0
    for script, *args in RUNS:
        print(f"\n== {script} {' '.join(args)}", flush=True)
        failed |= subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent).returncode
    sys.exit(failed)
