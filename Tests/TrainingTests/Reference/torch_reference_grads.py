"""Independent PyTorch check of `radfm-train --dump-grads`.

Re-implements RadFM's forward (3D ViT, perceiver, fc, fused embedding, LLaMA) in plain PyTorch after
chaoyi-wu/RadFM's module definitions and transformers' LLaMA, loads a model directory's model.safetensors,
runs the first batch of a manifest (samples whose images are preprocessed .npy tensors at position 0 of
the question, as `--no-shuffle` batches them), and compares autograd's gradients of RadFM's loss with the
file the Swift trainer dumped. Prints the worst relative error per tensor and exits non-zero above --tolerance.

usage: python torch_reference_grads.py MODEL_DIR MANIFEST.jsonl GRADS.safetensors --batch-size B
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import sentencepiece
import torch
import torch.nn.functional as F
from safetensors.torch import load_file


def encode_sample(sp, sample, tokens_per_image, folder):
    """RadFM multi_dataset for images at position 0 of the question."""
    markup = []
    images = []
    for index, image in enumerate(sample.get("images", [])):
        assert image.get("position", 0) <= 1 and image.get("in", "question") == "question"
        markup += [32000] + [32002 + index * tokens_per_image + k for k in range(tokens_per_image)] + [32001]
        path = image["path"] if os.path.isabs(image["path"]) else os.path.join(folder, image["path"])
        images.append(torch.from_numpy(np.load(path)).float())
    text = sample["question"] + " " + sample["answer"].replace("\u2022", "")
    # After an added token the slow LlamaTokenizer strips the chunk's leading white space.
    ids = [1] + markup + sp.encode(text.lstrip() if markup else text) + [2]
    question = sample["question"]
    question_length = 1 + len(markup) + len(sp.encode(question.lstrip() if markup else question))
    labels = [(-100 if (i < question_length or t == 0 or t >= 32000) else t) for i, t in enumerate(ids)]
    return ids, labels, images


def layer_norm(x, w, prefix):
    return F.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], w[prefix + ".bias"], 1e-5)


def attention(q, k, v, heads, causal=False):
    q, k, v = (t.reshape(t.shape[0], heads, -1).transpose(0, 1) for t in (q, k, v))
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n = scores.shape[-1]
        scores = scores.masked_fill(torch.triu(torch.ones(n, n, dtype=torch.bool), 1), float("-inf"))
    return (scores.softmax(-1) @ v).transpose(0, 1).reshape(q.shape[1], -1)


def vision(image, w, c):
    v = c["vision"]
    p, pf = v["patch_size"], v["frame_patch_size"]
    ch, H, W, D = image.shape
    x = image.reshape(ch, H // p, p, W // p, p, D // pf, pf).permute(1, 3, 5, 2, 4, 6, 0).reshape(-1, p * p * pf * ch)
    e = "embedding_layer.vision_encoder."
    x = layer_norm(x, w, e + "to_patch_embedding.1")
    x = F.linear(x, w[e + "to_patch_embedding.2.weight"], w[e + "to_patch_embedding.2.bias"])
    x = layer_norm(x, w, e + "to_patch_embedding.3")
    gh, gw, gd = H // p, W // p, D // pf
    def table(name, n):
        weights = w[e + "pos_embedding." + name + ".weight"]
        return weights[torch.tensor([(i + 1) * (weights.shape[0] // n) - 1 for i in range(n)])]
    rows, cols, deps = table("row_embed", gh), table("col_embed", gw), table("dep_embed", gd)
    pos = torch.cat([rows[:, None, None, :].expand(gh, gw, gd, -1), cols[None, :, None, :].expand(gh, gw, gd, -1),
                     deps[None, None, :, :].expand(gh, gw, gd, -1)], -1).reshape(gh * gw * gd, -1)
    x = x + pos
    for j in range(v["depth"]):
        b = e + f"transformer.layers.{j}."
        q, k, vv = F.linear(layer_norm(x, w, b + "0.norm"), w[b + "0.fn.to_qkv.weight"]).chunk(3, -1)
        x = x + F.linear(attention(q, k, vv, v["heads"]), w[b + "0.fn.to_out.0.weight"], w[b + "0.fn.to_out.0.bias"])
        h = F.gelu(F.linear(layer_norm(x, w, b + "1.norm"), w[b + "1.fn.net.0.weight"], w[b + "1.fn.net.0.bias"]))
        x = x + F.linear(h, w[b + "1.fn.net.3.weight"], w[b + "1.fn.net.3.bias"])
    return x


def perceiver(media, w, c):
    pc = c["perceiver"]
    e = "embedding_layer.perceiver."
    latents = w[e + "latents"]
    for k in range(pc["depth"]):
        b = e + f"layers.{k}."
        m = layer_norm(media, w, b + "0.norm_media")
        l = layer_norm(latents, w, b + "0.norm_latents")
        q = F.linear(l, w[b + "0.to_q.weight"])
        key, value = F.linear(torch.cat([m, l]), w[b + "0.to_kv.weight"]).chunk(2, -1)
        latents = latents + F.linear(attention(q, key, value, pc["heads"]), w[b + "0.to_out.weight"])
        h = F.gelu(F.linear(layer_norm(latents, w, b + "1.0"), w[b + "1.1.weight"]))
        latents = latents + F.linear(h, w[b + "1.3.weight"])
    return layer_norm(latents, w, e + "norm")


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate(x, heads, theta):
    n, width = x.shape
    d = width // heads
    inv = 1.0 / (theta ** (torch.arange(0, d, 2).float() / d))
    angles = torch.outer(torch.arange(n).float(), inv)
    cos, sin = torch.cat([angles.cos()] * 2, -1)[:, None, :], torch.cat([angles.sin()] * 2, -1)[:, None, :]
    x = x.reshape(n, heads, d)
    rotated = torch.cat([-x[..., d // 2:], x[..., :d // 2]], -1)
    return (x * cos + rotated * sin).reshape(n, width)


def language(x, w, c):
    t = c["text"]
    heads, eps = t["num_attention_heads"], t["rms_norm_eps"]
    for i in range(t["num_hidden_layers"]):
        b = f"lang_model.model.layers.{i}."
        h = rms_norm(x, w[b + "input_layernorm.weight"], eps)
        q = rotate(F.linear(h, w[b + "self_attn.q_proj.weight"]), heads, t["rope_theta"])
        k = rotate(F.linear(h, w[b + "self_attn.k_proj.weight"]), heads, t["rope_theta"])
        v = F.linear(h, w[b + "self_attn.v_proj.weight"])
        x = x + F.linear(attention(q, k, v, heads, causal=True), w[b + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[b + "post_attention_layernorm.weight"], eps)
        gated = F.silu(F.linear(h, w[b + "mlp.gate_proj.weight"])) * F.linear(h, w[b + "mlp.up_proj.weight"])
        x = x + F.linear(gated, w[b + "mlp.down_proj.weight"])
    return F.linear(rms_norm(x, w["lang_model.model.norm.weight"], eps), w["lang_model.lm_head.weight"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("manifest")
    parser.add_argument("grads")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_default_dtype(torch.float32)
    config = json.load(open(os.path.join(args.model_dir, "config.json")))
    weights = load_file(os.path.join(args.model_dir, "model.safetensors"))
    weights.pop("lang_model.model.embed_tokens.weight", None)  # tied: one leaf, as in RadFM
    for tensor in weights.values():
        tensor.requires_grad_(True)
    sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(args.model_dir, "tokenizer.model"))
    folder = os.path.dirname(os.path.abspath(args.manifest))
    samples = [json.loads(line) for line in open(args.manifest) if line.strip()][: args.batch_size]

    total, count = 0.0, 0
    for sample in samples:
        ids, labels, images = encode_sample(sp, sample, config["perceiver"]["num_latents"], folder)
        visual = [F.linear(perceiver(vision(image, weights, config), weights, config),
                           weights["embedding_layer.fc.weight"], weights["embedding_layer.fc.bias"]) for image in images]
        table = torch.cat([weights["embedding_layer.weight"], weights["embedding_layer.figure_token_weight"]] + visual)
        logits = language(table[torch.tensor(ids)], weights, config)
        targets = torch.tensor(labels[1:])
        total = total + F.cross_entropy(logits[:-1], targets, ignore_index=-100, reduction="sum")
        count += int((targets != -100).sum())
    loss = total / count
    loss.backward()
    print(f"reference loss {loss.item():.6f} over {count} labels")

    dumped = load_file(args.grads)
    worst = 0.0
    for key, gradient in sorted(dumped.items()):
        reference = weights[key].grad
        scale = reference.abs().max().item()
        error = (gradient - reference).abs().max().item() / max(scale, 1e-12)
        worst = max(worst, error)
        print(f"{key:70s} max|ref| {scale:.3e}  max rel err {error:.2e}")
    frozen = sorted(k for k in weights if k not in dumped)
    print(f"{len(dumped)} tensors compared, worst relative error {worst:.2e}; not in the dump (frozen): {len(frozen)}")
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()
