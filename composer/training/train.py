"""Training loop: corpus cache -> token sequences -> LSTM -> weights/.

Like nanoGPT's train.py: one config, one loop, read top to bottom. Whole tunes are
the training examples (padded, grouped by length), so every example starts with its
conditioning tokens. Checkpoints every evaluation (resumable), early stopping on
validation loss, a wall-clock budget, a tqdm bar and a loss-curve PNG.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm import tqdm

from composer.data import TINY_CORPUS_PATH
from composer.model import WEIGHTS_DIR, ModelConfig, TuneLSTM, save_model
from composer.tokens import INDEX, PAD, VOCAB, TokenError, encode


@dataclass
class TrainConfig:
    out_dir: Path = WEIGHTS_DIR
    corpus: Path | None = None  # None: the full cache (composer/data/corpus.jsonl.gz)
    model: ModelConfig = field(default_factory=ModelConfig)
    batch_size: int = 32
    max_len: int = 1024  # tokens per example; the longest tunes in the corpus fit
    lr: float = 2e-3
    min_lr: float = 1e-4
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    max_epochs: int = 12
    max_minutes: float = 60.0
    eval_every: int = 200  # steps
    patience: int = 6  # evaluations without improvement before stopping
    device: str = "auto"
    seed: int = 1337
    resume: bool = True
    name: str = "isadei-lstm"
    # Rare styles (march, strathspey, slip jig, lullaby...) are repeated in each epoch until
    # they count about this many tunes (at most max_repeat times), so the network learns them.
    style_floor: int = 400
    max_repeat: int = 4
    init_from: Path | None = None  # warm start: an earlier safetensors, matched by token name
    # The style input (ModelConfig.style_every_step) learns at this multiple of the rate: it
    # starts at zero, and at the network's rate it had moved 0.03 (token embeddings: ~11)
    # in the 200 steps of a warm start's warm-up.
    style_lr_scale: float = 20.0
    # A style's own network (Style.own_network): the shared one trained on that style's tunes
    # alone for a fixed number of steps, then mixed back with it, as in WiSE-FT (Wortsman et
    # al. 2022). Trained alone on its 124 marches the network overfits within 20 steps; the
    # mix keeps what it learned of the style without its narrowness (weights/TRAINING_NOTES).
    styles: tuple[str, ...] = ()  # train and validate on these styles' tunes only (empty: all)
    # Only the tunes whose own words, book or section name their style (not the tunes of
    # Aird's with no style word that their meter calls airs: corpus.named).
    named_only: bool = False
    max_steps: int = 0  # >0: exactly this many steps, then the last weights are saved
    mix: float = 1.0  # saved weights = init_from + mix * (trained - init_from), with max_steps

    def tiny(self) -> TrainConfig:
        """A smoke-test configuration: the test fixture and a small network."""
        return replace(self, corpus=TINY_CORPUS_PATH,
                       model=ModelConfig(n_embd=32, n_hidden=64, n_layer=1,
                                         style_every_step=self.model.style_every_step),
                       batch_size=8, max_epochs=3, eval_every=10,
                       max_minutes=min(self.max_minutes, 2), name="tiny-lstm")

    @property
    def weights_path(self) -> Path:
        return Path(self.out_dir) / f"{self.name}.safetensors"

    @property
    def checkpoint_path(self) -> Path:
        return Path(self.out_dir) / f"{self.name}.ckpt.pt"


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def encode_split(corpus: Path | None, style_floor: int = 0,
                 max_repeat: int = TrainConfig.max_repeat,
                 only: tuple[str, ...] = (), named_only: bool = False
                 ) -> dict[str, list[list[int]]]:
    """Token sequences per split (of the styles in `only`, when given; of the tunes their
    words name, when `named_only`); tunes the vocabulary cannot hold are skipped. Training
    tunes of rare styles are repeated up to `style_floor` tunes per style, each at most
    `max_repeat` times (see TrainConfig)."""
    from composer.training.corpus import load_corpus, named, split_of

    tunes = load_corpus(corpus)
    splits: dict[str, list[list[int]]] = {"train": [], "valid": [], "test": []}
    styles: list[str] = []
    for tune in named(tunes) if named_only else tunes:
        if only and tune.style not in only:
            continue
        try:
            split = split_of(tune.id)
            splits[split].append(encode(tune))
        except TokenError:
            continue
        if split == "train":
            styles.append(tune.style)
    if style_floor:
        per_style = Counter(styles)
        repeats = {s: min(max_repeat, max(1, round(style_floor / n))) for s, n in per_style.items()}
        extra = [seq for seq, style in zip(splits["train"], styles, strict=True)
                 for _ in range(repeats[style] - 1)]
        splits["train"] += extra
    return splits


def warm_start(model: TuneLSTM, path: Path) -> None:
    """Copy an earlier model's weights into this one, rows of the embedding and the output
    layer matched by token name: a vocabulary that grew keeps everything it learned. A new
    MODE token starts from the mode it refines (Dorian from minor, Mixolydian from major)."""
    from safetensors.torch import load_file

    from composer.model import read_metadata
    from composer.music import PARENT_MODE

    old_vocab = read_metadata(path)["vocab"]
    old_index = {word: i for i, word in enumerate(old_vocab)}
    old = load_file(str(path))
    state = model.state_dict()
    for name, tensor in old.items():
        if name.startswith(("embed.", "head.")):
            continue
        state[name].copy_(tensor)
    for new_id, word in enumerate(VOCAB):
        family, _, value = word.partition(":")
        source = word if word in old_index else f"MODE:{PARENT_MODE.get(value, value)}"
        if family == "MODE" or word in old_index:
            if source not in old_index:
                continue
            i = old_index[source]
            state["embed.weight"][new_id].copy_(old["embed.weight"][i])
            state["head.weight"][new_id].copy_(old["head.weight"][i])
            state["head.bias"][new_id].copy_(old["head.bias"][i])
    model.load_state_dict(state)


def batches(sequences: list[list[int]], batch_size: int, max_len: int, rng: random.Random,
            shuffle: bool = True) -> list[torch.Tensor]:
    """Padded (batch, time) tensors of similar-length tunes, in random order."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(groups)
    out = []
    for group in groups:
        length = min(max_len, max(len(sequences[i]) for i in group))
        batch = torch.full((len(group), length), INDEX[PAD], dtype=torch.long)
        for row, i in enumerate(group):
            seq = sequences[i][:length]
            batch[row, : len(seq)] = torch.tensor(seq)
        out.append(batch)
    return out


