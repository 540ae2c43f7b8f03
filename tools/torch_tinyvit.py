"""PyTorch TinyViT written as TinyViT's own code is (microsoft/Cream TinyViT/models/tiny_vit.py).

Imported by tools/bench_torch.py (--arch tinyvit) and by the twin test (tests/torch_tinyvit.py).
Module names, and so state_dict keys, are the official ones (patch_embed.seq.0.c.weight,
layers.0.blocks.0.conv3.bn.running_var, layers.1.blocks.0.attn.attention_biases,
layers.2.downsample.conv2.c.weight, norm_head.weight), so bin/export's file of a kdlab TinyViT
loads with load_state_dict(strict=True). Every forward is the official one: Conv2d_BN (bias-free
conv, BatchNorm2d eps 1e-5), MBConv (GELU after each of the first two Conv2d_BN and after the
residual sum), PatchMerging (1x1, 3x3 depthwise stride 2, 1x1; GELU after the first two), window
attention on the map zero-padded at the bottom/right to whole windows (padded tokens unmasked),
LayerNorm inside the attention, qkv split per head as [q_h k_h v_h], a bias per head and offset
(|dy|, |dx|) numbered in the order the offsets first appear, the 3x3 depthwise local conv
without residual, pre-norm MLP, token mean, norm_head, head.

Where kdlab's hybrid TinyViT deliberately differs from the official code, this follows kdlab:
  * LayerNorm eps 1e-6 (LN_EPS: kdlab's LAYERNORM_EPS in core/ops/ops.h, shared with its ViTs
    and timm's ViT); the official modules keep nn.LayerNorm's default 1e-5.
  * the second stem conv has stride 1 below 112 pixels (28 -> 14, core/models/tinyvit.h); the
    official one always has stride 2.
  * each stage's resolution is the side its convolutions give (14, 7, 4, 2 at 28 pixels); the
    official code computes img // 4 // 2**i, which agrees only while every side is even.
  * with a single stage the mean is over the map's pixels (the official x.mean(1) would average
    the channels of the 4-d map).
Not taken from the official code: timm (DropPath is written out) and its weight init (layers keep
torch's defaults, as kdlab's model.weight_init: torch). BatchNorm2d keeps torch's momentum 0.1;
kdlab averages the first ten batches' statistics instead (core/nn/conv_bn.c), which the twin test
mirrors where it compares running statistics.
"""
import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-6  # kdlab's; TinyViT's nn.LayerNorm default is 1e-5


def conv_side(side, stride):
    """Output side of a 3x3 convolution with padding 1."""
    return (side - 1) // stride + 1


