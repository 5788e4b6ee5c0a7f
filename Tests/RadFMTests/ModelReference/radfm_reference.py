"""Independent numpy reference of RadFM's forward pass, written from DESIGN section 5.

Usage: radfm_reference.py WORKDIR
WORKDIR holds manifest.json ({"config": ..., "tensors": {name: shape}, "tasks": {...}}) and one raw
little-endian float32 file per tensor (name + ".f32"). Results are written back as NAME.out.f32 files and
greedy.json. Computation is in float64 so the reference is the more exact side of the comparison.
"""
import json
import math
import os
import sys

import numpy as np

work = sys.argv[1]
manifest = json.load(open(os.path.join(work, "manifest.json")))
cfg = manifest["config"]


def load(name):
    shape = manifest["tensors"][name]
    return np.fromfile(os.path.join(work, name + ".f32"), dtype="<f4").astype(np.float64).reshape(shape)


def save(name, array):
    np.asarray(array, dtype="<f4").tofile(os.path.join(work, name + ".out.f32"))


W = {}


def w(key):
    if key not in W:
        W[key] = load(key)
    return W[key]


def layer_norm(x, prefix, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w(prefix + ".weight") + w(prefix + ".bias")


def linear(x, prefix, bias=True):
    y = x @ w(prefix + ".weight").T
    return y + w(prefix + ".bias") if bias else y


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(q, k, v, heads, causal=False):
    # q [n, h*d], k/v [m, h*d] -> [n, h*d]
    n, m = q.shape[0], k.shape[0]
    d = q.shape[1] // heads
    qh = q.reshape(n, heads, d).transpose(1, 0, 2)
    kh = k.reshape(m, heads, d).transpose(1, 0, 2)
    vh = v.reshape(m, heads, d).transpose(1, 0, 2)
    scores = qh @ kh.transpose(0, 2, 1) / math.sqrt(d)
    if causal:
        mask = np.triu(np.ones((n, m), dtype=bool), k=m - n + 1)
        scores = np.where(mask, -np.inf, scores)
    return (softmax(scores) @ vh).transpose(1, 0, 2).reshape(n, heads * d)


def vit(image):
    v = cfg["vision"]
    p, pf = v["patch_size"], v["frame_patch_size"]
    c, H, Wd, D = image.shape
    h, wn, f = H // p, Wd // p, D // pf
    # 'c (h p1) (w p2) (f pf) -> (h w f) (p1 p2 pf c)'
    x = image.reshape(c, h, p, wn, p, f, pf).transpose(1, 3, 5, 2, 4, 6, 0).reshape(h * wn * f, -1)
    pre = "embedding_layer.vision_encoder."
    x = layer_norm(x, pre + "to_patch_embedding.1")
    x = linear(x, pre + "to_patch_embedding.2")
    x = layer_norm(x, pre + "to_patch_embedding.3")
    tables = [w(pre + "pos_embedding.%s_embed.weight" % t) for t in ("row", "col", "dep")]
    idx = [(np.arange(n) + 1) * (t.shape[0] // n) - 1 for n, t in zip((h, wn, f), tables)]
    pos = np.concatenate([
        np.broadcast_to(tables[0][idx[0]][:, None, None, :], (h, wn, f, tables[0].shape[1])),
        np.broadcast_to(tables[1][idx[1]][None, :, None, :], (h, wn, f, tables[1].shape[1])),
        np.broadcast_to(tables[2][idx[2]][None, None, :, :], (h, wn, f, tables[2].shape[1])),
    ], axis=-1).reshape(h * wn * f, -1)
    x = x + pos
    inner = v["heads"] * v["dim_head"]
    for j in range(v["depth"]):
        b = pre + "transformer.layers.%d." % j
        qkv = linear(layer_norm(x, b + "0.norm"), b + "0.fn.to_qkv", bias=False)
        q, k, vv = qkv[:, :inner], qkv[:, inner:2 * inner], qkv[:, 2 * inner:]
        x = x + linear(attention(q, k, vv, v["heads"]), b + "0.fn.to_out.0")
        hdn = gelu(linear(layer_norm(x, b + "1.norm"), b + "1.fn.net.0"))
        x = x + linear(hdn, b + "1.fn.net.3")
    return x


def perceiver(media):
    pc = cfg["perceiver"]
    pre = "embedding_layer.perceiver."
    latents = w(pre + "latents").copy()
    inner = pc["heads"] * pc["dim_head"]
    for k in range(pc["depth"]):
        b = pre + "layers.%d." % k
        xm = layer_norm(media, b + "0.norm_media")
        lt = layer_norm(latents, b + "0.norm_latents")
        q = linear(lt, b + "0.to_q", bias=False)
        kv = linear(np.concatenate([xm, lt], axis=0), b + "0.to_kv", bias=False)
        att = attention(q, kv[:, :inner], kv[:, inner:], pc["heads"])
        latents = latents + linear(att, b + "0.to_out", bias=False)
        hdn = gelu(linear(layer_norm(latents, b + "1.0"), b + "1.1", bias=False))
        latents = latents + linear(hdn, b + "1.3", bias=False)
    return layer_norm(latents, pre + "norm")


def visual_tokens(images):
    return np.concatenate([linear(perceiver(vit(im)), "embedding_layer.fc") for im in images], axis=0)


def rms_norm(x, key):
    eps = cfg["text"]["rms_norm_eps"]
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w(key)


def rotary(x, positions):
    t = cfg["text"]
    heads = t["num_attention_heads"]
    d = x.shape[1] // heads
    inv = 1.0 / (t["rope_theta"] ** (np.arange(0, d, 2) / d))
    ang = positions[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(ang)] * 2, axis=-1)[:, None, :]
    sin = np.concatenate([np.sin(ang)] * 2, axis=-1)[:, None, :]
    xh = x.reshape(x.shape[0], heads, d)
    rotated = np.concatenate([-xh[..., d // 2:], xh[..., :d // 2]], axis=-1)
    return (xh * cos + rotated * sin).reshape(x.shape)


def llama_layer(x, i):
    t = cfg["text"]
    b = "lang_model.model.layers.%d." % i
    pos = np.arange(x.shape[0], dtype=np.float64)
    h = rms_norm(x, b + "input_layernorm.weight")
    q = rotary(h @ w(b + "self_attn.q_proj.weight").T, pos)
    k = rotary(h @ w(b + "self_attn.k_proj.weight").T, pos)
    v = h @ w(b + "self_attn.v_proj.weight").T
    x = x + attention(q, k, v, t["num_attention_heads"], causal=True) @ w(b + "self_attn.o_proj.weight").T
    h = rms_norm(x, b + "post_attention_layernorm.weight")
    g = h @ w(b + "mlp.gate_proj.weight").T
    u = h @ w(b + "mlp.up_proj.weight").T
    return x + (g / (1 + np.exp(-g)) * u) @ w(b + "mlp.down_proj.weight").T


def embed(ids, visual):
    vocab = cfg["text"]["vocab_size"]
    table = np.concatenate([w("embedding_layer.weight"), w("embedding_layer.figure_token_weight"), visual], axis=0)
    return table[np.asarray(ids)]


def logits_last(ids, visual):
    x = embed(ids, visual)
    for i in range(cfg["text"]["num_hidden_layers"]):
        x = llama_layer(x, i)
    return rms_norm(x[-1:], "lang_model.model.norm.weight") @ w("lang_model.lm_head.weight").T


tasks = manifest["tasks"]
images = [load(name) for name in tasks["images"]]
features = vit(images[0])
save("vit", features)
save("perceiver", perceiver(features))
save("llama_layer0", llama_layer(load(tasks["layer_input"]), 0))
visual = visual_tokens(images)
ids = list(tasks["prompt"])
save("logits", logits_last(ids, visual)[0])
generated = []
for _ in range(tasks["greedy_steps"]):
    token = int(np.argmax(logits_last(ids + generated, visual)[0]))
    generated.append(token)
    if token == cfg["eos_token_id"]:
        break
json.dump({"tokens": generated}, open(os.path.join(work, "greedy.json"), "w"))