def batch_loss(model: TuneLSTM, batch: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy (nats) over real tokens, and how many there were."""
    inputs, targets = batch[:, :-1], batch[:, 1:]
    logits, _ = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                           ignore_index=INDEX[PAD])
    return loss, int((targets != INDEX[PAD]).sum())


@torch.no_grad()
def evaluate_loss(model: TuneLSTM, data: list[torch.Tensor], device: torch.device) -> float:
    model.eval()
    total, count = 0.0, 0
    for batch in data:
        loss, n = batch_loss(model, batch.to(device))
        total += loss.item() * n
        count += n
    model.train()
    return total / max(count, 1)


def learning_rate(config: TrainConfig, step: int, total_steps: int, minutes: float) -> float:
    """Short warm-up, then cosine decay to min_lr by the last epoch or the time budget,
    whichever comes first (so a run cut by the clock still ends with a low rate)."""
    warmup = min(200, total_steps // 20 + 1)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, max((step - warmup) / max(1, total_steps - warmup),
                            minutes / config.max_minutes))
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def token_counts(sequences: list[list[int]]) -> dict[str, int]:
    """How often each token occurs in training: the sampler never offers unseen ones."""
    counts = Counter(t for seq in sequences for t in seq)
    return {VOCAB[t]: n for t, n in counts.items()}


def plot_losses(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([h["step"] for h in history], [h["train"] for h in history], label="train")
    ax.plot([h["step"] for h in history], [h["valid"] for h in history], label="valid")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train(config: TrainConfig) -> dict:
    """Train, checkpoint, early-stop; returns the summary written into the weights."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    device = pick_device(config.device)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    if config.mix != 1.0 and not (config.max_steps and config.init_from):
        raise ValueError("mix needs init_from and max_steps: it mixes the last weights back")
    splits = encode_split(config.corpus, config.style_floor, config.max_repeat, config.styles,
                          config.named_only)
    valid = batches(splits["valid"], 64, config.max_len, rng, shuffle=False)
    n_tokens = sum(len(s) for s in splits["train"])
    print(f"data: {len(splits['train'])} train / {len(splits['valid'])} valid / "
          f"{len(splits['test'])} test tunes, {n_tokens:,} training tokens; device {device}")

    model = TuneLSTM(config.model)
    if config.init_from and not (config.resume and config.checkpoint_path.exists()):
        warm_start(model, Path(config.init_from))
        print(f"warm start from {config.init_from}")
    model = model.to(device)
    style = set(model.style_embed.parameters()) if model.style_embed is not None else set()
    optimizer = torch.optim.AdamW(
        [{"params": [p for p in model.parameters() if p not in style], "lr_scale": 1.0},
         {"params": list(style), "lr_scale": config.style_lr_scale}],
        lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(splits["train"]) / config.batch_size)
    total_steps = config.max_steps or steps_per_epoch * config.max_epochs
    step, best, history, bad_evals, elapsed = 0, float("inf"), [], 0, 0.0

    if config.resume and config.checkpoint_path.exists():
        ckpt = torch.load(config.checkpoint_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, best, history = ckpt["step"], ckpt["best"], ckpt["history"]
        bad_evals, elapsed = ckpt["bad_evals"], ckpt["elapsed"]
        rng.setstate(ckpt["rng"])
        print(f"resumed at step {step} (best valid {best:.4f})")

    print(f"model: {model.num_parameters():,} parameters {asdict(config.model)}")
    # A fixed-steps run reports where it started from too, to compare the held-out loss with.
    start_loss = evaluate_loss(model, valid, device) if config.max_steps and not step else None
    started = time.time() - elapsed
    tokens_seen, window_start, window_tokens = 0, time.time(), 0
    stop = ""
    progress = tqdm(total=total_steps, initial=step, desc="training", unit="step")
    model.train()
    while not stop:
        for batch in batches(splits["train"], config.batch_size, config.max_len, rng):
            lr = learning_rate(config, step, total_steps, (time.time() - started) / 60)
            for group in optimizer.param_groups:
                group["lr"] = lr * group["lr_scale"]
            loss, n = batch_loss(model, batch.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            tokens_seen += n
            window_tokens += n
            progress.update(1)
            progress.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.1e}")

            if step % config.eval_every == 0 or step >= total_steps:
                valid_loss = evaluate_loss(model, valid, device)
                rate = window_tokens / max(1e-9, time.time() - window_start)
                window_start, window_tokens = time.time(), 0
                history.append({"step": step, "train": loss.item(), "valid": valid_loss,
                                "tokens_per_s": rate, "minutes": (time.time() - started) / 60})
                tqdm.write(f"step {step}: train {loss.item():.4f} valid {valid_loss:.4f} "
                           f"({rate:,.0f} tok/s)")
                if valid_loss < best - 1e-4 and not config.max_steps:
                    best, bad_evals = valid_loss, 0
                    save_model(model, config.weights_path, metadata=_metadata(
                        config, splits, step, best, history, time.time() - started, device))
                else:
                    bad_evals += 1
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "step": step, "best": best, "history": history,
                            "bad_evals": bad_evals, "elapsed": time.time() - started,
                            "rng": rng.getstate()}, config.checkpoint_path)
                plot_losses(history, out_dir / f"{config.name}-loss.png")
                if step >= total_steps:
                    stop = f"{total_steps} steps done"
                elif bad_evals >= config.patience and not config.max_steps:
                    stop = "early stopping: validation loss stopped improving"
                elif (time.time() - started) / 60 >= config.max_minutes:
                    stop = f"time budget of {config.max_minutes} minutes reached"
                if stop:
                    break
    progress.close()
    if config.max_steps:
        if config.mix != 1.0:  # WiSE-FT: part of the way back to where it started
            start = TuneLSTM(config.model)
            warm_start(start, Path(config.init_from))
            state = model.state_dict()
            for name, tensor in start.to(device).state_dict().items():
                state[name].copy_(tensor + config.mix * (state[name] - tensor))
        best = evaluate_loss(model, valid, device)  # of the weights saved
        metadata = _metadata(config, splits, step, best, history, time.time() - started, device)
        metadata["training"]["start_valid_loss"] = start_loss
        save_model(model, config.weights_path, metadata=metadata)
    print(f"{stop}; best validation loss {best:.4f} nats/token; weights in {config.weights_path}")
    return {"best_valid_loss": best, "steps": step, "stop": stop}


def _metadata(config: TrainConfig, splits: dict, step: int, best: float, history: list,
              seconds: float, device: torch.device) -> dict:
    return {
        "training": {
            "steps": step, "best_valid_loss": best, "seconds": round(seconds),
            "device": str(device), "batch_size": config.batch_size, "lr": config.lr,
            "max_len": config.max_len, "seed": config.seed, "style_floor": config.style_floor,
            "max_repeat": config.max_repeat,
            "style_lr_scale": config.style_lr_scale,
            "styles": list(config.styles), "max_steps": config.max_steps, "mix": config.mix,
            "named_only": config.named_only,
            "init_from": str(config.init_from) if config.init_from else None,
            "tunes": {k: len(v) for k, v in splits.items()},
            "train_tokens": sum(len(s) for s in splits["train"]),
            "tokens_per_s": history[-1]["tokens_per_s"] if history else None,
        },
        "token_counts": token_counts(splits["train"]),
        "history": history,
    }


if __name__ == "__main__":
    print(json.dumps(train(TrainConfig()), indent=2))
