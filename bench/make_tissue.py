"""A synthetic data set at the scale of the histopathology seeds: 96x96 RGB PNG patches that look like H&E-stained tissue.

    python bench/make_tissue.py /tmp/scale/full --n 220000 --n-unlabelled 20000 --workers 2

Writes, in the customer's layout, `train_img/000001.png`... (names sort the same lexically and naturally),
`label_train.txt` (one label per line, in the order of the file names: 1 for about 40% of the images) and
`val_img/000001.png`... (unlabelled images to predict). Each patch is pink stroma (eosin) with wavy collagen fibres
and purple nuclei (haematoxylin) of varying size, shape, density and chromatin texture, coloured by a Beer-Lambert
mix of the two stains with a per-image stain variation, sometimes white spaces (fat, lumen), then blurred and noisy:
textured like tissue rather than noise, so that PNG sizes (about 20 KB) and perceptual hashes behave as real ones.
Class 1 ("tumour") has denser, larger, darker and clustered nuclei; the classes overlap (the density varies in both).
Like real collections, the set has a few exact copies (0.3%) and near copies (0.3%: re-encoded with a small shift of
brightness or noise) among the labelled images, and leaks (0.2% of the unlabelled images are labelled ones).
Generation is deterministic for a given `--seed` and is split into chunks written in parallel (`--workers` processes).
`--subsets 22000 55000 110000` also writes `n22000/`... beside it: the first N images (hard links) and labels.
"""
import argparse, os, time
from multiprocessing import Pool
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F
from PIL import Image

S = 96
H_OD, E_OD = np.array([0.65, 0.70, 0.29]), np.array([0.07, 0.99, 0.11])  # optical densities of haematoxylin and eosin (Ruifrok & Johnston)

def _lowfreq(g, b, cells, size=S):
    "Smooth noise (b, size, size) in about [-1, 1]: a `cells` x `cells` grid of normal values, upsampled bicubically"
    x = torch.from_numpy(g.normal(size=(b, 1, cells, cells)).astype(np.float32))
    return F.interpolate(x, size=(size, size), mode='bicubic', align_corners=False)[:, 0].numpy() / 1.5

def _disk_kernels():
    "Ellipse kernels (k, 1, 13, 13) of several sizes and orientations, soft-edged, for stamping nuclei"
    yy, xx = np.mgrid[-6:7, -6:7].astype(np.float32)
    ks = []
    for r in (2.2, 3.0, 3.8, 4.8):
        for a in (0., 0.8, 1.6, 2.4):
            for e in (1.0, 1.5):
                u, v = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
                d = np.sqrt((u / (r * np.sqrt(e))) ** 2 + (v * np.sqrt(e) / r) ** 2)
                ks.append(np.clip((1.25 - d) * 3, 0, 1))
    return torch.from_numpy(np.stack(ks)[:, None].astype(np.float32))

KERNELS = _disk_kernels()  # 4 radii x 4 angles x 2 elongations: index = radius * 8 + angle * 2 + elongation

def _nuclei(g, ys):
    "Haematoxylin density (b, S, S) in [0, 1] of the nuclei of each image: sparser and smaller for class 0, denser, larger and clustered for class 1"
    b, ks = len(ys), KERNELS[:, 0].numpy()
    h = np.zeros((b, S + 12, S + 12), np.float32)
    for i, y in enumerate(ys):
        n = int(g.gamma(4, (22 if y else 9)))  # mean 88 (class 1) or 36 nuclei, overlapping
        if y and g.random() < 0.8:  # tumour nests: nuclei around a few centres
            c = g.uniform(0, S, (g.integers(1, 5), 2))
            p = c[g.integers(0, len(c), n)] + g.normal(0, g.uniform(8, 20), (n, 2))
        else: p = g.uniform(0, S, (n, 2))
        p = np.round(p).astype(int) % S
        r = np.clip(g.normal(1.9 if y else 0.9, 0.8, n).round(), 0, 3).astype(int)
        k, v = r * 8 + g.integers(0, 8, n), g.uniform(0.6 if y else 0.45, 1.0, n)
        for (py, px), kk, vv in zip(p, k, v): h[i, py:py+13, px:px+13] += vv * ks[kk]  # stamped by hand: a few dozen nuclei per image
    h = h[:, 6:-6, 6:-6]
    chrom = 0.75 + 0.25 * _lowfreq(g, b, 32)  # chromatin texture
    return np.clip(h, 0, 1.2) * chrom

