"""End to end through the fake Bot API: the user's language everywhere, an answer to every kind
of update, sharing (a Share button, deep links, inline composing), menus and /settings."""

from __future__ import annotations

import re

from tests.fake_bot_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.test_bot_e2e import BOT, buttons, job_of, song

# Latin words a Russian reply may hold: names and formats, not sentences.
ALLOWED_LATIN = {"isadei", "midi", "pdf", "musicxml", "abc", "p50", "p95", "start", "settings",
                 "styles", "compose", "help", "cancel", "stats", "https", "me",
                 "english"}  # (each language is offered in its own name)


def english_words(text: str) -> list[str]:
    """Latin words in a reply that are not names, commands, links or ids."""
    text = re.sub(r"https?://\S+|@\w+|/\w+", " ", text)
    return [w for w in re.findall(r"\b[A-Za-z][A-Za-z']+\b", text)
            if w.lower() not in ALLOWED_LATIN]


def shown_texts(api: FakeBotApi, chat_id: int) -> list[str]:
    """Every text, caption and button label the bot showed in a chat."""
    texts = []
    for call in api.calls:
        if call.get("chat_id") is None or int(call.get("chat_id")) != chat_id:
            continue
        texts += [call.get(name) for name in ("text", "caption", "title") if call.get(name)]
        for row in (call.get("reply_markup") or {}).get("inline_keyboard", []):
            texts += [button["text"] for button in row]
    return texts


def test_russian_conversation_has_no_english(bot_process):
    api = bot_process.api
    olga = user(3001, "Ольга", "ru")
    chat = private_chat(olga)
    for text in ("/start", "/help", "/styles", "/settings", "/unknown"):
        api.push_message(olga, chat, text)
    api.wait_for("sendMessage", chat_id=3001, count=5)
    api.push_message(olga, chat, "сыграй рок на 21 секунду")
    status = api.wait_for("sendMessage", chat_id=3001, count=6)
    assert "рок я пока не играю" in status["text"], status["text"]
    audio, _, _ = song(api, 3001)
    assert "⏱ 21 секунда" in audio["caption"] and "Вступление" in audio["caption"]
    api.push_callback(olga, audio.result, f"menu:inst:{job_of(audio)}")
    menu = api.wait_for("editMessageReplyMarkup", chat_id=3001)
    assert "Скрипка" in str(menu["reply_markup"]) or "скрипка" in str(menu["reply_markup"])
    api.push_media(olga, chat, photo=[{"file_id": "p1", "file_unique_id": "p1", "width": 9,
                                       "height": 9}])
    api.push_media(olga, chat, voice={"file_id": "v1", "file_unique_id": "v1", "duration": 3})
    api.wait_for("sendMessage", chat_id=3001, count=8)
    api.wait_for("deleteMessage", chat_id=3001)  # the song's status message is gone
    texts = shown_texts(api, 3001)
    assert len(texts) > 30
    for text in texts:
        assert not english_words(text), (english_words(text), text)


def test_plural_forms_in_russian(bot_process):
    api = bot_process.api
    wishes = {"1 минуту": "1 минута", "2 минуты": "2 минуты", "5 минут": "5 минут",
              "21 секунду": "21 секунда", "22 секунды": "22 секунды", "25 секунд": "25 секунд"}
    for i, asked in enumerate(wishes):
        person = user(3100 + i, "Пётр", "ru")
        api.push_message(person, private_chat(person), f"вальс на {asked}")
    for i, shown in enumerate(wishes.values()):
        audio, _, _ = song(api, 3100 + i)
        assert f"⏱ {shown}" in audio["caption"], audio["caption"]


