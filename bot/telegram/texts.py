"""What the bot says, in the user's language: English msgids here, translations in the gettext
catalogues of bot/telegram/locales (composer.i18n reads them). Plain text (no parse mode), so
user words are safe. `t(lang, key, **values)` fills a message; counts take their CLDR plural
form ("1 песня, 2 песни, 5 песен, 21 песня") and numbers are written the language's way."""

from __future__ import annotations

from pathlib import Path

from composer import naming
from composer.i18n import N_, NN_, Words, client_language, script_language, words_for

EN, RU = "en", "ru"
LOCALES = Path(__file__).parent / "locales"

# key -> msgid, or (singular, plural) for a message with a {count}.
TEXTS: dict[str, str | tuple[str, str]] = {
    "start": N_(
        "Hi, I'm Isadei 🎼 — I compose music on request.\n\n"
        "Tell me in words what you'd like to hear, and a few seconds later you get a song "
        "to play right here, its MIDI file for any music program, and the sheet music.\n\n"
        "Try:\n"
        "• a sad waltz in D minor\n"
        "• something cheerful for my daughter's birthday\n"
        "• a lullaby on the harp, 1 minute\n"
        "• /styles — pick a style with one tap\n"
        "• or hum a tune in a voice message: I'll build a whole song around it\n\n"
        "My songs come from a neural network that learned from thousands of real folk "
        "tunes, dances and Bach chorales."),
    "help": N_(
        "Send me a wish in plain words (style, mood, occasion, key, meter, tempo, length, one "
        "or two instruments), e.g. \"a slow air in E minor on the flute, 40 seconds\".\n\n"
        "/compose TEXT — compose a song (in groups: /compose@{bot} TEXT, or mention me, "
        "or reply to my message)\n"
        "/styles — the styles, one tap each\n"
        "/settings — your language, instrument and length\n"
        "/cancel — drop your songs still waiting in line\n"
        "/help — this message\n\n"
        "🎤 Hum or sing a tune in a voice message (or send an audio file, ABC text, an .abc or "
        ".mid file, or write its notes: \"E D C D | E E E -\", \"do re mi\"): I harmonise it "
        "and build a whole song around it. Add words like \"as a waltz\" to choose the style.\n\n"
        "Under each song: another one, a variation, menus for the instrument, mood, key and "
        "length, and 📤 Share.\n"
        "In any chat, type @{bot} and a wish: I compose it right there."),
    "styles": N_("Pick a style — one tap and I compose it:"),
    "thanks": N_("You're welcome! 🎶 Ask for another song any time — or tap a style:"),
    "praise": N_("Glad you like it! 🎶 Want another one? Tell me what — or tap a style:"),
    "compose_empty": N_(
        "What shall I play? e.g. /compose a sad waltz in D minor — or tap a style:"),
    "status_queued": N_("🎼 composing {what}… you are {position} in line"),
    "status_next": N_("🎼 composing {what}… you're next"),
    "status_composing": N_("🎼 composing {what}…"),
    "status_rendering": N_("🎻 recording {what}…"),
    "status_sending": N_("📤 sending {what}…"),
    "status_retry": N_("🎼 that take went wrong — composing {what} again…"),
    "status_cancelled": N_("✖️ cancelled: {what}"),
    "status_busy": N_(
        "⏳ I'm very busy right now and can't reach my composers for a moment. "
        "{what} stays in line and comes as soon as they're back."),
    "summary": N_("✅ {what} — ready in {seconds} s"),
    "notes": N_("({notes})"),
    "failed": N_(
        "😔 Sorry, I couldn't compose this one. Please try again in a minute, or try "
        "another style. (job {job_id})"),
    "limit_active": NN_(
        "🎶 You already have {count} song on the way. When it arrives (in about {wait}), "
        "ask again.",
        "🎶 You already have {count} songs on the way. When one arrives (in about {wait}), "
        "ask again."),
    "limit_hour": NN_(
        "🎶 That's {count} song this hour — my quill needs a rest. Try again in {wait}.",
        "🎶 That's {count} songs this hour — my quill needs a rest. Try again in {wait}."),
    "limit_queue": NN_(
        "🎶 I'm swamped: {count} song in line. Please try again in {wait}.",
        "🎶 I'm swamped: {count} songs in line. Please try again in {wait}."),
    "cancel_done": NN_(
        "✖️ Cancelled {count} song that was waiting in line.",
        "✖️ Cancelled {count} songs that were waiting in line."),
    "cancel_none": N_("Nothing to cancel: none of your songs is waiting in line."),
    "cancel_running": N_(" The one I'm already composing will still arrive."),
    "caption_form": N_("Form: {form}"),
    "caption_seed": N_("Seed {seed} · job {job_id}"),
    "caption_tempo": N_("{tempo} bpm"),
    "caption_instruments": N_("{instrument} and {accompaniment}"),
    "score_pdf": NN_("📄 The whole score, {count} page, to print",
                     "📄 The whole score, {count} pages, to print"),
    "score_musicxml": N_("🎼 MusicXML: opens in MuseScore and other notation programs"),
    "seconds": NN_("{count} second", "{count} seconds"),
    "minutes": NN_("{count} minute", "{count} minutes"),
    "min_sec": N_("{minutes} min {seconds} s"),
    "seconds_short": N_("{seconds} s"),
    "btn_again": N_("🔁 Another one"),
    "btn_variation": N_("🎲 Variation"),
    "btn_longer": N_("⏱ Longer"),
    "btn_instrument": N_("🎹 Instrument"),
    "btn_mood": N_("🎭 Mood"),
    "btn_key": N_("🎼 Key"),
    "btn_length": N_("⏱ Length"),
    "btn_share": N_("📤 Share"),
    "btn_back": N_("⬅️ Back"),
    "btn_compose_own": N_("🎼 Compose one for me"),
    "mood_cheerful": N_("😊 Cheerful (major)"),
    "mood_sad": N_("😢 Sad (minor)"),
    "mood_dorian": N_("🌿 Dorian (folk minor)"),
    "mood_mixolydian": N_("🍀 Mixolydian (folk major)"),
    "menu_instrument": N_("Which instrument shall play the tune?"),
    "menu_mood": N_("Which mood?"),
    "menu_key": N_("Which key?"),
    "menu_length": N_("How long?"),
    "on_it": N_("🎼 On it!"),
    "gone": N_("I no longer have that song — send me a new request."),
    "not_admin": N_("Sorry, /stats is for the bot's admins."),
    "stats": N_(
        "📊 Today: {done} songs, {failed} failed\n"
        "Queue: {active} unfinished ({queued} waiting)\n"
        "Latency p50 {p50}, p95 {p95}"),
    "inline_compose": N_("🎼 Compose: {text}"),
    "inline_compose_desc": N_("Isadei composes it right here, in this chat"),
    "inline_composing": N_("🎼 Isadei is composing {what}…"),
    "inline_style_desc": N_("compose {what}"),
    "inline_share_desc": N_("share this song"),
    "inline_need_start": N_(
        "🎼 To compose here, open @{bot} once and press Start — then pick me again."),
    "inline_failed": N_("😔 Sorry, this song did not work out. Try again in a minute."),
    "shared_caption": N_("Composed by @{bot} — make your own: {link}"),
    "replay": N_("🎁 A song shared with you — here it is, with its MIDI and sheet music:"),
    "other": N_(
        "I compose music from words 🎼 Write what you'd like to hear — \"a cheerful jig\", "
        "\"a calm song for sleep\", \"a piano and violin duet in 3/4\" — tap /styles, or hum "
        "me a tune in a voice message."),
    "unknown_command": N_(
        "I don't know that command. Try /compose, /styles, /settings or /help — or just "
        "write the song you'd like."),
    "edited": N_(
        "✏️ I saw the edit. I compose from new messages: send the wish again and I'll "
        "start."),
    "heard": NN_(
        "👂 I heard {count} note in {tonality}, {meter}, about {tempo} bpm. Now a song around "
        "it…",
        "👂 I heard {count} notes in {tonality}, {meter}, about {tempo} bpm. Now a song around "
        "it…"),
    "tune_too_big": N_(
        "📦 That file is too big for me: please send at most 20 MB (a minute of humming is "
        "plenty)."),
    "tune_too_short": N_(
        "⏱ That was too short to hear a tune: please hum or sing for at least 2 seconds."),
    "tune_too_long": N_(
        "⏱ That's longer than I can listen to: please send at most a minute (a verse or a "
        "chorus is plenty)."),
    "tune_corrupt": N_(
        "😕 I couldn't open that file: it seems damaged or cut short. Could you send it "
        "again?"),
    "tune_unsupported": N_(
        "😕 I can't read that kind of file. Send a voice message, an audio file (MP3, M4A, "
        "OGG, WAV), a MIDI file or an ABC tune."),
    "tune_silence": N_(
        "🤫 I couldn't hear anything: it's silent. Hold the phone closer and hum or sing your "
        "tune."),
    "tune_no_tune": N_(
        "🎤 I couldn't hear a tune in that: it sounds like talking or noise. Hum or sing it "
        "(\"la-la-la\" is perfect), somewhere quiet."),
    "tune_no_notes": N_("🎼 I found no notes in that tune. Send me one with a melody in it."),
    "tune_too_many_notes": N_(
        "🎼 That's far more notes than one tune: please send just the melody, a minute or "
        "so of it."),
    "tune_abc_syntax": N_(
        "📜 I couldn't read that ABC tune: please check the notation (the header needs a K: "
        "line, then the notes)."),
    "tune_failed": N_(
        "😔 Sorry, I couldn't listen to that one. Please try again in a minute."),
    "document": N_(
        "📄 I can't read this file. Send a tune as an .abc or .mid file, or write what you'd "
        "like to hear."),
    "settings": N_(
        "⚙️ Your settings\nLanguage: {language}\nInstrument: {instrument}\nLength: {length}\n\n"
        "Tap to change; a wish's own words always win."),
    "settings_auto": N_("automatic"),
    "settings_saved": N_("✅ Saved"),
    "description": N_(
        "I compose music on request. Write a wish in plain words — \"a sad waltz\", "
        "\"something cheerful for a birthday\", \"a piano and violin duet\" — and get a song "
        "to play, its MIDI file and the sheet music (PDF, MusicXML). A neural network trained "
        "on thousands of real folk tunes, dances and Bach chorales writes every song."),
    "short_description": N_(
        "I compose songs on request: write a wish, get audio, MIDI and sheet music."),
    "cmd_compose": N_("compose a song: /compose a sad waltz in D minor"),
    "cmd_styles": N_("pick a style with one tap"),
    "cmd_settings": N_("your language, instrument and length"),
    "cmd_cancel": N_("drop your songs waiting in line"),
    "cmd_help": N_("what I can do"),
    "cmd_start": N_("who I am"),
    "language_name": N_("English"),
}

