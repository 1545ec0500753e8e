#!/usr/bin/env bash
# The runs behind the default recipe (issue 13), one training at a time on one core, each against the old default on the same split.
#   bash bench/recipe.sh PN_DATA OUT      # PN_DATA: a writable copy of ../shared/data/pneumoniamnist
# Compare two runs with `fastcls_compare OUT/A OUT/B`; screen them under corruptions with
# `python bench/robustness.py OUT/A OUT/B ...`; flip TTA with `python bench/tta.py OUT/A`.
# The old default is reproduced with --lr-find --monitor valid_loss --no-ema --aug default.
set -euo pipefail
D=${1:?data folder}; O=${2:?output folder}; mkdir -p "$O"
run() { name=$1; shift; OMP_NUM_THREADS=1 taskset -c 0 /usr/bin/time -f "$name wall=%e user=%U" fastcls_train "$D" --no-pretrained --out "$O" --name "$name" --pred-file "$O/$name.txt" "$@" > "$O/$name.log" 2>&1; tail -1 "$O/$name.log"; }
OLD="--lr-find --monitor valid_loss --no-ema --aug default"
LR=0.004365158267319202   # the finder's choice with seed 42: each screening run changes one thing
run old_s42 $OLD --seed 42
run lr3e3 --lr 3e-3 --monitor valid_loss --no-ema --aug default
run ema --lr $LR --monitor valid_loss --aug default
run smooth --lr $LR --smoothing 0.1 --monitor valid_loss --no-ema --aug default
run mixup --lr $LR --mix mixup --monitor valid_loss --no-ema --aug default
run xray --lr $LR --aug xray --monitor valid_loss --no-ema
run new_s42 --seed 42          # the new default
run old_s1 $OLD --seed 1
run new_s1 --seed 1
run xray_s1 --lr-find --monitor valid_loss --no-ema --aug xray --seed 1
