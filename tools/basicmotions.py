#!/usr/bin/env python3
"""Real recorded accelerometer data for `microtrain-sim stream --csv`: BasicMotions.

BasicMotions (UEA multivariate time-series archive, Bagnall et al. 2018): four students
wearing a smart watch, 3-axis accelerometer and 3-axis gyroscope at 10 Hz, 10 s per
recording, four activities (Standing, Walking, Running, Badminton); 40 training and 40
test recordings. It is not stored in this repository: this script takes it from the
wheel of the `aeon` package on PyPI (BSD-3-Clause; the data set's own terms are the
archive's: free for research use, cite the archive), downloaded with `pip download`.

What it does, everything under target/ (so a fresh machine works, nothing system-wide):
  1. a virtual environment target/har/venv with scikit-learn (for the baseline);
  2. `pip download --no-deps aeon==1.6.0`, reading the two .ts files from the wheel;
  3. the stream CSVs: the recordings one after another (in an order shuffled with
     --seed, so activities alternate as in a real stream), one row per sample,
     header acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z,label, the label the activity's name:
     OUT/train.csv and OUT/test.csv;
  4. the offline baseline on the same windows (--window, --hop: a window closes every
     --hop rows once --window rows are in, labelled with the row that closes it) and the
     same features (per axis: mean, standard deviation, mean absolute difference), a
     scikit-learn random forest and a logistic regression trained on the training
     windows, scored on the test windows; printed and written to OUT/baseline.json.

    python3 tools/basicmotions.py [--out DIR] [--window 20] [--hop 10] [--seed 1]
"""
import argparse
import glob
import json
import math
import os
import random
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAR = os.path.join(ROOT, "target", "har")
VENV = os.path.join(HAR, "venv")
AEON = "aeon==1.6.0"
SKLEARN = "scikit-learn>=1.3,<2"
AXES = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]


def in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


def ensure_venv():
    """Creates the venv with scikit-learn if needed and re-runs this script in it."""
    py = os.path.join(VENV, "bin", "python3")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    ok = subprocess.run([py, "-c", "import sklearn"], capture_output=True).returncode == 0
    if not ok:
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-cache-dir", SKLEARN], check=True)
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def wheel():
    found = glob.glob(os.path.join(HAR, "aeon-1.6.0-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-cache-dir", "--no-deps", AEON, "-d", HAR],
            check=True,
        )
        found = glob.glob(os.path.join(HAR, "aeon-1.6.0-*.whl"))
    if not found:
        sys.exit("basicmotions: pip download %s left no wheel in %s" % (AEON, HAR))
    return found[0]


def read_ts(text, name):
    """The recordings of a .ts file: [(label, [[axis values] per axis])]."""
    out = []
    data = False
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() == "@data":
            data = True
            continue
        if not data:
            continue
        *dims, label = line.split(":")
        series = [[float(v) for v in d.split(",")] for d in dims]
        if len(series) != len(AXES) or len({len(s) for s in series}) != 1:
            sys.exit("basicmotions: %s line %d: expected %d axes of equal length" % (name, n, len(AXES)))
        out.append((label, series))
    return out


def write_csv(path, recordings):
    rows = []
    with open(path + ".tmp", "w") as f:
        f.write(",".join(AXES + ["label"]) + "\n")
        for label, series in recordings:
            for t in range(len(series[0])):
                values = [s[t] for s in series]
                f.write(",".join(repr(v) for v in values) + "," + label + "\n")
                rows.append((values, label))
    os.replace(path + ".tmp", path)
    return rows


def features(window):
    """Per axis mean, population standard deviation, mean absolute difference."""
    n = len(window)
    f = []
    cols = list(zip(*window))
    means = [sum(c) / n for c in cols]
    stds = [math.sqrt(sum((v - m) ** 2 for v in c) / n) for c, m in zip(cols, means)]
    jerks = [sum(abs(c[i] - c[i - 1]) for i in range(1, n)) / (n - 1) for c in cols]
    f = means + stds + jerks
    return f