def test_every_update_kind_in_a_private_chat_is_answered(bot_process):
    api = bot_process.api
    ann = user(3201, "Ann", "en")
    chat = private_chat(ann)
    document = {"file_unique_id": "d", "file_size": 10}
    kinds = {
        "compose music from words": {"photo": [{"file_id": "p", "file_unique_id": "p",
                                                "width": 9, "height": 9}]},
        "I compose music": {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular",
                                        "width": 9, "height": 9, "is_animated": False,
                                        "is_video": False}},
        "can't read this file": {"document": {**document, "file_id": "d3",
                                              "file_name": "cv.pdf"}},
    }
    # A user's own tune (bot/telegram/tunes.py): some answer each (these files are not real).
    tunes = [{"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}},
             {"audio": {"file_id": "a", "file_unique_id": "a", "duration": 2}},
             {"document": {**document, "file_id": "d1", "file_name": "tune.abc"}},
             {"document": {**document, "file_id": "d2", "file_name": "tune.mid",
                           "mime_type": "audio/midi"}}]
    for content in (*kinds.values(), *tunes):
        api.push_media(ann, chat, **content)
    asked = api.push_message(ann, chat, "/frobnicate")
    api.push_edit(asked, "a waltz")
    replies = api.wait_for("sendMessage", chat_id=3201, count=len(kinds) + len(tunes) + 2,
                           timeout=60)
    texts = [c["text"] for c in api.find("sendMessage", chat_id=3201)]
    for words in (*kinds, "don't know that command", "I saw the edit"):
        assert sum(words in text for text in texts) >= 1, (words, texts)
    assert replies["text"]
    assert not api.find("sendAudio", chat_id=3201)  # an edit is not a new request


def test_profile_is_registered_per_language(bot_process):
    api = bot_process.api
    for method, field in (("setMyDescription", "description"),
                          ("setMyShortDescription", "short_description")):
        calls = {c.get("language_code"): c[field] for c in api.find(method)}
        assert "compose" in calls[None] and calls[None] == calls["en"]
        assert calls["ru"] == calls["uk"] == calls["be"]
        assert not english_words(calls["ru"].replace("MusicXML", ""))
        assert len(calls["ru"]) <= (512 if field == "description" else 120)
    commands = {c.get("language_code"): c["commands"] for c in api.find("setMyCommands")}
    assert commands["uk"] == commands["ru"] != commands[None]
    assert "settings" in {c["command"] for c in commands["uk"]}


def test_share_button_and_deep_link_replay(bot_process):
    api = bot_process.api
    ann, bob = user(3301, "Ann", "en"), user(3302, "Bob", "en")
    api.push_message(ann, private_chat(ann), "a cheerful jig")
    audio, midi, sheet = song(api, 3301)
    job = job_of(audio)
    share = buttons(audio)[-1]["switch_inline_query_chosen_chat"]["query"]
    query_id = api.push_inline_query(ann, share)
    answer = api.wait_for("answerInlineQuery", inline_query_id=query_id)
    [shared] = answer["results"]
    assert shared["type"] == "audio" and shared["audio_file_id"] == audio.result["audio"]["file_id"]
    link = f"https://t.me/{BOT}?start=song_{job}"
    assert link in shared["caption"]
    assert shared["reply_markup"]["inline_keyboard"][0][0]["url"] == link
    # Someone else's song cannot be shared by guessing its id.
    other = api.push_inline_query(bob, share)
    assert api.wait_for("answerInlineQuery", inline_query_id=other)["results"] == []

    api.push_message(bob, private_chat(bob), f"/start song_{job}")
    intro = api.wait_for("sendMessage", chat_id=3302)
    assert "shared with you" in intro["text"]
    replayed, replayed_midi, replayed_sheet = song(api, 3302)
    assert replayed["audio"] == audio.result["audio"]["file_id"] and not replayed.files
    assert replayed_midi["document"] == midi.result["document"]["file_id"]
    assert job_of(replayed) != job  # Bob's own copy: his buttons work for him

    api.push_message(bob, private_chat(bob), "/start style_waltz")
    waltz, _, _ = song(api, 3302, count=2)
    assert "Waltz" in waltz["caption"]


def test_inline_composing_in_a_chat_without_the_bot(bot_process):
    api = bot_process.api
    cy = user(3401, "Cy", "en")
    api.push_message(cy, private_chat(cy), "/start")  # Cy has pressed Start once
    api.wait_for("sendMessage", chat_id=3401)
    query_id = api.push_inline_query(cy, "a merry reel for my friends")
    answer = api.wait_for("answerInlineQuery", inline_query_id=query_id)
    compose = answer["results"][0]
    assert compose["id"].startswith("compose:") and compose["reply_markup"]
    assert "composing" in compose["input_message_content"]["message_text"]

    inline_id = api.push_chosen_inline_result(cy, compose["id"], "a merry reel for my friends")
    edit = api.wait_for("editMessageMedia", inline_message_id=inline_id, timeout=60)
    audio = api.wait_for("sendAudio", chat_id=3401)  # made in Cy's chat with the bot...
    assert edit["media"]["media"] == audio.result["audio"]["file_id"]  # ...shown in the group
    assert edit["media"]["type"] == "audio" and "Reel" in edit["media"]["caption"]
    assert edit["reply_markup"]["inline_keyboard"][0][0]["url"].startswith(f"https://t.me/{BOT}")

    # Someone who never opened the bot is told how to start (the bot can't upload for them).
    api.strangers.add(3402)
    dee = user(3402, "Dee", "en")
    inline_id = api.push_chosen_inline_result(dee, compose["id"], "a merry reel")
    told = api.wait_for("editMessageText", inline_message_id=inline_id)
    assert f"@{BOT}" in told["text"] and "Start" in told["text"]


def test_menus_compose_new_takes_and_settings_persist(bot_process):
    api = bot_process.api
    eve = user(3501, "Eve", "en")
    chat = private_chat(eve)
    api.push_message(eve, chat, "a folk song")
    audio, _, _ = song(api, 3501)
    job = job_of(audio)
    api.push_callback(eve, audio.result, f"menu:key:{job}")
    menu: Call = api.wait_for("editMessageReplyMarkup", chat_id=3501)
    options = [b for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    assert options[-1]["callback_data"] == f"back:{job}"
    assert all(len(b["callback_data"].encode()) <= 64 for b in options)
    api.push_callback(eve, audio.result, next(b["callback_data"] for b in options
                                              if b["text"] == "Bb"))
    in_b_flat, _, _ = song(api, 3501, count=2)
    assert "Bb" in in_b_flat["caption"]

    api.push_message(eve, chat, "/settings")
    panel = api.wait_for("sendMessage", chat_id=3501, where=lambda c: "settings" in c["text"])
    api.push_callback(eve, panel.result, "cfg:l:ru")
    api.wait_for("editMessageText", chat_id=3501, where=lambda c: "Язык: Русский" in c["text"])
    api.push_callback(eve, panel.result, "cfg:i:2")  # the flute
    api.wait_for("editMessageText", chat_id=3501, where=lambda c: "флейта" in c["text"])
    api.push_message(eve, chat, "/help")
    assert "Напишите" in api.wait_for("sendMessage", chat_id=3501,
                                      where=lambda c: "/compose" in c["text"])["text"]
    api.push_message(eve, group_chat(-3501), f"/compose@{BOT} a march")
    march, _, _ = song(api, -3501)
    # Her default instrument; one word says no language, so hers (two English words would).
    assert "флейта" in march["caption"]


def test_a_greeting_or_thanks_gets_a_word_back_not_a_song(bot_process):
    api = bot_process.api
    ida, ira = user(3601, "Ida", "en"), user(3602, "Ира", "ru")
    for text in ("Hi!", "thanks so much!", "what can you do?"):
        api.push_message(ida, private_chat(ida), text)
    greeting, thanks, help_text = (api.wait_for("sendMessage", chat_id=3601, count=k)["text"]
                                   for k in (1, 2, 3))
    assert "I compose music on request" in greeting
    assert "You're welcome" in thanks and "/compose" in help_text
    api.push_message(ira, private_chat(ira), "спасибо большое")
    assert "Пожалуйста" in api.wait_for("sendMessage", chat_id=3602)["text"]
    mention = f"@{BOT}"
    said = api.push_message(ida, group_chat(-5401), f"{mention} thanks",
                            entities=[{"type": "mention", "offset": 0, "length": len(mention)}])
    answer = api.wait_for("sendMessage", chat_id=-5401)
    assert "You're welcome" in answer["text"]
    assert answer["reply_parameters"]["message_id"] == said["message_id"]
    # A greeting with a wish in it is a request.
    api.push_message(ida, private_chat(ida), "hi, a waltz please")
    audio, _, _ = song(api, 3601)
    assert "Waltz" in audio["caption"]
    assert len([c for c in api.calls if c.method == "sendAudio"
                and int(c.get("chat_id")) in (3601, 3602, -5401)]) == 1
