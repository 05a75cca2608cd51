"""The network: an LSTM language model over composer.tokens, and how to save/load it.

Kept in the spirit of nanoGPT's model.py: one config dataclass, one module, and the
checkpoint format next to it (safetensors for the weights, JSON for the config).
"""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from composer.tokens import VOCAB

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
# ISADEI_WEIGHTS points at another checkpoint (a test model, a newer run).
DEFAULT_WEIGHTS = Path(os.environ.get("ISADEI_WEIGHTS") or WEIGHTS_DIR / "isadei-lstm.safetensors")


@dataclass
class ModelConfig:
    vocab_size: int = len(VOCAB)
    n_embd: int = 128
    n_hidden: int = 384  # 3x384: a sampling step costs ~1 ms at batch 1 (LeanStep)
    n_layer: int = 3
    dropout: float = 0.2


State = tuple[torch.Tensor, torch.Tensor]


class TuneLSTM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.n_embd, config.n_hidden, num_layers=config.n_layer,
            dropout=config.dropout if config.n_layer > 1 else 0.0, batch_first=True,
        )
        self.head = nn.Linear(config.n_hidden, config.vocab_size)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """ids (batch, time) -> logits (batch, time, vocab), new state."""
        x = self.drop(self.embed(ids))
        out, state = self.lstm(x, state)
        return self.head(self.drop(out)), state

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class LeanStep:
    """One sampling step of a TuneLSTM for a fixed batch: the reference step's arithmetic
    (embedding, 3 LSTM layers, head) over preallocated buffers, ~25 tensor ops a token.

    nn.LSTM costs ~20 ms a call at batch 1 on this CPU (oneDNN re-packs its weights on
    every call), and a sampler calls it once per token. Here the weights are laid out once:
    the first layer's input product is a table per token (embedding x W_ih + biases), gate
    rows are reordered i, f, o | g so one sigmoid and one tanh cover them, and each step
    writes into the same buffers. Works on any device the model is on (CUDA included).
    """

    def __init__(self, model: TuneLSTM, batch: int) -> None:
        w = _lean_weights(model)
        self.n_hidden, self.table, self.w_ih, self.w_hh, self.bias = (
            w.n_hidden, w.table, w.w_ih, w.w_hh, w.bias)
        self.head_w, self.head_b = w.head_w, w.head_b
        like = {"device": w.table.device, "dtype": w.table.dtype}
        shape = (batch, w.n_hidden)
        self.h = [torch.zeros(shape, **like) for _ in self.w_hh]
        self.c = [torch.zeros(shape, **like) for _ in self.w_hh]
        self.gates = torch.empty((batch, 4 * w.n_hidden), **like)
        self.tmp = torch.empty(shape, **like)
        self.logits = torch.empty((batch, self.head_w.size(1)), **like)

    def reset(self) -> None:
        for tensor in (*self.h, *self.c):
            tensor.zero_()

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (batch,) -> logits (batch, vocab): a view of a buffer the next call reuses."""
        n, gates, tmp = self.n_hidden, self.gates, self.tmp
        sig, tanh = gates[:, :3 * n], gates[:, 3 * n:]
        i, f, o = gates[:, :n], gates[:, n:2 * n], gates[:, 2 * n:3 * n]
        x = None
        for k, (h, c, w_hh) in enumerate(zip(self.h, self.c, self.w_hh, strict=True)):
            if k == 0:
                torch.index_select(self.table, 0, ids, out=gates)
            else:
                torch.addmm(self.bias[k - 1], x, self.w_ih[k - 1], out=gates)
            gates.addmm_(h, w_hh)
            sig.sigmoid_()
            tanh.tanh_()
            c.mul_(f).addcmul_(i, tanh)  # c = f*c + i*g
            torch.tanh(c, out=tmp)
            torch.mul(o, tmp, out=h)
            x = h
        return torch.addmm(self.head_b, x, self.head_w, out=self.logits)


@dataclass
class _LeanWeights:
    n_hidden: int
    table: torch.Tensor  # (vocab, 4H): embedding x W_ih of layer 0, plus its biases
    w_ih: list[torch.Tensor]  # layers 1.., (H, 4H)
    w_hh: list[torch.Tensor]  # every layer, (H, 4H)
    bias: list[torch.Tensor]  # layers 1.., (1, 4H)
    head_w: torch.Tensor
    head_b: torch.Tensor
    signature: tuple = ()


# Laid out once per model, not once per sampling call (~25 ms); a model that trains on
# (evaluation between epochs) changes its parameters' versions, and is laid out again.
_LEAN_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@torch.no_grad()
def _lean_weights(model: TuneLSTM) -> _LeanWeights:
    signature = tuple((p.data_ptr(), p._version) for p in model.parameters())
    cached = _LEAN_CACHE.get(model)
    if cached is not None and cached.signature == signature:
        return cached
    lstm, n = model.lstm, model.config.n_hidden
    order = torch.cat([torch.arange(0, 2 * n), torch.arange(3 * n, 4 * n),
                       torch.arange(2 * n, 3 * n)]).to(model.head.weight.device)  # ifgo -> ifog
    table, w_ih, w_hh, bias = None, [], [], []
    for k in range(model.config.n_layer):
        ih = getattr(lstm, f"weight_ih_l{k}")[order]
        b = (getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}"))[order]
        w_hh.append(getattr(lstm, f"weight_hh_l{k}")[order].t().contiguous())
        if k == 0:  # token -> layer-0 input gates: looked up instead of multiplied
            table = torch.addmm(b, model.embed.weight, ih.t())
        else:
            w_ih.append(ih.t().contiguous())
            bias.append(b.unsqueeze(0))
    weights = _LeanWeights(n, table, w_ih, w_hh, bias, model.head.weight.t().contiguous(),
                           model.head.bias.unsqueeze(0).clone(), signature)
    _LEAN_CACHE[model] = weights
    return weights


class CheckpointError(ValueError):
    """A weights file that is missing, truncated or not ours."""


def save_model(model: TuneLSTM, path: Path, metadata: dict | None = None) -> None:
    """Weights as safetensors; the config (and any metadata) inside its header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"config": json.dumps(asdict(model.config)), "vocab": json.dumps(VOCAB)}
    header.update({k: json.dumps(v) for k, v in (metadata or {}).items()})
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=header)
    tmp.replace(path)


def read_metadata(path: Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k: json.loads(v) for k, v in (f.metadata() or {}).items()}


def load_model(path: Path | None = None, device: str = "cpu") -> TuneLSTM:
    """The trained model, in eval mode; a clear CheckpointError when the file is bad."""
    path = Path(path or DEFAULT_WEIGHTS)
    if not path.exists():
        raise CheckpointError(f"no weights at {path}: train with `isadei train`")
    try:
        meta = read_metadata(path)
        if meta.get("vocab") != VOCAB:
            raise CheckpointError(f"{path} was trained with another vocabulary")
        model = TuneLSTM(ModelConfig(**meta["config"]))
        model.load_state_dict(load_file(str(path), device="cpu"))
    except CheckpointError:
        raise
    except Exception as error:  # truncated file, wrong tensors, bad header
        raise CheckpointError(f"cannot load weights from {path}: {error}") from error
    return model.to(device).eval()
