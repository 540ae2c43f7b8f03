#!/usr/bin/python3
"""PyTorch twin of a kdlab training run, step by step (tests/test_twin.sh).

kdlab writes a trace of its first steps (core/train/trace.h: KD_TRACE=DIR): the initial
weights, each step's augmented batch, labels and drop-path scales, and its loss, gradient norm
and learning rate. This script trains the same timm-style ViT (tests/torch_vit.py) from the same
weights on the same batches with torch's own AdamW, LayerNorm, GELU, attention, cross-entropy
with label smoothing, gradient clipping and a warmup + cosine schedule computed here, and prints
both runs' numbers per step with their relative differences.

  twin.py steps DIR --lr LR --min-lr M --wd WD --clip C --smoothing S --warmup-steps W
      --total-steps T [--tol-loss X] [--tol-norm Y] [--tol-weights Z]
      exit 1 when a step's loss or gradient norm, or the final weights' logits on the first batch,
      differ by more than their tolerance (relative)
  twin.py weights FILE [--tol R]
      kdlab's initial weights (a safetensors export) against a freshly built torch ViT of the
      same shape with PyTorch's default initialization: per tensor, the spread (std) and centre
      (mean) of the values; exit 1 when a std differs by more than R (relative) or a mean sits
      more than 5 standard errors from the reference's
"""
import argparse
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_vit as tv  # noqa: E402

torch = tv.torch
F = tv.F


def block_forward(blk, x, s_attn, s_mlp):
    """timm's Block with per-sample drop-path scales (B,): x + s * branch(x)."""
    x = x + s_attn[:, None, None] * blk.attn(blk.norm1(x))
    return x + s_mlp[:, None, None] * blk.mlp(blk.norm2(x))


def vit_forward(model, x, scales):
    """scales (depth, 2, B). x (B, in_ch, img, img)."""
    x = model.patch_embed(x)
    x = torch.cat([model.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + model.pos_embed
    for blk, s in zip(model.blocks, scales):
        x = block_forward(blk, x, s[0], s[1])
    return model.head(model.norm(x)[:, 0])


def lr_at(step, a):
    """Linear warmup to lr over warmup_steps, then cosine to min_lr, per step (timm, DeiT)."""
    if step < a.warmup_steps:
        return a.lr * (step + 1) / a.warmup_steps
    t = (step - a.warmup_steps) / max(1, a.total_steps - a.warmup_steps)
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * t))


def param_groups(model, wd):
    """Weight decay on the weights of Linear and Conv layers only (timm's rule: no decay on
    biases, norms, the class token and position embedding)."""
    decay, plain = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "embed" not in name.replace("patch_embed", "")
         and "token" not in name else plain).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": plain, "weight_decay": 0.0}]


def read_trace(d):
    rows = list(csv.DictReader(open(os.path.join(d, "steps.csv"))))
    steps = len(rows)
    lab = torch.frombuffer(bytearray(open(os.path.join(d, "labels.i32"), "rb").read()),
                           dtype=torch.int32).reshape(steps, -1).long()
    B = lab.shape[1]
    img = torch.frombuffer(bytearray(open(os.path.join(d, "images.f32"), "rb").read()),
                           dtype=torch.float32).reshape(steps, B, -1)
    dp = torch.frombuffer(bytearray(open(os.path.join(d, "droppath.f32"), "rb").read()),
                          dtype=torch.float32).reshape(steps, -1, 2, B)
    return rows, img, lab, dp


def compare_outputs(model, path, x):
    """max|logits(torch's weights) - logits(kdlab's weights)| / max|logits| on images x, in
    inference. Logits, not weights: the key bias of attention gets a zero gradient in exact
    arithmetic (softmax ignores a shift shared by a row), so AdamW moves it by rounding noise
    alone, differently in each library, with no effect on any output."""
    final, meta = tv.st_read(path)
    other = tv.ViT(**tv.arch_of(meta, None))
    other.load_state_dict(final, strict=True)
    model.eval(), other.eval()
    with torch.no_grad():
        a, b = model(x), other(x)
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-12)


