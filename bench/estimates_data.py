"""The held-out pools of bench/estimates.py: split the digits and PneumoniaMNIST's train_img/ into images to train on and a pool of
labelled images the model never sees (links to PneumoniaMNIST's images, never copies).

    python bench/estimates_data.py OUT [--pneumonia ../shared/data/pneumoniamnist]
    fastcls_train OUT/digits --no-pretrained --size 32 --epochs 6 --min-steps 0 --out OUT/runs --name digits
    fastcls_train OUT/pneu --no-pretrained --size 32 --epochs 6 --min-steps 0 --out OUT/runs --name pneu
    python bench/estimates.py OUT/runs/digits OUT/digits_pool.txt --work OUT/work_digits --draws 50 --out digits.csv
    python bench/estimates.py OUT/runs/pneu OUT/pneu_pool.txt --work OUT/work_pneu --draws 40 --n-val 400 --n-new 400 --out pneumoniamnist.csv
    python bench/estimates.py --tables digits.csv pneumoniamnist.csv
"""
import argparse, os
from pathlib import Path
import numpy as np
from PIL import Image
from fastcls.datasets import digit_images

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out'); ap.add_argument('--pneumonia', default='../shared/data/pneumoniamnist')
    a = ap.parse_args()
    rng, root = np.random.default_rng(0), Path(a.out)
    imgs, ys = digit_images(0, 32)  # 600 digits to train on (fastcls holds out 20% of them for validation), the rest in the pool
    idx = rng.permutation(len(ys)); tr, pool = idx[:600], idx[600:]
    for name, ii in (('digits/train_img', tr), ('digits_pool', pool)):
        (root/name).mkdir(parents=True, exist_ok=True)
        for j in ii: Image.fromarray(imgs[j]).save(root/name/f'{j:05d}.png')
    (root/'digits/label_train.txt').write_text(''.join(f'{ys[j]}\n' for j in sorted(tr)))
    (root/'digits_pool.txt').write_text(''.join(f'{j:05d}.png {ys[j]}\n' for j in pool))
    src = Path(a.pneumonia).resolve()  # 1,500 images to train on, the rest in the pool
    files = sorted(os.listdir(src/'train_img'), key=lambda f: int(Path(f).stem))
    labs = (src/'label_train.txt').read_text().split()
    idx = rng.permutation(len(files)); tr, pool = np.sort(idx[:1500]), idx[1500:]
    (root/'pneu/train_img').mkdir(parents=True, exist_ok=True)
    for k, j in enumerate(tr): os.symlink(src/'train_img'/files[j], root/'pneu/train_img'/f'{k+1:05d}.png')
    (root/'pneu/label_train.txt').write_text(''.join(f'{labs[j]}\n' for j in tr))
    (root/'pneu_pool.txt').write_text(''.join(f'{src/"train_img"/files[j]} {labs[j]}\n' for j in pool))

if __name__ == '__main__': main()
