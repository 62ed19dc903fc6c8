"""The README's fleet figures: FedAvg and FedAdam through Flower's simulation, each
device alone, and centralised training on the pooled windows, all evaluated on the same
held-out windows of every device; bytes sent per device per round; wall times.

    python -m fleet_app.report --devices 20 --rounds 10
"""

from __future__ import annotations

import argparse

from fleet_app import baselines
from fleet_app.chart import accuracy_svg
from fleet_app.config import DEFAULTS
from fleet_app.run import simulate


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--devices", type=int, default=20)
    p.add_argument("--rounds", type=int, default=DEFAULTS["num-server-rounds"])
    p.add_argument("--windows-per-round", type=int, default=DEFAULTS["windows-per-round"])
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--svg", help="also draw the accuracy per round to this SVG file")
    a = p.parse_args()
    n, r, w = a.devices, a.rounds, a.windows_per_round
    runs = {
        s: simulate(n, num_server_rounds=r, windows_per_round=w, strategy=s, seed=a.seed)
        for s in ("fedavg", "fedadam")
    }
    alone = baselines.summary(baselines.alone(n, r, w, a.seed))
    central = baselines.centralised(n, r, w, a.seed)
    avg, adam = runs["fedavg"], runs["fedadam"]
    print(f"\n{n} devices x {r} rounds, {w} windows per device per round "
          f"({w // 2} labelled), held-out: {avg['holdout_windows']} windows\n")
    print("| round | FedAvg | FedAdam |")
    print("|---:|---:|---:|")
    for i, (x, y) in enumerate(zip(avg["accuracy_per_round"], adam["accuracy_per_round"])):
        print(f"| {i} | {100 * x:.1f} % | {100 * y:.1f} % |")
    print()
    print("| training | held-out accuracy |")
    print("|---|---:|")
    print(f"| federated, FedAvg (final round) | {100 * avg['final_accuracy']:.1f} % |")
    print(f"| federated, FedAdam (final round) | {100 * adam['final_accuracy']:.1f} % |")
    print(f"| each device alone (mean, min-max of {n}) | {100 * alone['mean']:.1f} % "
          f"({100 * alone['min']:.1f}-{100 * alone['max']:.1f} %) |")
    print(f"| centralised on the pooled labelled windows | {100 * central:.1f} % |")
    print()
    print(f"bytes per device per round: {avg['model_file_bytes']} down + "
          f"{avg['model_file_bytes']} up (the .mtm model file)")
    for s, run in runs.items():
        print(f"{s}: {run['wall_seconds']:.1f} s in the strategy, "
              f"{run['total_seconds']:.1f} s with Ray's start and stop")
    if a.svg:
        svg = accuracy_svg(
            f"Held-out accuracy, {n} devices x {r} rounds (Flower simulation)",
            {"FedAvg": avg["accuracy_per_round"], "FedAdam": adam["accuracy_per_round"]},
            {"centralised": central, "alone (mean)": alone["mean"]},
        )
        with open(a.svg, "w") as f:
            f.write(svg)
        print(f"wrote {a.svg}")


if __name__ == "__main__":
    main()
