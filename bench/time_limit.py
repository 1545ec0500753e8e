"""Does a run with a time limit end in time? The wall time of `fastcls_train DATA --time-limit T` against T.

    python bench/time_limit.py DATA --limit 5m [--out DIR] [-- other fastcls_train options, e.g. --no-pretrained]

Runs the command in a fresh process (imports, the data's checks and cache, the fit, the evaluation and predictions: all
of it counts), then prints the limit, the wall time and their ratio, and the run's plan from settings.json (`time_plan`:
the measured step, the epochs planned without a limit, the epochs kept, whether the fit ended early) with the epochs it
trained (history.csv). The last line is machine-readable.
"""
import argparse, json, subprocess, sys, time
from pathlib import Path
import pandas as pd
from fastcls.train import parse_duration

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('data'); ap.add_argument('--limit', default='5m'); ap.add_argument('--out', default='time_limit_runs'); ap.add_argument('--name', default=None)
    a, rest = ap.parse_known_args()
    rest = [o for o in rest if o != '--']
    name = a.name or f"limit-{a.limit}-{time.strftime('%H%M%S')}"
    cmd = ['fastcls_train', a.data, '--time-limit', a.limit, '--out', a.out, '--name', name, *rest]
    print('$', ' '.join(cmd), flush=True)
    t0 = time.time(); rc = subprocess.run(cmd).returncode; wall = time.time() - t0
    run = Path(a.out)/name
    plan = json.loads((run/'settings.json').read_text()).get('time_plan') or {}
    trained = len(pd.read_csv(run/'history.csv')) if (run/'history.csv').exists() else 0
    res = dict(rc=rc, limit_s=parse_duration(a.limit), wall_s=round(wall, 1), ratio=round(wall / parse_duration(a.limit), 3), planned=plan.get('planned'),
               kept=plan.get('epochs'), trained=trained, step_s=plan.get('step_s'), epoch_s=plan.get('epoch_s'), reserve_s=plan.get('reserve_s'), stopped_early=plan.get('stopped_early'))
    print(' '.join(f'{k}={v}' for k, v in res.items()))
    print(json.dumps(res))
    sys.exit(rc)

if __name__ == '__main__': main()