def windows(rows, window, hop):
    """Windows closing at row `window`, then every `hop` rows."""
    xs, ys = [], []
    for end in range(window, len(rows) + 1, hop):
        chunk = rows[end - window:end]
        xs.append(features([r[0] for r in chunk]))
        ys.append(chunk[-1][1])
    return xs, ys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HAR, "basicmotions"))
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--hop", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--check",
        metavar="SIM",
        help="then run SIM (the microtrain-sim binary) on the CSVs with the README's options: fail if "
        "one pass of the MLP scores below 75%% test or 50%% prequential, if the CNN after 20 passes "
        "(mean of 5 seeds) is more than 5 points below the random forest, or the MLP after 5 passes "
        "below 85%%",
    )
    args = ap.parse_args()
    if args.window < 2 or args.hop < 1 or args.hop > args.window:
        ap.error("need --window >= 2 and 1 <= --hop <= --window")
    if not in_venv():
        ensure_venv()
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    z = zipfile.ZipFile(wheel())
    base = "aeon/datasets/data/BasicMotions/BasicMotions_%s.ts"
    os.makedirs(args.out, exist_ok=True)
    result = {"window": args.window, "hop": args.hop, "seed": args.seed}
    sets = {}
    for split in ("TRAIN", "TEST"):
        recs = read_ts(z.read(base % split).decode(), base % split)
        random.Random(args.seed).shuffle(recs)
        path = os.path.join(args.out, split.lower() + ".csv")
        rows = write_csv(path, recs)
        sets[split] = windows(rows, args.window, args.hop)
        print("basicmotions: %s: %d recordings, %d rows, %d windows" % (path, len(recs), len(rows), len(sets[split][0])))
    (xtr, ytr), (xte, yte) = sets["TRAIN"], sets["TEST"]
    models = {
        "random_forest": RandomForestClassifier(n_estimators=300, random_state=0),
        "logistic_regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    }
    for name, m in models.items():
        m.fit(xtr, ytr)
        acc = 100.0 * sum(p == y for p, y in zip(m.predict(xte), yte)) / len(yte)
        result[name + "_test_pct"] = round(acc, 1)
        print("baseline %s: test accuracy %.1f%% (%d windows)" % (name, acc, len(yte)))
    with open(os.path.join(args.out, "baseline.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    if args.check:
        check(args, result)


# The offline comparison: several passes over the training windows (the simulator's
# --passes), as the baseline is fitted offline, then the held-out file; mean over seeds.
SEEDS = (1, 2, 3, 4, 5)
OFFLINE = {
    "mlp": ["--hidden", "32", "--lr", "0.005", "--passes", "5"],
    "cnn": ["--model", "cnn", "--input", "raw", "--lr", "0.002", "--passes", "20"],
}
# The target: within this many points of the best scikit-learn baseline.
TARGET_GAP = 5.0


def simulate(args, extra):
    """Runs the simulator on the CSVs with `extra` options: (prequential %, test %)."""
    cmd = [
        args.check, "stream", "--source", "csv",
        "--csv", os.path.join(args.out, "train.csv"),
        "--test-csv", os.path.join(args.out, "test.csv"),
        "--window", str(args.window), "--hop", str(args.hop), "--sample-rate", "10",
        "--range", "40", "--log-every", "1000",
    ] + extra
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("basicmotions: %s failed:\n%s%s" % (" ".join(cmd), out.stdout, out.stderr))
    preq = test = None
    for line in out.stdout.splitlines():
        if line.startswith("prequential accuracy "):
            preq = float(line.split()[2].rstrip("%"))
        if line.startswith("test ") and "accuracy" in line:
            test = float(line.split("=")[1].split("%")[0])
    if preq is None or test is None:
        sys.exit("basicmotions: no accuracy lines in the output of %s:\n%s" % (" ".join(cmd), out.stdout))
    return preq, test


def check(args, baseline):
    """Runs the simulator on the CSVs; fails below the floors or off the target."""
    rf = baseline["random_forest_test_pct"]
    preq, test = simulate(args, ["--hidden", "16", "--lr", "0.005"])
    print("microtrain MLP on features, one pass: prequential %.1f%%, test %.1f%% (random forest %.1f%%, gap %.1f points)"
          % (preq, test, rf, rf - test))
    if test < 75.0 or preq < 50.0:
        sys.exit("basicmotions: below the floor (test >= 75%, prequential >= 50%)")
    means = {}
    for name, extra in OFFLINE.items():
        tests = [simulate(args, extra + ["--seed", str(seed)])[1] for seed in SEEDS]
        means[name] = sum(tests) / len(tests)
        print("microtrain %s, %s, seeds %s: test %s, mean %.1f%% (random forest %.1f%%, gap %.1f points)"
              % (name, " ".join(extra), ",".join(map(str, SEEDS)), " ".join("%.1f" % t for t in tests),
                 means[name], rf, rf - means[name]))
    if rf - means["cnn"] > TARGET_GAP:
        sys.exit("basicmotions: the CNN is %.1f points below the random forest (target: within %.0f)"
                 % (rf - means["cnn"], TARGET_GAP))
    if means["mlp"] < 85.0:
        sys.exit("basicmotions: the MLP's offline mean %.1f%% is below its floor of 85%%" % means["mlp"])


if __name__ == "__main__":
    main()