class DropPath(nn.Module):
    """Per-sample stochastic depth (timm's DropPath)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


def drop_path(p):
    return DropPath(p) if p > 0 else nn.Identity()


class Conv2d_BN(nn.Sequential):
    def __init__(self, a, b, ks=1, stride=1, pad=0, groups=1, bn_weight_init=1.0):
        super().__init__()
        self.add_module("c", nn.Conv2d(a, b, ks, stride, pad, groups=groups, bias=False))
        bn = nn.BatchNorm2d(b)
        nn.init.constant_(bn.weight, bn_weight_init)
        nn.init.constant_(bn.bias, 0)
        self.add_module("bn", bn)


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, embed_dim, resolution):
        super().__init__()
        n = embed_dim
        stride = 2 if resolution >= 112 else 1  # kdlab: 28 -> 14 (official: always 2)
        self.seq = nn.Sequential(Conv2d_BN(in_chans, n // 2, 3, 2, 1), nn.GELU(),
                                 Conv2d_BN(n // 2, n, 3, stride, 1))
        self.side = conv_side(conv_side(resolution, 2), stride)

    def forward(self, x):
        return self.seq(x)


class MBConv(nn.Module):
    def __init__(self, in_chans, out_chans, expand_ratio, dp):
        super().__init__()
        hidden = int(in_chans * expand_ratio)
        self.conv1 = Conv2d_BN(in_chans, hidden, ks=1)
        self.act1 = nn.GELU()
        self.conv2 = Conv2d_BN(hidden, hidden, ks=3, stride=1, pad=1, groups=hidden)
        self.act2 = nn.GELU()
        self.conv3 = Conv2d_BN(hidden, out_chans, ks=1, bn_weight_init=0.0)
        self.act3 = nn.GELU()
        self.drop_path = drop_path(dp)

    def forward(self, x):
        y = self.conv3(self.act2(self.conv2(self.act1(self.conv1(x)))))
        return self.act3(x + self.drop_path(y))


class PatchMerging(nn.Module):
    def __init__(self, input_resolution, dim, out_dim):
        super().__init__()
        self.input_resolution = input_resolution
        self.act = nn.GELU()
        self.conv1 = Conv2d_BN(dim, out_dim, 1, 1, 0)
        self.conv2 = Conv2d_BN(out_dim, out_dim, 3, 2, 1, groups=out_dim)
        self.conv3 = Conv2d_BN(out_dim, out_dim, 1, 1, 0)

    def forward(self, x):  # (B, C, H, W) after the MBConv stage, else (B, L, C)
        if x.ndim == 3:
            H, W = self.input_resolution
            x = x.view(len(x), H, W, -1).permute(0, 3, 1, 2)
        x = self.conv3(self.act(self.conv2(self.act(self.conv1(x)))))
        return x.flatten(2).transpose(1, 2)


class Stage(nn.Module):
    """What ConvLayer and BasicLayer share: their blocks, then the patch merging (if any)."""

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.downsample(x) if self.downsample is not None else x


class ConvLayer(Stage):
    def __init__(self, dim, input_resolution, depth, drop_path, downsample, out_dim,
                 conv_expand_ratio):
        super().__init__()
        self.blocks = nn.ModuleList(MBConv(dim, dim, conv_expand_ratio, drop_path[i])
                                    for i in range(depth))
        self.downsample = downsample(input_resolution, dim, out_dim) if downsample else None


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.norm = nn.LayerNorm(in_features, eps=LN_EPS)
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.act = nn.GELU()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.norm(x))))


class Attention(nn.Module):
    def __init__(self, dim, key_dim, num_heads, attn_ratio, resolution):
        super().__init__()
        self.num_heads = num_heads
        self.scale = key_dim ** -0.5
        self.key_dim = key_dim
        self.d = int(attn_ratio * key_dim)
        self.dh = self.d * num_heads
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.qkv = nn.Linear(dim, self.dh + 2 * key_dim * num_heads)
        self.proj = nn.Linear(self.dh, dim)
        points = list(itertools.product(range(resolution[0]), range(resolution[1])))
        offsets, idxs = {}, []
        for p1 in points:
            for p2 in points:
                off = (abs(p1[0] - p2[0]), abs(p1[1] - p2[1]))
                idxs.append(offsets.setdefault(off, len(offsets)))
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, len(offsets)))
        self.register_buffer("attention_bias_idxs",
                             torch.LongTensor(idxs).view(len(points), len(points)),
                             persistent=False)

    def forward(self, x):  # (B, N, C)
        B, N, _ = x.shape
        qkv = self.qkv(self.norm(x))
        q, k, v = qkv.view(B, N, self.num_heads, -1).split([self.key_dim, self.key_dim, self.d],
                                                           dim=3)
        q, k, v = q.permute(0, 2, 1, 3), k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = (attn + self.attention_biases[:, self.attention_bias_idxs]).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, self.dh))


class TinyViTBlock(nn.Module):
    def __init__(self, dim, input_resolution, num_heads, window_size, mlp_ratio, dp,
                 local_conv_size=3):
        super().__init__()
        self.input_resolution = input_resolution
        self.window_size = window_size
        self.drop_path = drop_path(dp)
        self.attn = Attention(dim, dim // num_heads, num_heads, attn_ratio=1,
                              resolution=(window_size, window_size))
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.local_conv = Conv2d_BN(dim, dim, ks=local_conv_size, stride=1,
                                    pad=local_conv_size // 2, groups=dim)

    def windowed_attn(self, x):  # (B, L, C): pad to whole windows, attend, crop
        H, W = self.input_resolution
        B, L, C = x.shape
        ws = self.window_size
        if H == ws and W == ws:
            return self.attn(x)
        x = x.view(B, H, W, C)
        pad_b, pad_r = (ws - H % ws) % ws, (ws - W % ws) % ws
        if pad_b > 0 or pad_r > 0:
            x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        pH, pW = H + pad_b, W + pad_r
        nH, nW = pH // ws, pW // ws
        x = x.view(B, nH, ws, nW, ws, C).transpose(2, 3).reshape(B * nH * nW, ws * ws, C)
        x = self.attn(x)
        x = x.view(B, nH, nW, ws, ws, C).transpose(2, 3).reshape(B, pH, pW, C)
        return x[:, :H, :W].contiguous().view(B, L, C)

    def forward(self, x):  # (B, L, C)
        H, W = self.input_resolution
        B, L, C = x.shape
        x = x + self.drop_path(self.windowed_attn(x))
        x = self.local_conv(x.transpose(1, 2).reshape(B, C, H, W))
        x = x.view(B, C, L).transpose(1, 2)
        return x + self.drop_path(self.mlp(x))


class BasicLayer(Stage):
    def __init__(self, dim, input_resolution, depth, num_heads, window_size, mlp_ratio,
                 drop_path, downsample, out_dim):
        super().__init__()
        self.blocks = nn.ModuleList(
            TinyViTBlock(dim, input_resolution, num_heads, window_size, mlp_ratio, drop_path[i])
            for i in range(depth))
        self.downsample = downsample(input_resolution, dim, out_dim) if downsample else None


class TinyViT(nn.Module):
    def __init__(self, img_size=28, in_chans=1, num_classes=10, embed_dims=(32, 64, 80, 160),
                 depths=(1, 1, 3, 1), num_heads=(2, 4, 5, 10), window_sizes=(7, 4, 4, 2),
                 mlp_ratio=4.0, drop_path_rate=0.0, mbconv_expand_ratio=4.0):
        super().__init__()
        self.patch_embed = PatchEmbed(in_chans, embed_dims[0], img_size)
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, sum(depths))]
        side = self.patch_embed.side
        self.layers = nn.ModuleList()
        for i, dim in enumerate(embed_dims):
            last = i + 1 == len(embed_dims)
            kw = dict(dim=dim, input_resolution=(side, side), depth=depths[i],
                      drop_path=dpr[sum(depths[:i]):sum(depths[:i + 1])],
                      downsample=None if last else PatchMerging,
                      out_dim=embed_dims[min(i + 1, len(embed_dims) - 1)])
            if i == 0:
                self.layers.append(ConvLayer(conv_expand_ratio=mbconv_expand_ratio, **kw))
            else:
                self.layers.append(BasicLayer(num_heads=num_heads[i], window_size=window_sizes[i],
                                              mlp_ratio=mlp_ratio, **kw))
            side = side if last else conv_side(side, 2)  # kdlab: the merge's real output side
        self.norm_head = nn.LayerNorm(embed_dims[-1], eps=LN_EPS)
        self.head = nn.Linear(embed_dims[-1], num_classes)

    def forward(self, x):  # (B, in_chans, img, img)
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        if x.ndim == 4:  # a single MBConv stage
            x = x.flatten(2).transpose(1, 2)
        return self.head(self.norm_head(x.mean(1)))
