"""What the bot says, in English and Russian. Plain text (no parse mode), so user words are safe."""

from __future__ import annotations

import re

from composer.styles import STYLE_LABELS

EN, RU = "en", "ru"

TEXTS: dict[str, dict[str, str]] = {
    EN: {
        "start": (
            "Hi, I'm Isadei 🎼 — I compose music on request.\n\n"
            "Tell me in words what you'd like to hear, and a few seconds later you get a song "
            "to play right here, its MIDI file for any music program, and the sheet music.\n\n"
            "Try:\n"
            "• a sad waltz in D minor\n"
            "• a fast Irish jig\n"
            "• a lullaby on the harp, 1 minute\n"
            "• /styles — pick a style with one tap\n\n"
            "My songs come from a neural network that learned from thousands of real folk "
            "tunes, dances and Bach chorales."
        ),
        "help": (
            "Send me a wish in plain words (style, mood, key, tempo, length, instrument), "
            'e.g. "a slow air in E minor on the flute, 40 seconds".\n\n'
            "/compose TEXT — compose a song (in groups: /compose@{bot} TEXT, or mention me, "
            "or reply to my message)\n"
            "/styles — the styles, one tap each\n"
            "/cancel — drop your songs still waiting in line\n"
            "/help — this message\n\n"
            "Under each song: 🔁 another one, 🎲 a variation, ⏱ longer, 🎹 another instrument.\n"
            "In any chat, type @{bot} to share one of your songs."
        ),
        "styles": "Pick a style — one tap and I compose it:",
        "compose_empty": (
            "What shall I play? e.g. /compose a sad waltz in D minor — or tap a style:"
        ),
        "status_queued": "🎼 composing {what}… you are {position} in line",
        "status_next": "🎼 composing {what}… you're next",
        "status_composing": "🎼 composing {what}…",
        "status_rendering": "🎻 recording {what}…",
        "status_sending": "📤 sending {what}…",
        "status_retry": "🎼 that take went wrong — composing {what} again…",
        "status_cancelled": "✖️ cancelled: {what}",
        "status_busy": (
            "⏳ I'm very busy right now and can't reach my composers for a moment. "
            "{what} stays in line and comes as soon as they're back."
        ),
        "summary": "✅ {what} — ready in {seconds} s",
        "notes": "(note: {notes})",
        "failed": (
            "😔 Sorry, I couldn't compose this one. Please try again in a minute, or try "
            "another style. (job {job_id})"
        ),
        "limit_active": (
            "🎶 You already have {count} songs on the way. When one arrives (in about {wait}), "
            "ask again."
        ),
        "limit_hour": (
            "🎶 That's {count} songs this hour — my quill needs a rest. Try again in {wait}."
        ),
        "limit_queue": "🎶 I'm swamped: {count} songs in line. Please try again in {wait}.",
        "cancel_done": "✖️ Cancelled {count} song(s) that were waiting in line.",
        "cancel_none": "Nothing to cancel: none of your songs is waiting in line.",
        "cancel_running": " The one I'm already composing will still arrive.",
        "caption_form": "Form: {form}",
        "caption_seed": "Seed {seed} · job {job_id}",
        "btn_again": "🔁 Another one",
        "btn_variation": "🎲 Variation",
        "btn_longer": "⏱ Longer",
        "btn_instrument": "🎹 Other instrument",
        "on_it": "🎼 On it!",
        "gone": "I no longer have that song — send me a new request.",
        "not_admin": "Sorry, /stats is for the bot's admins.",
        "stats": (
            "📊 Today: {done} songs, {failed} failed\n"
            "Queue: {active} unfinished ({queued} waiting)\n"
            "Latency p50 {p50}, p95 {p95}"
        ),
        "inline_compose": "🎼 Compose: {text}",
        "inline_compose_desc": "Isadei composes it right here (I must be in this chat)",
        "inline_song_desc": "your song, {when}",
        "inline_style_desc": "compose {what}",
        "inline_request": "🎼 {what}, please!",
        "mins": "{n} minutes",
        "min1": "a minute",
        "secs": "{n} seconds",
    },
    RU: {
        "start": (
            "Привет, я Isadei 🎼 — сочиняю музыку на заказ.\n\n"
            "Опишите словами, что хотите услышать, и через несколько секунд получите песню, "
            "которую можно слушать прямо здесь, её MIDI-файл для любой музыкальной программы "
            "и ноты.\n\n"
            "Попробуйте:\n"
            "• грустный вальс ре минор\n"
            "• быстрая ирландская джига\n"
            "• колыбельная на арфе, 1 минута\n"
            "• /styles — выбрать стиль одним нажатием\n\n"
            "Мои песни пишет нейросеть, выученная на тысячах настоящих народных мелодий, "
            "танцев и хоралов Баха."
        ),
        "help": (
            "Напишите пожелание обычными словами (стиль, настроение, тональность, темп, "
            "длина, инструмент), например: «медленный напев ми минор на флейте, 40 секунд».\n\n"
            "/compose ТЕКСТ — сочинить песню (в группах: /compose@{bot} ТЕКСТ, упоминание "
            "или ответ на моё сообщение)\n"
            "/styles — стили, по одному нажатию\n"
            "/cancel — убрать ваши песни из очереди\n"
            "/help — эта справка\n\n"
            "Под каждой песней: 🔁 ещё одна, 🎲 вариация, ⏱ длиннее, 🎹 другой инструмент.\n"
            "В любом чате наберите @{bot}, чтобы поделиться своей песней."
        ),
        "styles": "Выберите стиль — сочиню по одному нажатию:",
        "compose_empty": (
            "Что сыграть? Например: /compose грустный вальс ре минор — или выберите стиль:"
        ),
        "status_queued": "🎼 сочиняю {what}… вы {position} в очереди",
        "status_next": "🎼 сочиняю {what}… вы следующий",
        "status_composing": "🎼 сочиняю {what}…",
        "status_rendering": "🎻 записываю {what}…",
        "status_sending": "📤 отправляю {what}…",
        "status_retry": "🎼 этот дубль не удался — сочиняю {what} заново…",
        "status_cancelled": "✖️ отменено: {what}",
        "status_busy": (
            "⏳ Я сейчас очень занят: мои композиторы на минуту недоступны. "
            "{what} — в очереди и придёт, как только они вернутся."
        ),
        "summary": "✅ {what} — готово за {seconds} с",
        "notes": "(примечание: {notes})",
        "failed": (
            "😔 Простите, эту песню сочинить не получилось. Попробуйте через минуту или "
            "выберите другой стиль. (задание {job_id})"
        ),
        "limit_active": (
            "🎶 У вас уже {count} песни в работе. Когда одна придёт (примерно через {wait}), "
            "попросите снова."
        ),
        "limit_hour": (
            "🎶 Уже {count} песен за этот час — перу нужен отдых. Попробуйте через {wait}."
        ),
        "limit_queue": "🎶 Очередь полна: {count} песен. Попробуйте через {wait}.",
        "cancel_done": "✖️ Отменено песен в очереди: {count}.",
        "cancel_none": "Отменять нечего: ваших песен в очереди нет.",
        "cancel_running": " Та, что уже сочиняется, всё равно придёт.",
        "caption_form": "Форма: {form}",
        "caption_seed": "Seed {seed} · задание {job_id}",
        "btn_again": "🔁 Ещё одну",
        "btn_variation": "🎲 Вариация",
        "btn_longer": "⏱ Длиннее",
        "btn_instrument": "🎹 Другой инструмент",
        "on_it": "🎼 Уже сочиняю!",
        "gone": "Этой песни у меня больше нет — пришлите новый запрос.",
        "not_admin": "Простите, /stats только для администраторов.",
        "stats": (
            "📊 Сегодня: {done} песен, {failed} неудач\n"
            "Очередь: {active} незавершённых ({queued} ждут)\n"
            "Задержка p50 {p50}, p95 {p95}"
        ),
        "inline_compose": "🎼 Сочинить: {text}",
        "inline_compose_desc": "Isadei сочинит это прямо здесь (я должен быть в этом чате)",
        "inline_song_desc": "ваша песня, {when}",
        "inline_style_desc": "сочинить: {what}",
        "inline_request": "🎼 {what}, пожалуйста!",
        "mins": "{n} мин",
        "min1": "минуту",
        "secs": "{n} с",
    },
}

