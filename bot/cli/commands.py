"""The `isadei` command: one subcommand per job, each a thin call into composer or bot.

Imports happen inside each command so `isadei parse` does not pay for torch. `isadei bot` and
`isadei worker` read the settings here, once, and hand them down.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

BENCH_OUT = "bench/results.json"


def cmd_parse(args: argparse.Namespace) -> None:
    from composer.request import parse

    request = parse(args.text)
    if args.json:
        print(json.dumps(request.to_json(), ensure_ascii=False))
    else:
        for name, value in request.to_json().items():
            print(f"{name:>15}: {value}")


def cmd_styles(args: argparse.Namespace) -> None:
    from composer.styles import format_catalogue

    print(format_catalogue())


def cmd_compose(args: argparse.Namespace) -> None:
    from composer.pipeline import compose_to_files
    from composer.written import written_tune

    heard, text = None, args.text
    if args.tune:  # a user's tune: unusable input exits 2 before anything is written
        from composer.listen import listen

        heard = listen(Path(args.tune))
    elif text and (written := written_tune(text)):  # "as a waltz: E D C D E E E -"
        from composer.listen import listen_text

        heard, text = listen_text(written[0]), written[1]
    text = text if text is not None else ("" if heard else "a folk song")
    rendered = compose_to_files(text, Path(args.out), seed=args.seed, progress=True, heard=heard)
    for path in rendered.paths():
        print(path)


def cmd_listen(args: argparse.Namespace) -> None:
    from composer.listen import listen

    heard = listen(Path(args.file))
    if args.json:
        print(heard.to_json())
    else:
        print(heard.summary())


def cmd_corpus(args: argparse.Namespace) -> None:
    from composer.training.corpus import build_cache

    build_cache(workers=args.workers)


def cmd_train(args: argparse.Namespace) -> None:
    from composer.model import ModelConfig
    from composer.training.train import TrainConfig, train

    config = TrainConfig(
        out_dir=Path(args.out),
        model=ModelConfig(style_every_step=args.style_input),
        max_minutes=args.minutes,
        device=args.device,
        seed=args.seed,
        resume=not args.fresh,
        init_from=Path(args.init_from) if args.init_from else None,
        lr=args.lr,
        styles=tuple(args.styles or ()),
    )
    # TrainConfig's unless given: rare styles' weighting (tried in wave 8), a style's own
    # network's fixed steps and mix, the batch and the file's name.
    given = {"style_floor": args.style_floor, "max_repeat": args.max_repeat,
             "max_steps": args.steps, "mix": args.mix, "batch_size": args.batch_size,
             "name": args.name, "named_only": args.named_only or None}
    config = replace(config, **{k: v for k, v in given.items() if v is not None})
    if args.tiny:
        config = config.tiny()
    train(config)


def cmd_sample(args: argparse.Namespace) -> None:
    from composer.training.sample import sample_to_midi

    for path in sample_to_midi(
        style=args.style,
        n=args.n,
        out_dir=Path(args.out),
        seed=args.seed,
        temperature=args.temperature,
        top_p=args.top_p,
        bars=args.bars,
    ):
        print(path)


def cmd_eval(args: argparse.Namespace) -> None:
    if args.what == "songs":  # songs as delivered against held-out human tunes
        from composer.training.songs_eval import evaluate_songs

        evaluate_songs(per_style=args.per_style, out=Path(args.out), seeds=args.seeds)
        return
    from composer.training.evaluate import evaluate

    evaluate(n_samples=args.n, out=Path(args.out), songs_per_style=args.songs)


def cmd_bench(args: argparse.Namespace) -> None:
    if args.queue:  # the job queue only: embedded vs Redis + workers (bench/queue.json)
        from bot.cli.bench_queue import bench_queue

        out = Path(args.out if args.out != BENCH_OUT else "bench/queue.json")
        print(json.dumps(bench_queue(quick=args.quick, out=out), indent=2))
        print(f"written to {out}")
        return
    from bot.cli.bench import run_benchmarks

    run_benchmarks(out=Path(args.out), device=args.device, quick=args.quick)


def cmd_config(args: argparse.Namespace) -> None:
    """Print the effective settings as JSON (secrets masked); exit 2 when they are invalid."""
    from bot.settings import load_settings

    print(json.dumps(load_settings().public(), indent=2, ensure_ascii=False))


def cmd_bot(args: argparse.Namespace) -> None:
    from bot.settings import load_settings
    from bot.telegram.app import main

    main(load_settings())


def cmd_worker(args: argparse.Namespace) -> None:
    from bot.queue.worker import main
    from bot.settings import load_settings

    main(load_settings())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isadei", description="Isadei composes music on request.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="show how a request is understood")
    p.add_argument("text")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("styles", help="list the style catalogue")
    p.set_defaults(func=cmd_styles)

    p = sub.add_parser("compose", help="compose a song: MIDI, MP3, sheet music, JSON")
    p.add_argument("text", nargs="?", default=None,
                   help='what to compose (default "a folk song"; with --tune, the style); a '
                   'tune written in it ("a waltz: E D C | D E E | E - -") is built on')
    p.add_argument("--out", default="out")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--tune", help="your tune to build the song around: a voice recording "
                   "(.ogg .oga .wav .mp3 .m4a), an .abc or a .mid file, or a text file of "
                   "note names")
    p.set_defaults(func=cmd_compose)

    p = sub.add_parser("listen", help="what Isadei hears in a tune (audio, ABC or MIDI)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser("corpus", help="rebuild the training-data cache from music21's corpus")
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_corpus)

    p = sub.add_parser("train", help="train the LSTM; writes weights/")
    p.add_argument("--out", default="weights")
    p.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--tiny", action="store_true", help="a minutes-long smoke run")
    p.add_argument("--init-from", help="warm start from these weights (matched by token name)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--style-input", action="store_true",
                   help="the style at every step, not only as a heading (tried in wave 7)")
    p.add_argument("--style-floor", type=int,
                   help="repeat a rare style's tunes until it counts about this many an epoch")
    p.add_argument("--max-repeat", type=int, help="the most times one tune comes in an epoch")
    p.add_argument("--styles", nargs="+", metavar="STYLE",
                   help="train and validate on these styles' tunes only (a style's own network)")
    p.add_argument("--named-only", action="store_true",
                   help="only the tunes whose own words name their style (not by meter)")
    p.add_argument("--steps", type=int,
                   help="train exactly this many steps and keep the last weights")
    p.add_argument("--mix", type=float,
                   help="with --steps: keep init + MIX x (trained - init), as WiSE-FT does")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--name", help="the weights file's name (default isadei-lstm)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="sample tunes from the model as MIDI files")
    p.add_argument("--style", default="folk")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--out", default="samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=None, help="default: the product's")
    p.add_argument("--top-p", type=float, default=None, help="default: the product's")
    p.add_argument("--bars", type=int, default=16)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("eval", help="held-out likelihood and generated-vs-human statistics")
    p.add_argument("what", nargs="?", choices=("model", "songs"), default="model",
                   help="model: likelihood and raw samples; songs: songs as delivered")
    p.add_argument("--per-style", type=int, default=12, help="songs: composed songs per style")
    p.add_argument("--seeds", type=int, default=1,
                   help="songs: measure this many seeds (their spread into metrics.json)")
    p.add_argument("--n", type=int, default=300, help="sampled tunes")
    p.add_argument("--songs", type=int, default=20, help="composed songs per style")
    p.add_argument("--out", default="weights/metrics.json")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="speed benchmarks; prints numbers and writes JSON")
    p.add_argument(
        "--queue", action="store_true", help="benchmark the job queue (embedded vs Redis workers)"
    )
    p.add_argument("--quick", action="store_true",
                   help="fewer, smaller runs (with --queue: 1, 4, 16 requests)")
    p.add_argument("--device", default="auto",
                   help="where the network samples: auto (CUDA if there is one), cpu, cuda:N")
    p.add_argument("--out", default=BENCH_OUT)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("config", help="print the effective settings as JSON (secrets masked)")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("bot", help="run the Telegram bot (polling)")
    p.set_defaults(func=cmd_bot)

    p = sub.add_parser("worker", help="run a composing worker against ISADEI_REDIS_URL")
    p.set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        sys.exit(130)
    except ValueError as error:  # bad input: a clear message, not a traceback
        print(f"isadei: {error}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as error:
        print(f"isadei: no such file: {error.filename}", file=sys.stderr)
        sys.exit(2)
    except RuntimeError as error:
        from composer.audio import MissingSystemDependency

        if not isinstance(error, MissingSystemDependency):
            raise
        print(f"isadei: {error}", file=sys.stderr)  # says what to apt-get install
        sys.exit(3)

