"""Looking at music without ears: piano rolls of songs as delivered (the Melody track read
back from the MIDI file) next to held-out human tunes of the same style, drawn the same way.

    python -m composer.training.pianoroll --styles march chorale strathspey ballad --out look.png
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from composer.music import Tune


def draw_roll(ax, tune: Tune, title: str, bars: int = 16) -> None:
    """One tune's first `bars` bars as horizontal note bars; bar lines as thin verticals."""
    tick = 0
    for bar in tune.bars[:bars]:
        ax.axvline(tick, color="0.85", linewidth=0.6)
        for note in bar.notes:
            if note.pitch is not None:
                ax.barh(note.pitch, note.ticks * 0.92, left=tick, height=0.8, color="tab:blue")
            tick += note.ticks
    ax.set_title(title, fontsize=8, loc="left")
    ax.tick_params(labelsize=6)


def draw(styles: list[str], out: Path, seed: int = 1) -> Path:
    """For each style: one song as delivered (left) and one held-out human tune (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from composer.compose import compose
    from composer.request import SongRequest
    from composer.training.corpus import load_corpus, named, split_of
    from composer.training.songs_eval import deliver

    corpus = named(load_corpus())  # a human tune the style's own name is on
    fig, axes = plt.subplots(len(styles), 2, figsize=(14, 2.6 * len(styles)), squeeze=False)
    with tempfile.TemporaryDirectory() as folder:
        for row, style in enumerate(styles):
            song = compose(SongRequest(style=style, length_seconds=90), seed=seed)
            ours = deliver(song, 90, Path(folder)).tune
            human = next(t for t in corpus if t.style == style and split_of(t.id) == "test")
            draw_roll(axes[row][0], ours, f"ours: {song.title}, {song.meter.name}")
            draw_roll(axes[row][1], human, f"human: {human.title} ({human.id}), "
                                           f"{human.meter.name} {human.mode}")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=["march", "chorale", "strathspey", "ballad"])
    parser.add_argument("--out", default="pianoroll.png")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(draw(args.styles, Path(args.out), args.seed))


if __name__ == "__main__":
    main()