def _blur(x, sigma):
    "Gaussian blur of (b, C, S, S) images, each with its own `sigma`"
    t = torch.arange(-3, 4, dtype=torch.float32)
    k = torch.exp(-t[None] ** 2 / (2 * torch.as_tensor(sigma, dtype=torch.float32)[:, None] ** 2)); k = k / k.sum(1, keepdim=True)  # (b, 7)
    b, c = x.shape[:2]
    x = x.reshape(1, b * c, S, S)
    kk = k.repeat_interleave(c, 0)
    x = F.conv2d(F.pad(x, (3, 3, 0, 0), mode='reflect'), kk[:, None, None, :], groups=b * c)
    x = F.conv2d(F.pad(x, (0, 0, 3, 3), mode='reflect'), kk[:, None, :, None], groups=b * c)
    return x.reshape(b, c, S, S)

def tissue(ys, seed:int)->np.ndarray:
    "H&E-like patches (b, S, S, 3) uint8 for the labels `ys` (0 or 1), deterministic for `seed`"
    g, b = np.random.default_rng(seed), len(ys)
    ys = np.asarray(ys)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    ang, freq = g.uniform(0, np.pi, (b, 1, 1)), g.uniform(0.25, 0.6, (b, 1, 1))
    warp = 4 * _lowfreq(g, b, 6)
    fibres = 0.5 + 0.5 * np.sin(freq * (xx * np.cos(ang) + yy * np.sin(ang)) + warp)  # wavy collagen
    dens = 0.55 + 0.25 * _lowfreq(g, b, 8)
    eosin = np.clip(dens * (0.6 + 0.4 * fibres) + 0.08 * _lowfreq(g, b, 48), 0.05, 1.2)
    hema = _nuclei(g, ys)
    space = (_lowfreq(g, b, 5) > g.uniform(0.55, 2.0, (b, 1, 1))).astype(np.float32)  # white spaces (fat, lumen) in some patches
    space = _blur(torch.from_numpy(space[:, None]), np.full(b, 1.5))[:, 0].numpy()
    eosin, hema = eosin * (1 - space), hema * (1 - 0.9 * space)
    eosin += 0.1 * np.clip(g.normal(0, 1, (b, 1, 1)), -2, 2) * (1 - space)  # background stain
    # per-image stain variation: strength of each stain and a small tilt of its colour
    hv = H_OD[None] + g.normal(0, 0.04, (b, 3)); ev = E_OD[None] + g.normal(0, 0.04, (b, 3))
    hk, ek = g.uniform(0.8, 1.6, (b, 1, 1, 1)) * (1.15 ** ys)[:, None, None, None], g.uniform(0.35, 0.8, (b, 1, 1, 1))
    od = hema[:, None] * hk * hv[:, :, None, None] + np.clip(eosin, 0, None)[:, None] * ek * ev[:, :, None, None]
    rgb = 255 * np.exp(-od) * g.uniform(0.9, 1.0, (b, 3, 1, 1))
    rgb = _blur(torch.from_numpy(rgb.astype(np.float32)), g.uniform(0.5, 1.1, b)).numpy()
    rgb += g.normal(0, 1, (b, 1, 1, 1)).clip(0, None) * 2 + g.normal(0, g.uniform(2, 6, (b, 1, 1, 1)), rgb.shape)
    return np.clip(rgb, 0, 255).round().astype(np.uint8).transpose(0, 2, 3, 1)

def _near_copy(a, g):
    "A near copy of image `a`: a small change of brightness and fresh noise, as a re-scanned or re-encoded patch"
    x = a.astype(np.float32) * g.uniform(0.95, 1.05) + g.normal(0, 2, a.shape)
    return np.clip(x, 0, 255).round().astype(np.uint8)

