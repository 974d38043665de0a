"""The child process of :func:`nasbench.testing.check_strategy`'s fresh-process check.

Reads from stdin the job its parent pickled a moment before (a pipe between the two processes, never a file from
elsewhere), runs the strategy for each seed and prints the trajectories' fields as JSON.
"""

from __future__ import annotations

import json
import pickle
import sys

from nasbench.runner.simulate import Budget, run_search


def main() -> None:
    job = pickle.loads(sys.stdin.buffer.read())  # the parent's own bytes, over a pipe
    out = []
    for seed in job["seeds"]:
        traj = run_search(
            job["bench"], pickle.loads(job["strategy"]), protocol=job["protocol"],
            budget=Budget(evaluations=job["evaluations"]), seed=seed, label=job["label"],
        )  # fmt: skip
        out.append({field: getattr(traj, field) for field in job["fields"]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
