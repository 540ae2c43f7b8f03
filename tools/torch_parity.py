#!/usr/bin/python3
"""PyTorch side of README "Training parity": the ViT-s of configs/teachers/vit_s.yaml trained
with PyTorch's own layers and optimizer on all of Fashion-MNIST, kdlab's recipe, one CSV line an
epoch (epoch, train_loss, test_acc), so its curve can be set beside `bin/train`'s.

  tools/torch_parity.py OUT.csv [--seed S] [--epochs 10] [--stop-after E] [--threads 1]
      [--n 60000]
  --stop-after E ends after epoch E of the --epochs schedule (the first epochs of a longer run)

Recipe (configs/base/vit.yaml, optim_adamw.yaml, data_fmnist.yaml with optim.epochs=10
model.drop_path=0.1): dim 128, depth 6, 4 heads, patch 4, MLP ratio 4, PyTorch's default layer
initialization (class token 0, position embedding normal 0.02), drop path rising linearly to 0.1
over the blocks; AdamW lr 1e-3, betas (0.9, 0.999), wd 0.05 on Linear and Conv weights only, one
warmup epoch then cosine to 1e-5 per step, label smoothing 0.1, gradient norm clipped at 5, batch
128 (the last partial batch dropped, as kdlab does); +-2 px shift with zero fill and horizontal
flip; (x / 255 - 0.2860) / 0.3530. Data order, augmentation and drop path come from torch's
generator, so the runs share kdlab's distribution, not its draws (tests/test_twin.sh compares
draw for draw).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import torch_vit as tv  # noqa: E402
from twin import lr_at, param_groups, vit_forward  # noqa: E402

torch = tv.torch
F = tv.F
BATCH = 128


def drop_scales(drops, B):
    """Per-sample stochastic depth as twin.vit_forward takes it, (depth, 2, B): keep / (1 - rate)
    for the attention and MLP branch of each block, drawn in block order (none at rate 0)."""
    scales = torch.ones(len(drops), 2, B)
    for i, d in enumerate(drops):
        for branch in range(2):
            if d > 0:
                scales[i, branch] = (torch.rand(B) >= d).float() / (1 - d)
    return scales


def augment(x):
    """+-2 px shift with zero fill (in pixel space, i.e. the normalized value of black) and a
    horizontal flip with probability 1/2, per sample."""
    B = x.shape[0]
    black = (0 - 0.2860) / 0.3530
    padded = F.pad(x, (2, 2, 2, 2), value=black)
    dx, dy = torch.randint(0, 5, (B,)), torch.randint(0, 5, (B,))
    flip = torch.rand(B) < 0.5
    span = torch.arange(28)
    rows = dy[:, None] + span
    cols = torch.where(flip[:, None], dx[:, None] + span.flip(0), dx[:, None] + span)
    return padded[torch.arange(B)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


def test_accuracy(model, xt, yt):
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(yt), 500):
            right += (model(xt[i:i + 500]).argmax(1) == yt[i:i + 500]).sum().item()
    model.train()
    return right / len(yt)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--stop-after", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=60000)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    model = tv.ViT(img=28, in_ch=1, classes=10, patch=4, dim=128, depth=6, heads=4, mlp_ratio=4)
    drops = [0.1 * i / (len(model.blocks) - 1) for i in range(len(model.blocks))]
    x, y = tv.fmnist_train(a.n)
    xt, yt = tv.fmnist_test(10000)
    xt = xt.permute(0, 3, 1, 2).contiguous()
    steps_per_epoch = a.n // BATCH
    sched = argparse.Namespace(lr=1e-3, min_lr=1e-5, warmup_steps=steps_per_epoch,
                               total_steps=steps_per_epoch * a.epochs)
    opt = torch.optim.AdamW(param_groups(model, 0.05), lr=1e-3, betas=(0.9, 0.999))
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("epoch,train_loss,test_acc\n")
        step = 0
        for epoch in range(1, (a.stop_after or a.epochs) + 1):
            perm, total = torch.randperm(a.n), 0.0
            for i in range(steps_per_epoch):
                idx = perm[i * BATCH:(i + 1) * BATCH]
                for g in opt.param_groups:
                    g["lr"] = lr_at(step, sched)
                xb = augment(x[idx])
                logits = vit_forward(model, xb, drop_scales(drops, BATCH))
                loss = F.cross_entropy(logits, y[idx], label_smoothing=0.1)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                total += loss.item()
                step += 1
            acc = test_accuracy(model, xt, yt)
            f.write(f"{epoch},{total / steps_per_epoch:.6f},{acc:.6f}\n")
            f.flush()
            print(f"[torch seed {a.seed}] epoch {epoch}/{a.epochs} loss "
                  f"{total / steps_per_epoch:.4f} test {acc:.4f}", flush=True)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
