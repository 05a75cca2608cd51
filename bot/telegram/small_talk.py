"""Messages that are not a request: a greeting, thanks, praise, a question about the bot.

"hi", "спасибо", "cool" or 👍 on its own gets a friendly answer (who Isadei is, you're
welcome, glad you like it, what it can do) instead of a folk song nobody asked for; a
greeting with a wish in it ("hi, a waltz please") is a request as usual. The whole message
must be small talk.
"""

from __future__ import annotations

import re

# The text key of the answer -> the messages that get it (lowercase, "ё" as "е", no
# punctuation; the bot's name and a few fillers are dropped first).
SMALL_TALK: dict[str, tuple[str, ...]] = {
    "start": ("hi", "hello", "hey", "hiya", "yo", "good morning", "good afternoon",
              "good evening", "greetings", "howdy", "hi there", "hello there", "hey there",
              "привет", "приветик", "здравствуй", "здравствуйте", "добрый день", "доброе утро",
              "добрый вечер", "хай", "салют", "здорово", "прив", "ку"),
    "thanks": ("thanks", "thank you", "thx", "ty", "cheers", "many thanks",
               "great thanks", "cool thanks", "nice thanks", "ok thanks", "спасибо", "спс",
               "благодарю", "спасибки", "пасиб", "пасибо", "класс спасибо", "круто спасибо",
               "отлично спасибо", "супер спасибо"),
    "praise": ("cool", "nice", "great", "awesome", "wow", "love it", "i love it",
               "amazing", "perfect", "ok", "okay", "круто", "класс", "классно", "супер",
               "отлично", "прикольно", "огонь", "ого", "вау", "ок", "окей", "норм",
               "кайф"),
    "help": ("help", "what can you do", "what do you do", "who are you", "how does it work",
             "how do i use you", "how to use", "what are you", "помощь", "помоги", "справка",
             "что ты умеешь", "что ты можешь", "кто ты", "как это работает",
             "как тобой пользоваться", "что умеешь"),
}
FILLERS = ("isadei", "исадей", "bot", "бот", "so", "very", "much", "please", "пожалуйста",
           "большое", "огромное", "очень", "тебе", "вам", "a", "lot")
_PHRASES = {phrase: key for key, phrases in SMALL_TALK.items() for phrase in phrases}
# A message of emoji alone: these say "I like it" (any other is left to the request parser).
PRAISE_EMOJI = ("👍", "❤", "🔥", "👏", "😍", "🥰", "😊", "🙂", "💯", "🎉", "🙏")


def small_talk(text: str) -> str | None:
    """The key of the answer to a message that is only small talk, else None."""
    words = re.sub(r"[^\w\s]|_|\d", " ", (text or "").lower().replace("ё", "е")).split()
    plain = " ".join(w for w in words if w not in FILLERS)
    if not words and any(e in (text or "") for e in PRAISE_EMOJI):
        return "praise"
    return _PHRASES.get(plain)