COMMANDS = ("compose", "styles", "settings", "cancel", "help", "start")

STYLE_EMOJI = {
    "folk": "🪕",
    "ballad": "📜",
    "lullaby": "🌙",
    "waltz": "💃",
    "march": "🥁",
    "jig": "☘️",
    "slip-jig": "🍀",
    "reel": "🎻",
    "hornpipe": "⚓",
    "strathspey": "🏴",
    "air": "🌬",
    "chorale": "⛪",
    "chinese-folk": "🏮",
}


def words(lang: str) -> Words:
    return words_for(lang, LOCALES, "bot")


def lang_of(language_code: str | None, text: str = "") -> str:
    """The user's language: the request's own script when it says one (Cyrillic: Russian;
    English words), else the client's language (uk/be clients read Russian)."""
    return script_language(text or "") or client_language(language_code)


def t(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang`, filled in (a plural message needs `count`)."""
    message = TEXTS[key]
    if isinstance(message, tuple):
        count = values.pop("count")
        return words(lang).n(*message, int(count), **values)
    return words(lang)(message, **values)


def ordinal(lang: str, n: int) -> str:
    """2nd / 2-й."""
    if lang == RU:
        return f"{n}-й"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def duration(lang: str, seconds: float) -> str:
    """ "21 секунда", "2 минуты", "1 min 30 s"."""
    seconds = int(round(seconds))
    if seconds < 60:
        return t(lang, "seconds", count=seconds)
    if seconds % 60 == 0:
        return t(lang, "minutes", count=seconds // 60)
    return t(lang, "min_sec", minutes=seconds // 60, seconds=seconds % 60)


def wait_time(lang: str, seconds: float) -> str:
    """A friendly wait: "a minute" is "1 minute", "12 minutes", "40 seconds"."""
    if seconds < 50:
        return t(lang, "seconds", count=max(5, int(round(seconds / 5.0)) * 5))
    return t(lang, "minutes", count=max(1, int(round(seconds / 60))))


def style_label(lang: str, style_id: str) -> str:
    """A button label for a style: "💃 Waltz" / "💃 Вальс" (names: composer.naming)."""
    return f"{STYLE_EMOJI.get(style_id, '🎵')} {naming.style_title(style_id, lang)}"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters (Telegram counts UTF-16 units; stay well under its limits)."""
    text = text or ""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
