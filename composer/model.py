"""The network: an LSTM language model over composer.tokens, and how to save/load it.

Kept in the spirit of nanoGPT's model.py: one config dataclass, one module, and the
checkpoint format next to it (safetensors for the weights, JSON for the config).
"""

from __future__ import annotations

import json
import os
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
    n_hidden: int = 384  # 3x384: sampling one token costs ~2 ms on 2 CPU cores
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