COMMANDS: dict[str, list[tuple[str, str]]] = {
    EN: [
        ("compose", "compose a song: /compose a sad waltz in D minor"),
        ("styles", "pick a style with one tap"),
        ("cancel", "drop your songs waiting in line"),
        ("help", "what I can do"),
        ("start", "who I am"),
    ],
    RU: [
        ("compose", "сочинить песню: /compose грустный вальс"),
        ("styles", "выбрать стиль одним нажатием"),
        ("cancel", "убрать ваши песни из очереди"),
        ("help", "что я умею"),
        ("start", "кто я"),
    ],
}

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

_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def lang_of(language_code: str | None, text: str = "") -> str:
    """Russian for ru/uk/be Telegram clients or Cyrillic requests, English otherwise."""
    if (language_code or "").lower().startswith(("ru", "uk", "be")):
        return RU
    return RU if _CYRILLIC.search(text or "") else EN


def t(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang` (English if missing), filled in."""
    template = TEXTS.get(lang, TEXTS[EN]).get(key) or TEXTS[EN][key]
    return template.format(**values) if values else template


def ordinal(lang: str, n: int) -> str:
    """2nd / 2-й."""
    if lang == RU:
        return f"{n}-й"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def wait_time(lang: str, seconds: float) -> str:
    """A friendly duration: "a minute", "12 minutes", "40 seconds"."""
    if seconds < 50:
        return t(lang, "secs", n=max(5, int(round(seconds / 5.0)) * 5))
    if seconds < 90:
        return t(lang, "min1")
    return t(lang, "mins", n=int(round(seconds / 60)))


def style_label(lang: str, style_id: str) -> str:
    """A button label for a style: "💃 Waltz" / "💃 вальс" (names: composer.styles)."""
    emoji = STYLE_EMOJI.get(style_id, "🎵")
    english, russian, *_ = STYLE_LABELS.get(style_id, (style_id.replace("-", " "),) * 2)
    name = russian if lang == RU else english[:1].upper() + english[1:]
    return f"{emoji} {name}"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters (Telegram counts UTF-16 units; stay well under its limits)."""
    text = text or ""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