def _chunk(args):
    "Write the images `start`.. of `folder` (names counted from 1) with labels `ys`, in batches of 100, except the copies (`copy_of` >= 0)"
    folder, start, ys, copy_of, seed = args
    torch.set_num_threads(1)
    for b in range(0, len(ys), 100):
        for k, a in enumerate(tissue(ys[b:b+100], seed + b), b):
            if copy_of[k] < 0: Image.fromarray(a).save(Path(folder)/f'{start + k + 1:06d}.png')
    return len(ys)

def _copies(folder, src_folder, copy_of, near, seed):
    "Write the copies of `folder`: exact (the same bytes) or near (`_near_copy`) copies of images of `src_folder`"
    g = np.random.default_rng(seed)
    for k in np.flatnonzero(copy_of >= 0):
        f, src = Path(folder)/f'{k + 1:06d}.png', Path(src_folder)/f'{copy_of[k] + 1:06d}.png'
        if near[k]: Image.fromarray(_near_copy(np.asarray(Image.open(src).convert('RGB')), g)).save(f)
        else: f.write_bytes(src.read_bytes())

def _plan(n, seed, pos=0.4, copies=0.003, near=0.003, n_unlabelled=0, leaks=0.002):
    "Labels, and which images are copies of earlier ones (exact or near), of the labelled and the unlabelled images"
    g = np.random.default_rng(seed)
    ys = (g.random(n) < pos).astype(int)
    copy_of, is_near = np.full(n, -1), np.zeros(n, bool)
    k = g.choice(n, int(n * (copies + near)), replace=False)
    src = g.integers(0, n, len(k))
    ok = ~np.isin(src, k)  # a copy of an original (not of itself, nor of another copy)
    copy_of[k[ok]] = src[ok]
    is_near[k[:int(n * near)]] = True
    ys[k[ok]] = ys[src[ok]]
    uc = np.full(n_unlabelled, -1)
    ku = g.choice(n_unlabelled, int(n_unlabelled * leaks), replace=False) if n_unlabelled else np.zeros(0, int)
    uc[ku] = g.integers(0, n, len(ku))
    return ys, copy_of, is_near, g.random(n_unlabelled) < pos, uc

def make_tissue(dest, n=220000, n_unlabelled=20000, workers=2, seed=0, chunk=1000):
    "Write the data set (see the module's docstring) to `dest`; return its folder"
    dest = Path(dest)
    (dest/'train_img').mkdir(parents=True, exist_ok=True); (dest/'val_img').mkdir(exist_ok=True)
    ys, copy_of, near, yu, uc = _plan(n, seed, n_unlabelled=n_unlabelled)
    t0 = time.time()
    tasks = [(dest/'train_img', s, ys[s:s+chunk], copy_of[s:s+chunk], seed * 10**7 + s) for s in range(0, n, chunk)]
    tasks += [(dest/'val_img', s, yu[s:s+chunk].astype(int), uc[s:s+chunk], seed * 10**7 + 5 * 10**6 + s) for s in range(0, n_unlabelled, chunk)]
    with Pool(workers) as p:
        done = 0
        for m in p.imap(_chunk, tasks):
            done += m
            if done % 20000 < chunk: print(f'{done} images, {time.time() - t0:.0f} s', flush=True)
    _copies(dest/'train_img', dest/'train_img', copy_of, near, seed + 1)
    _copies(dest/'val_img', dest/'train_img', uc, np.zeros(n_unlabelled, bool), seed + 2)
    (dest/'label_train.txt').write_text(''.join(f'{y}\n' for y in ys))
    return dest

def subset(src, dest, n):
    "A data folder `dest` with the first `n` labelled images of `src` (hard links) and their labels"
    src, dest = Path(src), Path(dest)
    (dest/'train_img').mkdir(parents=True, exist_ok=True)
    for k in range(1, n + 1):
        f = dest/'train_img'/f'{k:06d}.png'
        if not f.exists(): os.link(src/'train_img'/f.name, f)
    (dest/'label_train.txt').write_text(''.join((src/'label_train.txt').read_text().splitlines(keepends=True)[:n]))
    return dest

