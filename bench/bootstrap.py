"""Time of fastcls's stratified bootstrap: 95% intervals of every metric of `binary_report` from `--resamples` resamples of `--n` predictions.

    python bench/bootstrap.py --n 100000 --resamples 2000 [--pos 0.25] [--repeats 1]

The predictions are synthetic (a share `--pos` of positives, a fair classifier). It times `bootstrap_ci` (AUC, HTER, FAR,
FRR, accuracy, balanced accuracy and F1 per class on every resample) and, for comparison, one AUC by scikit-learn on all
images, and prints the load average of the machine next to the time. The last line is machine-readable.
"""
import argparse, json, os, time
import numpy as np
from sklearn.metrics import roc_auc_score
from fastcls.metrics import bootstrap_ci

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=100_000); ap.add_argument('--resamples', type=int, default=2000)
    ap.add_argument('--pos', type=float, default=0.25); ap.add_argument('--repeats', type=int, default=1)
    a = ap.parse_args()
    r = np.random.default_rng(0)
    t = (r.uniform(size=a.n) < a.pos).astype(int)
    p = np.clip(0.3 * t + r.uniform(0, 0.7, a.n), 0, 1)
    t0 = time.perf_counter(); auc = roc_auc_score(t, p); one = time.perf_counter() - t0
    times = []
    for _ in range(a.repeats):
        load = os.getloadavg()[0]
        t0 = time.perf_counter(); ci = bootstrap_ci(p, t, n_boot=a.resamples); times.append(time.perf_counter() - t0)
    print(f"{a.n} predictions, {a.resamples} stratified resamples: {min(times):.2f} s (load average {load:.2f}, {os.cpu_count()} CPUs); "
          f"one scikit-learn AUC: {one*1000:.0f} ms")
    print(f"AUC {auc:.4f} [{ci['roc_auc'][0]:.4f}, {ci['roc_auc'][1]:.4f}]  HTER [{ci['hter'][0]:.4f}, {ci['hter'][1]:.4f}]")
    print(json.dumps(dict(n=a.n, resamples=a.resamples, seconds=round(min(times), 3), load=round(load, 2), sklearn_auc_ms=round(one * 1000, 1))))

if __name__ == '__main__': main()
