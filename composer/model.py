"""The network: an LSTM language model over composer.tokens, and how to save/load it.

Kept in the spirit of nanoGPT's model.py: one config dataclass, one module, and the
checkpoint format next to it (safetensors for the weights, JSON for the config).
"""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from composer.styles import STYLES
from composer.tokens import INDEX, VOCAB

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
# ISADEI_WEIGHTS points at another checkpoint (a test model, a newer run).
DEFAULT_WEIGHTS = Path(os.environ.get("ISADEI_WEIGHTS") or WEIGHTS_DIR / "isadei-lstm.safetensors")


def own_network_path(style_id: str, shared: Path = DEFAULT_WEIGHTS) -> Path:
    """Where a style's own network lives (composer.styles.Style.own_network): beside the
    shared one, its name and the style's."""
    return shared.with_name(f"{shared.stem}-{style_id}{shared.suffix}")


@dataclass
class ModelConfig:
    vocab_size: int = len(VOCAB)
    n_embd: int = 128
    n_hidden: int = 384  # 3x384: a sampling step costs ~1 ms at batch 1 (LeanStep)
    n_layer: int = 3
    dropout: float = 0.2
    # True: the tune's style is also added to every token's input once its STYLE token is
    # read, not only given as a heading that may fade over hundreds of steps. Tried in wave
    # 7 (weights/TRAINING_NOTES.md): raw 4/4 marches wrote more march rhythm and the held-out
    # loss fell, but songs as delivered were told from human ones more often, so the shipped
    # weights (and checkpoints written before the field) have none.
    style_every_step: bool = False


# LSTM (h, c) and the style number in force per row (None: a model without style input).
State = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]


def _style_numbers() -> torch.Tensor:
    """Per token id: 1 + the style's place in the catalogue for a STYLE token, else 0."""
    numbers = torch.zeros(len(VOCAB), dtype=torch.long)
    for k, style in enumerate(STYLES):
        numbers[INDEX[f"STYLE:{style}"]] = k + 1
    return numbers


STYLE_NUMBER = _style_numbers()


def styles_so_far(ids: torch.Tensor, before: torch.Tensor | None = None) -> torch.Tensor:
    """(batch, time) -> the style number in force at each token: that of the latest STYLE
    token read, this one included; before the first, `before` (the one carried in, else 0)."""
    numbers = STYLE_NUMBER.to(ids.device)[ids]
    places = torch.arange(ids.size(1), device=ids.device).expand_as(ids)
    latest = torch.where(numbers > 0, places, -1).cummax(dim=1).values
    found = numbers.gather(1, latest.clamp(min=0))
    carried = before[:, None] if before is not None else torch.zeros_like(found)
    return torch.where(latest >= 0, found, carried)


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
        self.style_embed = None
        if config.style_every_step:  # row 0: no style read yet; starts at zero (a warm start
            # from a model without it begins as that model)
            self.style_embed = nn.Embedding(len(STYLES) + 1, config.n_embd, padding_idx=0)
            nn.init.zeros_(self.style_embed.weight)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """ids (batch, time) -> logits (batch, time, vocab), new state."""
        hc, style = (state[:2], state[2]) if state is not None else (None, None)
        x = self.embed(ids)
        if self.style_embed is not None:
            styles = styles_so_far(ids, style)
            x = x + self.style_embed(styles)
            style = styles[:, -1]
        out, hc = self.lstm(self.drop(x), hc)
        return self.head(self.drop(out)), (*hc, style)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class LeanStep:
    """One sampling step of a TuneLSTM for a fixed batch: the reference step's arithmetic
    (embedding, 3 LSTM layers, head) over preallocated buffers, ~25 tensor ops a token.

    nn.LSTM costs ~20 ms a call at batch 1 on this CPU (oneDNN re-packs its weights on
    every call), and a sampler calls it once per token. Here the weights are laid out once:
    the first layer's input product is a table per token (embedding x W_ih + biases), a
    later layer's input and hidden products are one product of [x, h] with [W_ih; W_hh],
    gate rows are reordered i, f, o | g so one sigmoid and one tanh cover them, and each
    step writes into the same buffers. Works on any device the model is on (CUDA included).
    """

    def __init__(self, model: TuneLSTM, batch: int) -> None:
        w = _lean_weights(model)
        self.n_hidden, self.table, self.batch = w.n_hidden, w.table, batch
        self.style_table = w.style_table
        like = {"device": w.table.device, "dtype": w.table.dtype}
        rows = _product_rows(batch, w.table.device)
        packed = w.packed(rows)
        *self.layers, self.head = [
            _Product(weight, bias, rows, packed and packed[k]) for k, (weight, bias) in
            enumerate(zip([*w.weights, w.head_w], [*w.biases, w.head_b], strict=True))]
        # Layer k reads xh[k] = [its input x | its own last h]; it writes its new h into
        # both its own slot and the next layer's x slot (top: the head's input).
        self.xh = [torch.zeros((rows, weight.size(0)), **like) for weight in w.weights]
        self.c = [torch.zeros((rows, w.n_hidden), **like) for _ in w.weights]
        self.top = torch.zeros((rows, w.n_hidden), **like)
        self.tmp = torch.empty((rows, w.n_hidden), **like)
        self.ids = torch.zeros(rows, dtype=torch.long, device=w.table.device)
        self.style = torch.zeros(rows, dtype=torch.long, device=w.table.device)
        self.style_number = STYLE_NUMBER.to(w.table.device)

    def reset(self) -> None:
        for tensor in (*self.xh, *self.c, self.top, self.style):
            tensor.zero_()

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (batch,) -> logits (batch, vocab): may be a view of a buffer the next call
        reuses."""
        n, tmp = self.n_hidden, self.tmp
        self.ids[: self.batch] = ids
        for k, (layer, xh, c) in enumerate(zip(self.layers, self.xh, self.c, strict=True)):
            gates = layer(xh)
            if k == 0:
                gates.add_(self.table[self.ids])
                if self.style_table is not None:  # the style in force (see styles_so_far)
                    numbers = self.style_number[self.ids]
                    torch.where(numbers > 0, numbers, self.style, out=self.style)
                    gates.add_(self.style_table[self.style])
            gates[:, :3 * n].sigmoid_()
            gates[:, 3 * n:].tanh_()
            c.mul_(gates[:, n:2 * n]).addcmul_(gates[:, :n], gates[:, 3 * n:])  # f*c + i*g
            torch.tanh(c, out=tmp)
            h = xh[:, -n:]
            torch.mul(gates[:, 2 * n:3 * n], tmp, out=h)  # o * tanh(c)
            (self.xh[k + 1][:, :n] if k + 1 < len(self.layers) else self.top).copy_(h)
        return self.head(self.top)[: self.batch]


PACKINGS_KEPT = 4  # row counts whose packed weights a model keeps (a bot uses one or two)


def _product_rows(batch: int, device: torch.device) -> int:
    """Rows the products run on: MKL's packed kernels are fast at 2 or a multiple of 4
    rows and slow at 3, 5, 6 (measured), so other batches get padding rows."""
    if batch <= 2 or not _mkl_packed(device):
        return batch
    return -(-batch // 4) * 4


def _mkl_packed(device: torch.device) -> bool:
    return device.type == "cpu" and torch.backends.mkl.is_available() and hasattr(
        torch.ops.mkl, "_mkl_linear")


class _Product:
    """x @ weight + bias for a fixed number of rows, with MKL's packed weight when given."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, rows: int,
                 packed: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        self.weight, self.bias, self.rows, self.packed = weight, bias, rows, packed
        self.out = None if packed is not None else torch.empty(  # MKL's product allocates its own
            (rows, weight.size(1)), device=weight.device, dtype=weight.dtype)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed is not None:
            weight_t, packed = self.packed
            return torch.ops.mkl._mkl_linear(x, packed, weight_t, self.bias, self.rows)
        if self.bias is None:
            return torch.mm(x, self.weight, out=self.out)
        return torch.addmm(self.bias, x, self.weight, out=self.out)


