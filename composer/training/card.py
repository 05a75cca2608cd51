"""The model card: weights/MODEL_CARD.md, written from what the files say.

Everything in it comes from the weights' own metadata (hyperparameters, training
time, data counts), the corpus statistics and the evaluation's metrics.md, so the card
cannot drift from the shipped model. `isadei eval` rewrites it.
"""

from __future__ import annotations

import json
from pathlib import Path

from composer.data import STATS_PATH, STYLE_RHYTHMS_PATH
from composer.model import DEFAULT_WEIGHTS, own_network_path, read_metadata
from composer.styles import STYLES


def _table(rows: list[tuple[str, object]], header: tuple[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def own_networks_section(weights: Path) -> str:
    """The styles written by a network of their own (Style.own_network), from each file's
    metadata: what it was trained on, how, its held-out loss against the shared network's."""
    parts = []
    for style in (s for s in STYLES.values() if s.own_network):
        path = own_network_path(style.id, weights)
        if not path.exists():
            parts.append(f"- {style.id}: `{path.name}` is missing; the shared network writes it.")
            continue
        t = read_metadata(path)["training"]
        start = t.get("start_valid_loss")
        held_out = (f"{start:.4f} -> {t['best_valid_loss']:.4f}" if start is not None
                    else f"{t['best_valid_loss']:.4f}")
        mix = t.get("mix", 1.0)
        mixed = (f", then mixed back with it: the shared weights + {mix:g} x the change "
                 "(WiSE-FT)" if mix != 1.0 else ", used as trained")
        mix_flag = f" --mix {mix:g}" if mix != 1.0 else ""
        named = t.get("named_only", False)
        which = " that their own words or book section name so (not their meter)" if named else ""
        named_flag = " --named-only" if named else ""
        parts.append(
            f"- **{style.id}**: `{path.name}` ({path.stat().st_size / 1e6:.1f} MB). The shared "
            f"network trained on the {', '.join(t['styles'])} tunes{which} of the training "
            f"split alone "
            f"({t['tunes']['train']:,} sequences an epoch, a rare style's tunes repeated to the "
            f"style floor; {t['steps']} steps, batch {t['batch_size']},"
            f" learning rate {t['lr']}){mixed}. Loss on the style's {t['tunes']['valid']} "
            f"validation tunes, shared network -> this one: {held_out} nats/token (its test "
            f"tunes and its songs: the notes below). Reproduce: `isadei train --out weights "
            f"--fresh --init-from "
            f"weights/{weights.name} --styles {' '.join(t['styles'])} --steps {t['steps']} "
            f"--lr {t['lr']:g} --batch-size {t['batch_size']}{mix_flag}{named_flag} "
            f"--name {path.stem}`.")
    if not parts:
        return ""
    return "\n".join(["## Styles with a network of their own", "", *parts, ""])


def style_rhythms_section() -> str:
    """The styles whose note lengths mix in their own corpus rhythm (Style.rhythm_fusion):
    how much, what it was counted on, and how well it predicts the held-out tunes."""
    fused = [s for s in STYLES.values() if s.rhythm_fusion]
    if not fused or not STYLE_RHYTHMS_PATH.exists():
        return ""
    data = json.loads(STYLE_RHYTHMS_PATH.read_text())
    lines = ["## Styles with their own rhythm mixed in", "",
             "At each note length, the sampler mixes the network's choice with the style's "
             "rhythm counted in its training tunes (the length given its place in the bar and "
             "the note before; composer/style_rhythm.py), log-linear at the style's share. "
             "Reproduce the counts: `python -m composer.training.style_rhythms`.", ""]
    for style in fused:
        tunes = {name.split(" ", 1)[1]: table["tunes"] for name, table in data["tables"].items()
                 if name.split(" ", 1)[0] == style.id}
        nats = data["held_out_nats_per_note"].get(style.id, {})
        lines.append(
            f"- **{style.id}** at {style.rhythm_fusion:g}: counted on "
            f"{', '.join(f'{n} tunes in {m}' for m, n in sorted(tunes.items()))}; the style's "
            f"{nats.get('notes', 0):,} held-out note lengths cost {nats.get('in_context', 0):.3f} "
            f"nats each in context, {nats.get('lengths_alone', 0):.3f} counted without it.")
    return "\n".join([*lines, ""])


def model_card(weights: Path = DEFAULT_WEIGHTS, metrics_md: Path | None = None) -> str:
    meta = read_metadata(weights)
    config, training = meta["config"], meta["training"]
    stats = json.loads((STATS_PATH).read_text())
    metrics_md = metrics_md or weights.parent / "metrics.md"
    metrics = (metrics_md.read_text() if metrics_md.exists()
               else "_not evaluated yet: run `isadei eval`_")
    songs_md = weights.parent / "songs_metrics.md"
    songs = (songs_md.read_text() if songs_md.exists()
             else "_songs as delivered not measured yet: run `isadei eval songs`_")
    size_mb = weights.stat().st_size / 1e6
    notes_path = weights.parent / "TRAINING_NOTES.md"
    notes = notes_path.read_text().strip() if notes_path.exists() else ""
    h, e = config["n_hidden"], config["n_embd"]
    layers, vocab = config["n_layer"], config["vocab_size"]
    # embedding + LSTM layers (4 gates: input and hidden weights, two biases) + output head
    styles_in = config.get("style_every_step", False)  # a style embedding row per style + none
    parameters = (vocab * e + sum(4 * h * ((e if i == 0 else h) + h + 2) for i in range(layers))
                  + h * vocab + vocab + (len(STYLES) + 1) * e * styles_in)
    style_input = (" The tune's style is also added to every token's input, from its STYLE token"
                   " on: a heading read once fades over hundreds of steps." if styles_in else "")
    return f"""# Isadei LSTM: model card

`{weights.name}` ({size_mb:.1f} MB, safetensors) is a {layers}-layer LSTM language model
({parameters:,} parameters) over Isadei's event vocabulary (composer/tokens.py:
style/meter/mode/part conditioning tokens, bar lines, bar copies, chord symbols relative
to the key, durations on a 12-ticks-per-quarter grid that holds triplets, key-normalised
pitches). It writes melody and chords together, one bar at a time: the bar's chords
first, then its notes.{style_input}

## Data

Real music from music21's bundled corpus (no downloads): the Essen folk song collection
(German, other European and Chinese songs), O'Neill's 1850 Irish tunes, Ryan's Mammoth
Collection, Aird's airs, miscFolk, and the Bach chorales. {stats['tunes']:,} tunes were
kept ({stats['bars']:,} bars, {stats['notes']:,} notes); skipped: {sum(stats['skipped'].values()):,}
({', '.join(f'{k} {v}' for k, v in stats['skipped'].items())}).
The folk tunes carry no chords: an HMM harmoniser learned from the chorales labels them
(chord tones on strong beats: chorales {stats['chord_tone_rate']['chorales']:.3f},
harmonised folk tunes {stats['chord_tone_rate']['harmonised_folk']:.3f}).

{_table(sorted(stats['per_style'].items()), ('style', 'tunes'))}

Split by tune (a stable hash of the tune id, composer.training.corpus.split_of), never by token:
{stats['per_split']['train']:,} train / {stats['per_split']['valid']:,} valid /
{stats['per_split']['test']:,} test tunes; {training['train_tokens']:,} training tokens.

## Training

{_table([
    ('layers x hidden', f"{layers} x {h}"), ('embedding', e), ('dropout', config['dropout']),
    ('vocabulary', vocab), ('batch (tunes)', training['batch_size']),
    ('learning rate', f"{training['lr']} (AdamW, warm-up then cosine)"),
    ('max tokens per tune', training['max_len']), ('seed', training['seed']),
    ('rare styles repeated up to', f"{training.get('style_floor', 0)} tunes per epoch"),
    ('style input at every step',
     f"yes, learning at {training.get('style_lr_scale', 1):g}x the rate" if styles_in
     else "no (the heading only)"),
    ('warm start from', training.get('init_from') or 'nothing (fresh)'),
    ('steps', training['steps']),
    ('best validation loss', f"{training['best_valid_loss']:.4f} nats/token"),
    ('wall-clock', f"{training['seconds'] / 60:.0f} min on {training['device']}"),
    ('throughput', f"{training['tokens_per_s'] or 0:,.0f} tokens/s"),
], ('setting', 'value'))}

Hardware: the project's 2-core CPU machine (no GPU was available to this training run).

{notes}
Loss curve: `weights/isadei-lstm-loss.png`.

Reproduce: `make corpus` (rebuild the data cache, ~12 min) then `make train`
(`isadei train`; resumable, early stopping on validation loss, writes this folder).

{own_networks_section(weights)}
{style_rhythms_section()}
{metrics}

{songs}
"""


def write_model_card(weights: Path = DEFAULT_WEIGHTS) -> Path:
    path = weights.parent / "MODEL_CARD.md"
    path.write_text(model_card(weights))
    return path