def _derive_chunk(args):
    "Write images `ks` of `folder` as flips and rotations (never the identity) of the images `srcs` of `src_folder`, except the copies"
    folder, src_folder, ks, srcs, copy_of = args
    for k, s, c in zip(ks, srcs, copy_of):
        if c >= 0: continue
        a = np.asarray(Image.open(Path(src_folder)/f'{s + 1:06d}.png'))
        t = 1 + (k * 7 + s) % 7  # one of the 7 other elements of the square's symmetry group
        a = np.rot90(a, t % 4)
        if t >= 4: a = a[:, ::-1]
        Image.fromarray(np.ascontiguousarray(a)).save(Path(folder)/f'{k + 1:06d}.png')
    return len(ks)

def derive_rest(dest, k0, n=220000, n_unlabelled=20000, workers=2, seed=0, chunk=1000):
    "Finish a set whose first `k0` labelled images are written: the rest, and the unlabelled images, as flips and rotations of those (faster than drawing new ones), then the copies and the labels"
    dest = Path(dest)
    (dest/'val_img').mkdir(exist_ok=True)
    ys, copy_of, near, yu, uc = _plan(n, seed, n_unlabelled=n_unlabelled)
    orig = np.flatnonzero(copy_of[:k0] < 0)  # sources among the images written (copies are written last)
    src = orig[np.arange(n) % len(orig)]
    ys[k0:] = ys[src[k0:]]  # a flipped or rotated image keeps its label
    ok = copy_of >= 0
    ys[ok] = ys[copy_of[ok]]
    free = np.setdiff1d(orig, src[k0:])  # originals no derived labelled image comes from: no unlabelled image is a labelled one (but the planted leaks)
    usrc = free[(np.arange(n_unlabelled) * 7919 + 13) % len(free)]
    tasks = [(dest/'train_img', dest/'train_img', np.arange(s, min(s + chunk, n)), src[s:s+chunk], copy_of[s:s+chunk]) for s in range(k0, n, chunk)]
    tasks += [(dest/'val_img', dest/'train_img', np.arange(s, min(s + chunk, n_unlabelled)), usrc[s:s+chunk], uc[s:s+chunk]) for s in range(0, n_unlabelled, chunk)]
    t0, done = time.time(), 0
    with Pool(workers) as p:
        for m in p.imap(_derive_chunk, tasks):
            done += m
            if done % 20000 < chunk: print(f'{done} derived images, {time.time() - t0:.0f} s', flush=True)
    _copies(dest/'train_img', dest/'train_img', copy_of, near, seed + 1)
    _copies(dest/'val_img', dest/'train_img', uc, np.zeros(n_unlabelled, bool), seed + 2)
    (dest/'label_train.txt').write_text(''.join(f'{y}\n' for y in ys))
    return dest

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dest'); ap.add_argument('--n', type=int, default=220000); ap.add_argument('--n-unlabelled', type=int, default=20000)
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--subsets', type=int, nargs='*', default=[]); ap.add_argument('--sample', help='write a contact sheet of the first 64 images to this PNG')
    ap.add_argument('--derive-from', type=int, help='the first K labelled images are written (an interrupted run): make the rest as flips and rotations of them')
    a = ap.parse_args()
    d = derive_rest(a.dest, a.derive_from, a.n, a.n_unlabelled, a.workers, a.seed) if a.derive_from else make_tissue(a.dest, a.n, a.n_unlabelled, a.workers, a.seed)
    for k in a.subsets: subset(d, Path(d).parent/f'n{k}', k)
    if a.sample:
        ims = [np.asarray(Image.open(d/'train_img'/f'{k:06d}.png')) for k in range(1, 65)]
        Image.fromarray(np.concatenate([np.concatenate(ims[r*8:(r+1)*8], 1) for r in range(8)])).save(a.sample)