def cmd_weights(a):
    """Same shapes, same distribution: each tensor's std and mean against torch's defaults.
    LayerNorms (ones and zeros in both) and the tokens (trunc normal 0.02 in both) included."""
    tensors, meta = tv.st_read(a.file)
    arch = tv.arch_of(meta, None)
    torch.manual_seed(0)
    ref = tv.ViT(**arch).state_dict()
    ref["cls_token"] = torch.randn(ref["cls_token"].shape) * 0.02  # timm: trunc normal 0.02
    bad = 0
    for k, v in tensors.items():
        r = ref[k]
        sd, rsd = v.std().item() if v.numel() > 1 else 0.0, r.std().item() if r.numel() > 1 else 0.0
        # both are samples: 4 standard errors of a sample's std (sigma / sqrt(2n)) and 5 of the
        # difference of two means (sigma sqrt(2 / n)), or the tolerance if that is wider
        n = v.numel()
        off_std = abs(sd - rsd) > max(a.tol, 4 / math.sqrt(2 * n)) * rsd if rsd > 0 else sd > 0
        off_mean = abs(v.mean().item() - r.mean().item()) > 5 * rsd * math.sqrt(2 / n) + 1e-7
        if (off_std or off_mean) and v.numel() >= 64:
            bad += 1
            print(f"twin init: {k} {tuple(v.shape)}: kdlab std {sd:.4g} mean {v.mean().item():.3g}, "
                  f"torch default std {rsd:.4g} mean {r.mean().item():.3g}")
    print(f"twin init: {len(tensors)} tensors, {bad} differ from PyTorch's default initialization")
    sys.exit(1 if bad else 0)


def cmd_steps(a):
    torch.set_num_threads(a.threads)
    tensors, meta = tv.st_read(os.path.join(a.dir, "init.safetensors"))
    arch = tv.arch_of(meta, None)
    model = tv.ViT(**arch)
    model.load_state_dict(tensors, strict=True)
    model.train()
    opt = torch.optim.AdamW(param_groups(model, a.wd), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    rows, img, lab, dp = read_trace(a.dir)
    S = arch["img"]
    worst = {"loss": (0.0, -1), "norm": (0.0, -1), "lr": (0.0, -1)}
    print("step  loss(kdlab)  loss(torch)  rel    grad_norm(kdlab)  grad_norm(torch)  rel")
    for i, row in enumerate(rows):
        x = img[i].reshape(-1, S, S, arch["in_ch"]).permute(0, 3, 1, 2)
        opt.zero_grad(set_to_none=True)
        logits = vit_forward(model, x, dp[i])
        loss = F.cross_entropy(logits, lab[i], label_smoothing=a.smoothing)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                              a.clip if a.clip > 0 else float("inf"))
        lr = lr_at(int(row["step"]), a)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        k = {"loss": float(row["loss"]), "norm": float(row["grad_norm"]), "lr": float(row["lr"])}
        t = {"loss": loss.item(), "norm": norm.item(), "lr": lr}
        rel = {q: abs(k[q] - t[q]) / max(abs(t[q]), 1e-12) for q in k}
        for q in rel:
            if rel[q] > worst[q][0]:
                worst[q] = (rel[q], i)
        if i < 5 or i % 25 == 0 or i == len(rows) - 1:
            print(f"{i:4d}  {k['loss']:.6f}     {t['loss']:.6f}     {rel['loss']:.1e}  "
                  f"{k['norm']:.5f}           {t['norm']:.5f}           {rel['norm']:.1e}")
    x = img[0].reshape(-1, S, S, arch["in_ch"]).permute(0, 3, 1, 2)
    wd = compare_outputs(model, os.path.join(a.dir, "final.safetensors"), x)
    ok = worst["loss"][0] <= a.tol_loss and worst["norm"][0] <= a.tol_norm \
        and worst["lr"][0] <= 1e-5 and wd <= a.tol_weights
    print(f"twin: {len(rows)} steps; worst relative difference: loss {worst['loss'][0]:.2e} "
          f"(step {worst['loss'][1]}, tol {a.tol_loss:g}), gradient norm {worst['norm'][0]:.2e} "
          f"(step {worst['norm'][1]}, tol {a.tol_norm:g}), lr {worst['lr'][0]:.1e}; final "
          f"weights' logits {wd:.2e} (tol {a.tol_weights:g})")
    sys.exit(0 if ok else 1)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("weights")
    s.add_argument("file"), s.add_argument("--tol", type=float, default=0.05)
    s = sub.add_parser("steps")
    s.add_argument("dir")
    for k in ("lr", "min_lr", "wd", "clip", "smoothing"):
        s.add_argument("--" + k.replace("_", "-"), dest=k, type=float, required=True)
    s.add_argument("--warmup-steps", type=int, required=True)
    s.add_argument("--total-steps", type=int, required=True)
    s.add_argument("--tol-loss", type=float, default=1e-4)
    s.add_argument("--tol-norm", type=float, default=1e-3)
    s.add_argument("--tol-weights", type=float, default=1e-3)
    s.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    cmd_weights(a) if a.cmd == "weights" else cmd_steps(a)


if __name__ == "__main__":
    main()
