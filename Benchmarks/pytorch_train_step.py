"""One training step of RadFM's own PyTorch code beside `radfm-train`, on the same config, batch and threads.

RadFM's model classes are imported from a checkout of chaoyi-wu/RadFM given on the command line (never
copied here). Its constructors hard-code the 14 B sizes and load pretrained files, so the script builds
`MultiLLaMAForCausalLM` with three substitutions that leave the math of the trained path unchanged:

- `LlamaForCausalLM.from_pretrained` returns a randomly initialised LLaMA of the config's text sizes;
- `MyEmbedding`, `ViT` and `PerceiverResampler` get the config's sizes and dropout instead of the
  hard-coded ones;
- Med-KEBERT (only used when key words are given, which RadFM's final training does not do) is a tiny
  random BertModel, and its tokenizer is not loaded.

The batch is the one `radfm-train --dump-batch` wrote (ids, labels and preprocessed images as our
SampleEncoder and preprocessing produce them), padded into RadFM's collated form (pad id 0, label -100,
attention mask 0). Weights come from one of our safetensors checkpoints when `--weights` is given
(same key names), else from PyTorch's random initialisation: the sizes are what matters for timing.

A step is forward + backward + global-norm clipping (1.0, the HF Trainer's default and ours) + AdamW on
the HF Trainer's cosine schedule (no warm-up, over warmup + steps updates, as `radfm-train --steps` of
that total runs it), timed as the median of `--steps` steps after `--warmup`. With the same starting
weights the per-step losses of both programs agree, which checks that the same computation is timed. RadFM trains the language model with gradient
checkpointing (its constructor turns it on); the step is timed with it and without.

    python Benchmarks/pytorch_train_step.py --radfm /tmp/radfm-ref --config DIR/config.json \\
        --batch batch.safetensors --threads 2 [--weights model.safetensors] [--swift-log log.jsonl]

With `--swift-log` (the `--log` JSONL of a `radfm-train` run on the same batch) it also prints that run's
median step time and the ratio.
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time
import types

import numpy as np
import torch


def read_safetensors(path):
    """float32 safetensors as numpy arrays (the format our trainer writes), without extra packages."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    arrays = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise SystemExit(f"{path}: {key} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        arrays[key] = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
    return arrays


def import_radfm(checkout):
    source = os.path.join(checkout, "src")
    if not os.path.isdir(os.path.join(source, "Model", "RadFM")):
        raise SystemExit(f"{checkout} is not a RadFM checkout (no src/Model/RadFM)")
    sys.path.insert(0, source)
    try:
        import torchvision  # noqa: F401
    except ImportError:
        # Only RadFM's unused 2D-encoder helpers (utils.py) import it; the trained path never calls them.
        torchvision = types.ModuleType("torchvision")
        torchvision.transforms = types.ModuleType("torchvision.transforms")
        sys.modules["torchvision"] = torchvision
        sys.modules["torchvision.transforms"] = torchvision.transforms
    import Model.RadFM.multimodality_model as multimodality
    import Model.RadFM.my_embedding_layer as embedding
    return multimodality, embedding


def build_model(config, multimodality, embedding):
    from transformers import BertConfig, BertModel, LlamaConfig, LlamaForCausalLM
    from Model.RadFM.helpers import PerceiverResampler
    from Model.RadFM.vit_3d import ViT

    vision, perceiver, text = config["vision"], config["perceiver"], config["text"]
    llama = LlamaConfig(
        vocab_size=text["vocab_size"], hidden_size=text["hidden_size"],
        intermediate_size=text["intermediate_size"], num_hidden_layers=text["num_hidden_layers"],
        num_attention_heads=text["num_attention_heads"], rms_norm_eps=text["rms_norm_eps"],
        max_position_embeddings=text["max_position_embeddings"], pad_token_id=0, bos_token_id=1, eos_token_id=2)

    class LlamaOfConfig:
        @staticmethod
        def from_pretrained(_path):
            return LlamaForCausalLM(llama)

    class TinyBert:
        @staticmethod
        def from_pretrained(_name):
            return BertModel(BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                        intermediate_size=64))

    class NoTokenizer:
        @staticmethod
        def from_pretrained(_name):
            return None

    def vit(**arguments):
        arguments.update(image_size=vision["image_size"], frames=vision["frames"], depth=vision["depth"],
                         heads=vision["heads"], dim_head=vision["dim_head"], mlp_dim=vision["mlp_dim"],
                         channels=vision["channels"], dropout=vision.get("dropout", 0.0),
                         emb_dropout=vision.get("emb_dropout", 0.0))
        return ViT(**arguments)

    def resampler(dim, num_latents):
        return PerceiverResampler(dim=dim, num_latents=num_latents, depth=perceiver["depth"],
                                  dim_head=perceiver["dim_head"], heads=perceiver["heads"], ff_mult=perceiver["ff_mult"])

    original_embedding = embedding.MyEmbedding

    def my_embedding():
        return original_embedding(
            num_embeddings=text["vocab_size"], embedding_dim=text["hidden_size"],
            perceiver_num=perceiver["num_latents"], vis_dim=vision["dim"], patch_size=vision["patch_size"],
            frame_patch_size=vision["frame_patch_size"])

    multimodality.LlamaForCausalLM = LlamaOfConfig
    multimodality.MyEmbedding = my_embedding
    embedding.AutoModel = TinyBert
    embedding.AutoTokenizer = NoTokenizer
    embedding.ViT = vit
    embedding.PerceiverResampler = resampler

    model = multimodality.MultiLLaMAForCausalLM(lang_model_path="(random init of config.json's sizes)")
    model.hidden_dim = text["hidden_size"]
    model.voc_size = text["vocab_size"]
    return model


