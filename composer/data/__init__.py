"""The data files the library ships, named once: the corpus cache and its stats, the
learned harmony tables, key profiles and styles' rhythms, and a tiny real corpus for smoke
runs and tests."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
CACHE_PATH = DATA_DIR / "corpus.jsonl.gz"
STATS_PATH = DATA_DIR / "corpus_stats.json"
HARMONY_PATH = DATA_DIR / "harmony.json"
KEY_PROFILES_PATH = DATA_DIR / "key_profiles.json"
STYLE_RHYTHMS_PATH = DATA_DIR / "style_rhythms.json"
TINY_CORPUS_PATH = DATA_DIR / "tiny_corpus.jsonl.gz"