@dataclass
class _LeanWeights:
    n_hidden: int
    table: torch.Tensor  # (vocab, 4H): embedding x W_ih of layer 0, plus its biases
    style_table: torch.Tensor | None  # (styles + 1, 4H): style embedding x W_ih of layer 0
    weights: list[torch.Tensor]  # layer 0: W_hh (H, 4H); later layers: [W_ih; W_hh] (2H, 4H)
    biases: list[torch.Tensor | None]  # layer 0: None (in the table); later layers: (4H,)
    head_w: torch.Tensor
    head_b: torch.Tensor
    signature: tuple = ()
    packings: dict[int, list] = field(default_factory=dict)  # rows -> packed weights

    def packed(self, rows: int) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
        """Each product's weight (the layers', then the head's), transposed and packed by
        MKL for `rows` rows; None where a plain product is used. A plain matrix product
        re-packs its weight on every call, which at 2-8 rows costs more than the product
        itself (measured: a step 2.9 -> 1.4 ms at 4 rows). Same sums, same numbers."""
        if rows < 2 or not _mkl_packed(self.table.device):
            return None
        if rows not in self.packings:
            if len(self.packings) >= PACKINGS_KEPT:  # ~26 MB each: keep the latest few
                self.packings.pop(next(iter(self.packings)), None)
            self.packings[rows] = [
                (t, torch.ops.mkl._mkl_reorder_linear_weight(t, rows))
                for t in (w.t().contiguous() for w in (*self.weights, self.head_w))]
        return self.packings[rows]


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
    table, style_table, layer_weights, biases = None, None, [], []
    for k in range(model.config.n_layer):
        ih = getattr(lstm, f"weight_ih_l{k}")[order]
        b = (getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}"))[order]
        hh = getattr(lstm, f"weight_hh_l{k}")[order]
        if k == 0:  # token -> layer-0 input gates: looked up instead of multiplied
            table = torch.addmm(b, model.embed.weight, ih.t())
            style_table = (None if model.style_embed is None
                           else (model.style_embed.weight @ ih.t()).contiguous())
            layer_weights.append(hh.t().contiguous())
            biases.append(None)
        else:
            layer_weights.append(torch.cat([ih, hh], dim=1).t().contiguous())
            biases.append(b.contiguous())
    weights = _LeanWeights(n, table, style_table, layer_weights, biases,
                           model.head.weight.t().contiguous(), model.head.bias.clone(), signature)
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