def load_weights(model, path):
    tensors = {key: torch.from_numpy(value.copy()) for key, value in read_safetensors(path).items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    unused = ("embedding_layer.bert_model.", "embedding_layer.bert_projection_fc.", "embedding_layer.transformer_decoder",
              "embedding_layer.output_upscaling.", "embedding_layer.cls_head.", "lang_model.model.embed_tokens.")
    missing = [key for key in missing if not key.startswith(unused) and not key.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        raise SystemExit(f"{path}: missing {missing[:5]}, unexpected {unexpected[:5]}")


def collate(batch_file):
    """RadFM's DataCollator output for the dumped samples: padded ids, masks, labels and [B, S, 3, H, W, D]."""
    arrays = read_safetensors(batch_file)
    count = len([key for key in arrays if key.startswith("input_ids.")])
    ids = [arrays[f"input_ids.{i}"].astype(np.int64) for i in range(count)]
    labels = [arrays[f"labels.{i}"].astype(np.int64) for i in range(count)]
    images = [arrays.get(f"images.{i}") for i in range(count)]
    if any(image is None for image in images):
        raise SystemExit("RadFM's embedding layer needs at least one image per sample")
    length = max(len(x) for x in ids)
    lang_x = torch.zeros(count, length, dtype=torch.long)
    label_x = torch.full((count, length), -100, dtype=torch.long)
    attention = torch.zeros(count, length, dtype=torch.long)
    for i in range(count):
        lang_x[i, : len(ids[i])] = torch.from_numpy(ids[i])
        label_x[i, : len(labels[i])] = torch.from_numpy(labels[i])
        attention[i, : len(ids[i])] = 1
    vision_x = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(image.copy()) for image in images], batch_first=True)
    reweight = (label_x != -100).float()
    return dict(lang_x=lang_x, vision_x=vision_x, attention_mask=attention, labels=label_x, loss_reweight=reweight,
                key_words_query=None)


def time_steps(model, batch, lr, warmup, steps):
    from transformers import get_cosine_schedule_with_warmup

    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.0)
    schedule = get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=0, num_training_steps=warmup + steps)
    model.train()
    seconds, losses = [], []
    for index in range(warmup + steps):
        started = time.perf_counter()
        loss = model(**batch)["loss"]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - started
        losses.append(loss.item())
        if index >= warmup:
            seconds.append(elapsed)
    return statistics.median(seconds), losses


def swift_median(log_path, warmup):
    rows = [json.loads(line) for line in open(log_path) if line.strip()]
    seconds = [row["seconds"] for row in rows[warmup:]]
    if not seconds:
        raise SystemExit(f"{log_path}: no steps after the first {warmup}")
    return statistics.median(seconds), [row["loss"] for row in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--radfm", required=True, help="checkout of chaoyi-wu/RadFM (its src/ is imported)")
    parser.add_argument("--config", required=True, help="our model directory's config.json")
    parser.add_argument("--batch", required=True, help="safetensors written by radfm-train --dump-batch")
    parser.add_argument("--weights", help="our safetensors checkpoint to copy into RadFM's model")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (also skipped in --swift-log)")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--swift-log", help="radfm-train --log JSONL of the same config and batch")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = json.load(open(args.config))
    multimodality, embedding = import_radfm(args.radfm)
    model = build_model(config, multimodality, embedding)
    if args.weights:
        load_weights(model, args.weights)
    batch = collate(args.batch)
    shape = tuple(batch["vision_x"].shape)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch ids {tuple(batch['lang_x'].shape)}, "
          f"images {shape}")

    state = {key: value.clone() for key, value in model.state_dict().items()}
    results = {}
    for name, checkpointing in [("radfm (gradient checkpointing, as RadFM trains)", True),
                                ("radfm without gradient checkpointing", False)]:
        model.load_state_dict(state)
        if checkpointing:
            model.lang_model.gradient_checkpointing_enable()
        else:
            model.lang_model.gradient_checkpointing_disable()
        median, losses = time_steps(model, batch, args.lr, args.warmup, args.steps)
        results[name] = median
        print(f"{name}: median step {median:.4f} s over {args.steps} steps; losses {[round(x, 4) for x in losses]}")

    if args.swift_log:
        median, losses = swift_median(args.swift_log, args.warmup)
        print(f"radfm-train: median step {median:.4f} s; losses {[round(x, 4) for x in losses]}")
        for name, seconds in results.items():
            print(f"ratio radfm-train / {name}: {median / seconds:.3f}")


if __name__ == "__main__":
    main()
