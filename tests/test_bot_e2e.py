"""End to end: the real `isadei bot` process against a fake Bot API on 127.0.0.1.

One bot process serves the scenarios of this module (they use different users and chats);
the last ones restart and kill it. By default the composer is a fast stand-in that writes
real small files; ISADEI_TEST_COMPOSER=real runs the real composer.pipeline.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mido
import pytest

from tests.conftest import BOT_TOKEN, REPO, BotProcess
from tests.fake_bot_api import (
    FAKE_AUDIO_DELAY_ENV,
    Call,
    FakeBotApi,
    group_chat,
    private_chat,
    user,
)

BOT = "isadei_test_bot"
SONG_TIMEOUT = 120  # the real composer on a busy CI machine


def fake_only(bot_process) -> None:
    if bot_process.real:
        pytest.skip("steers the stand-in composer")


def is_mp3(data: bytes) -> bool:
    with tempfile.NamedTemporaryFile(suffix=".mp3") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=format_name",
                "-of",
                "default=nw=1:nk=1",
                f.name,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    return out.returncode == 0 and out.stdout.strip() == "mp3"


def buttons(call: Call) -> list[dict]:
    return [b for row in call["reply_markup"]["inline_keyboard"] for b in row]


def job_of(audio: Call) -> str:
    return buttons(audio)[0]["callback_data"].split(":")[1]


def seed_of(audio: Call) -> int:
    line = next(line for line in audio["caption"].splitlines() if line.startswith("Seed"))
    return int(line.split()[1])


def song(api: FakeBotApi, chat_id: int, count: int = 1) -> tuple[Call, Call, Call]:
    """Wait for the count-th song in a chat to be sent whole: audio, MIDI, sheet music (the
    whole score's album comes last); return the audio, MIDI and sheet music."""
    audio = api.wait_for("sendAudio", chat_id=chat_id, count=count, timeout=SONG_TIMEOUT)
    midi = api.wait_for("sendDocument", chat_id=chat_id, count=count, timeout=30)
    sheet = api.wait_for("sendPhoto", chat_id=chat_id, count=count, timeout=30)
    score(api, chat_id, count)
    return audio, midi, sheet


def score(api: FakeBotApi, chat_id: int, count: int = 1) -> Call:
    """Wait for the count-th whole score in a chat: the album of the PDF and the MusicXML."""
    return api.wait_for("sendMediaGroup", chat_id=chat_id, count=count, timeout=30)


def final_caption(api: FakeBotApi, audio: Call) -> str:
    """The audio's caption as the user sees it in the end (an early audio's is completed)."""
    edits = api.find("editMessageCaption", chat_id=audio["chat_id"],
                     message_id=audio.result["message_id"])
    return edits[-1]["caption"] if edits else audio["caption"]


def album_files(album: Call) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each uploaded document of an album, in order."""
    uploads = [album.files[str(item["media"]).removeprefix("attach://")]
               for item in album["media"]]
    return [(upload.filename, upload.data) for upload in uploads]


def test_private_request_in_english(bot_process):
    api = bot_process.api
    ann = user(1001, "Ann", "en")
    asked = api.push_message(ann, private_chat(ann), "a sad waltz in D minor, 30 seconds")
    status = api.wait_for("sendMessage", chat_id=1001)
    assert "composing" in status["text"] and "waltz" in status["text"]
    assert status["reply_parameters"]["message_id"] == asked["message_id"]

    audio, midi, sheet = song(api, 1001)
    assert audio["performer"] == "Isadei" and audio["title"]
    assert audio["duration"] >= 1
    caption = audio["caption"]
    assert "Waltz" in caption and "bpm" in caption and "Form:" in caption
    assert f"job {job_of(audio)}" in caption and len(caption) <= 1024
    labels = [b["text"] for b in buttons(audio)]
    assert labels == ["🔁 Another one", "🎲 Variation", "⏱ Longer", "🎹 Instrument", "🎭 Mood",
                      "🎼 Key", "⏱ Length", "📤 Share"]
    assert all(len(b.get("callback_data", "").encode()) <= 64 for b in buttons(audio))
    share = buttons(audio)[-1]["switch_inline_query_chosen_chat"]
    assert share["query"] == f"share {job_of(audio)}" and share["allow_group_chats"]

    assert is_mp3(audio.files["audio"].data)
    parsed = mido.MidiFile(file=io.BytesIO(midi.files["document"].data))
    assert any(msg.type == "note_on" for track in parsed.tracks for msg in track)
    assert midi.files["document"].filename.endswith(".mid")
    assert sheet.files["photo"].data.startswith(b"\x89PNG")
    assert audio.files["thumbnail"].data.startswith(b"\xff\xd8")  # the cover: a JPEG
    album = score(api, 1001)
    (pdf, pdf_data), (xml, xml_data) = album_files(album)
    assert pdf.endswith(".pdf") and pdf_data.startswith(b"%PDF")
    assert xml.endswith(".musicxml") and b"<score-partwise" in xml_data
    assert [item["caption"] for item in album["media"]] == [
        "📄 The whole score, 1 page, to print",
        "🎼 MusicXML: opens in MuseScore and other notation programs"]
    assert album["reply_parameters"]["message_id"] == audio.result["message_id"]
    assert album["disable_notification"] is True
    # the status message goes once the song is there; the chat action showed while working
    api.wait_for("deleteMessage", chat_id=1001, message_id=status.result["message_id"])
    assert api.find("sendChatAction", chat_id=1001)
    assert [c["text"] for c in api.find("editMessageText", chat_id=1001)][-1].startswith("📤")


def test_private_request_in_russian(bot_process):
    api = bot_process.api
    ivan = user(1002, "Иван", "ru")
    api.push_message(ivan, private_chat(ivan), "сыграй грустный вальс ре минор")
    status = api.wait_for("sendMessage", chat_id=1002)
    assert "сочиняю" in status["text"]
    audio, _, _ = song(api, 1002)
    assert "задание" in audio["caption"]
    assert [item["caption"] for item in score(api, 1002)["media"]] == [
        "📄 Ноты целиком, 1 страница, для печати",
        "🎼 MusicXML: откроется в MuseScore и других нотных редакторах"]
    assert buttons(audio)[0]["text"] == "🔁 Ещё одну"


def test_start_help_styles_and_commands(bot_process):
    api = bot_process.api
    ann, ivan = user(1003, "Ann", "en"), user(1004, "Иван", "ru")
    api.push_message(ann, private_chat(ann), "/start")
    api.push_message(ivan, private_chat(ivan), "/start")
    api.push_message(ann, private_chat(ann), "/help")
    api.push_message(ann, private_chat(ann), "/styles")
    api.push_message(ann, private_chat(ann), "/compose")
    api.wait_for("sendMessage", chat_id=1003, count=4)  # (handled concurrently: any order)
    replies = {c["text"].split()[0]: c for c in api.find("sendMessage", chat_id=1003)}
    assert "Isadei" in replies["Hi,"]["text"] and "Try" in replies["Hi,"]["text"]
    assert "/compose" in replies["Send"]["text"]
    data = {b["callback_data"] for b in buttons(replies["Pick"])}
    assert {"style:waltz", "style:jig", "style:chinese-folk"} <= data
    assert buttons(replies["What"])  # /compose without words offers the styles
    assert "Привет" in api.wait_for("sendMessage", chat_id=1004)["text"]

    commands = api.find("setMyCommands")
    assert any(c.get("language_code") == "ru" for c in commands)
    assert "compose" in {c["command"] for c in commands[0]["commands"]}


def test_style_button_tap(bot_process):
    api = bot_process.api
    bo = user(1005, "Bo", "en")
    api.push_message(bo, private_chat(bo), "/styles")
    keyboard = api.wait_for("sendMessage", chat_id=1005)
    query_id = api.push_callback(bo, keyboard.result, "style:jig")
    api.wait_for("answerCallbackQuery", callback_query_id=query_id)
    audio, _, _ = song(api, 1005)
    assert "Jig" in audio["caption"]


def test_another_one_variation_and_file_id_reuse(bot_process):
    api = bot_process.api
    cy = user(1006, "Cy", "en")
    api.push_message(cy, private_chat(cy), "a folk song in G major")
    first, _, _ = song(api, 1006)
    job = job_of(first)

    api.push_callback(cy, first.result, f"again:{job}")
    again, _, _ = song(api, 1006, count=2)
    assert seed_of(again) != seed_of(first) and job_of(again) != job

    api.push_callback(cy, first.result, f"var:{job}")
    variation, _, _ = song(api, 1006, count=3)
    assert seed_of(variation) == seed_of(first)
    assert variation.files  # a new song: uploaded

    # The same variation again is the same song: Telegram's file_ids, no upload.
    api.push_callback(cy, first.result, f"var:{job}")
    repeat, midi, sheet = song(api, 1006, count=4)
    assert not repeat.files and not midi.files and not sheet.files
    assert repeat["audio"] == variation.result["audio"]["file_id"]
    albums = [score(api, 1006, count=n) for n in (3, 4)]
    assert not albums[1].files and [item["media"] for item in albums[1]["media"]] == [
        message["document"]["file_id"] for message in albums[0].result]

    api.push_callback(cy, first.result, f"inst:{job}")
    other, _, _ = song(api, 1006, count=5)
    instrument = [audio["caption"].splitlines()[1].split(" · ")[4] for audio in (first, other)]
    assert instrument[0] != instrument[1]  # e.g. violin, then flute
    assert seed_of(other) == seed_of(first)


def test_a_forum_topic_gets_its_answers_in_the_topic(bot_process):
    api = bot_process.api
    lee = user(1099, "Lee", "en")
    forum = {**group_chat(-5501, "Folk forum"), "is_forum": True}
    mention = f"@{BOT}"
    asked = api.push_message(lee, forum, f"{mention} a short jig", message_thread_id=77,
                             is_topic_message=True,
                             entities=[{"type": "mention", "offset": 0, "length": len(mention)}])
    audio, midi, sheet = song(api, -5501)
    sent = [api.wait_for("sendMessage", chat_id=-5501), audio, midi, sheet, score(api, -5501)]
    assert [int(call.get("message_thread_id") or 0) for call in sent] == [77] * 5
    assert audio["reply_parameters"]["message_id"] == asked["message_id"]


def test_group_chat(bot_process):
    api = bot_process.api
    dee = user(1007, "Dee", "en")
    club, club2, club3 = group_chat(-5001), group_chat(-5002, "Dance"), group_chat(-5003)
    chatter = api.push_message(dee, club, "anyone seen my fiddle?")
    api.push_message(dee, club, "/compose@other_bot a reel")
    asked = api.push_message(dee, club, f"/compose@{BOT} a fast jig")
    audio, _, _ = song(api, -5001)
    assert audio["reply_parameters"]["message_id"] == asked["message_id"]
    assert "Jig" in audio["caption"]

    mention = f"@{BOT}"
    asked2 = api.push_message(
        dee,
        club2,
        f"{mention} play us a reel",
        entities=[{"type": "mention", "offset": 0, "length": len(mention)}],
    )
    status2 = api.wait_for("sendMessage", chat_id=-5002)
    assert status2["reply_parameters"]["message_id"] == asked2["message_id"]

    api.push_message(dee, club3, f"/styles@{BOT}")
    bot_message = api.wait_for("sendMessage", chat_id=-5003).result
    asked3 = api.push_message(dee, club3, "a march please", reply_to=bot_message["message_id"])
    status3 = api.wait_for("sendMessage", chat_id=-5003, count=2)
    assert status3["reply_parameters"]["message_id"] == asked3["message_id"]

    song(api, -5002)
    song(api, -5003)
    to_chatter = [
        c
        for c in api.calls
        if (c.get("reply_parameters") or {}).get("message_id") == chatter["message_id"]
        and c.get("chat_id") == -5001
    ]
    assert not to_chatter
    assert len(api.find("sendAudio", chat_id=-5001)) == 1  # /compose@other_bot was not ours


def test_inline_query_offers_songs_by_file_id(bot_process):
    api = bot_process.api
    eve = user(1008, "Eve", "en")
    api.push_message(eve, private_chat(eve), "a lullaby")
    audio, _, _ = song(api, 1008)
    query_id = api.push_inline_query(eve, "lullaby")
    answer = api.wait_for("answerInlineQuery", inline_query_id=query_id)
    results = answer["results"]
    songs = [r for r in results if r["type"] == "audio"]
    assert songs and songs[0]["audio_file_id"] == audio.result["audio"]["file_id"]
    assert any(r["type"] == "article" and r["id"] == "style:waltz" for r in results)
    assert answer["is_personal"] in (True, "True", "true")

    # A style picked from the inline menu arrives as a message "via" the bot: a request.
    api.push_message(eve, group_chat(-5004), "🎼 waltz", via_bot=api.me)
    status = api.wait_for("sendMessage", chat_id=-5004)
    assert "waltz" in status["text"]


def test_hostile_message(bot_process):
    api = bot_process.api
    mal = user(1009, "<b>Mal</b>", "en")
    chunk = (
        "<b>bold</b> *md* _it_ `code` [x](http://evil) @everyone {braces} %s %(x)s "
        "\u202eRTL\u202c \x00 🎻 '; DROP TABLE jobs; -- "
    )
    text = (chunk * 100)[:4096]
    api.push_message(mal, private_chat(mal), text)
    status = api.wait_for("sendMessage", chat_id=1009)
    audio, _, _ = song(api, 1009)
    for sent in (status, audio):  # never echoed, never read as markup
        shown = sent.get("text") or sent.get("caption")
        assert shown and "DROP TABLE" not in shown and "<b>" not in shown
        assert "parse_mode" not in sent.params
    assert bot_process.alive()


def test_flood_of_requests_from_one_user(bot_process):
    api = bot_process.api
    fay = user(1010, "Fay", "en")
    for i in range(30):
        api.push_message(fay, private_chat(fay), f"a reel number {i}")
    song(api, 1010, count=2)
    api.wait_for("sendMessage", chat_id=1010, count=3, timeout=60)  # 2 statuses, 1 refusal
    time.sleep(1.0)
    texts = [c["text"] for c in api.find("sendMessage", chat_id=1010)]
    assert sum("on the way" in text for text in texts) == 1  # one refusal a minute, not 28
    assert sum(text.startswith("🎼") for text in texts) == 2 and len(texts) == 3
    assert len(api.find("sendAudio", chat_id=1010)) == 2
    api.push_message(fay, private_chat(fay), "/help")
    api.wait_for("sendMessage", chat_id=1010, count=4)
    assert bot_process.alive()


def test_one_refusal_a_minute_in_a_group(bot_process):
    """One member mentioning the bot 15 times, then another 3 times: two songs each, and the
    group hears one refusal in all."""
    api = bot_process.api
    gil, hal, jam = user(1017, "Gil"), user(1018, "Hal"), group_chat(-5005, "Jam")
    mention = f"@{BOT}"
    entities = [{"type": "mention", "offset": 0, "length": len(mention)}]
    for i in range(15):
        api.push_message(gil, jam, f"{mention} a reel {i}", entities=entities)
    api.wait_for("sendMessage", chat_id=-5005, count=3, timeout=60)
    for i in range(3):
        api.push_message(hal, jam, f"{mention} a jig {i}", entities=entities)
    song(api, -5005, count=4)
    time.sleep(1.0)
    texts = [c["text"] for c in api.find("sendMessage", chat_id=-5005)]
    assert sum("on the way" in text for text in texts) == 1
    assert sum(text.startswith("🎼") for text in texts) == 4


def test_buttons_act_only_where_the_song_belongs(bot_process):
    """A forged tap (any callback data, from another chat) or another user's tap under a
    private song composes nothing and shows nothing of it."""
    api = bot_process.api
    ola, tom = user(1019, "Ola"), user(1020, "Tom")
    api.push_message(ola, private_chat(ola), "a secret lullaby for my daughter")
    audio, _, _ = song(api, 1019)
    api.push_message(tom, private_chat(tom), "/styles")
    mine = api.wait_for("sendMessage", chat_id=1020)
    forged = api.push_callback(tom, mine.result, f"var:{job_of(audio)}")
    foreign = api.push_callback(tom, audio.result, f"again:{job_of(audio)}")
    for query_id in (forged, foreign):
        answer = api.wait_for("answerCallbackQuery", callback_query_id=query_id)
        assert answer["show_alert"] in (True, "true", "True")
    time.sleep(1.5)
    assert len(api.find("sendMessage", chat_id=1020)) == 1  # the styles: no status, no song
    assert len(api.find("sendMessage", chat_id=1019)) == 1 and not api.find(
        "sendAudio", chat_id=1020
    )
    assert len(api.find("sendAudio", chat_id=1019)) == 1


def test_slow_telegram_gets_the_song_once(bot_process):
    """Telegram takes the audio at once but answers after 7 s (past PTB's 5 s default read
    timeout): the bot waits for the answer instead of uploading it again."""
    api = bot_process.api
    kay = user(1021, "Kay")
    api.delay_next("sendAudio", 7.0)
    api.push_message(kay, private_chat(kay), "a march")
    song(api, 1021)
    time.sleep(1.5)
    assert len(api.find("sendAudio", chat_id=1021)) == 1


def test_a_second_bot_on_the_same_data_folder_is_refused(bot_process):
    second = subprocess.run(
        [sys.executable, "-m", "tests.fake_bot_api"],
        cwd=REPO,
        env=bot_process.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 2, second.stderr[-2000:]
    assert "one bot per data folder" in second.stderr and "Traceback" not in second.stderr
    assert bot_process.alive()


def test_failed_job_is_retried_once_then_apologised(bot_process):
    fake_only(bot_process)
    api = bot_process.api
    gus = user(1011, "Gus", "en")
    api.push_message(gus, private_chat(gus), "a folk song, fail once")
    song(api, 1011)
    api.push_message(gus, private_chat(gus), "a folk song, fail always")
    apology = api.wait_for(
        "editMessageText", chat_id=1011, timeout=60, where=lambda c: "Sorry" in c["text"]
    )
    assert "(job j" in apology["text"]
    time.sleep(0.5)
    assert len(api.find("sendAudio", chat_id=1011)) == 1


def test_stats_for_admins_only(bot_process):
    api = bot_process.api
    admin, other = user(4242, "Admin", "en"), user(1012, "Hal", "en")
    api.push_message(admin, private_chat(admin), "/stats")
    api.push_message(other, private_chat(other), "/stats")
    stats = api.wait_for("sendMessage", chat_id=4242)["text"]
    assert "Today:" in stats and "p50" in stats and "p95" in stats
    assert "admins" in api.wait_for("sendMessage", chat_id=1012)["text"]


def test_cancel_responsiveness_and_restart_mid_compose(bot_process):
    """A bot killed while composing resumes after a restart: exactly one song."""
    fake_only(bot_process)
    api = bot_process.api
    bot_process.stop()
    bot_process.start(ISADEI_FAKE_COMPOSE_DELAY="4")
    ida, jo, kim = user(1013, "Ida", "en"), user(1014, "Jo", "en"), user(1015, "Kim", "en")
    asked_ida = api.push_message(ida, private_chat(ida), "a jig")
    api.wait_for("editMessageText", chat_id=1013, where=lambda c: "composing" in c["text"])
    api.push_message(jo, private_chat(jo), "a reel")
    queued = api.wait_for("sendMessage", chat_id=1014)
    assert "2nd in line" in queued["text"]
    api.push_message(jo, private_chat(jo), "/cancel")
    assert "Cancelled 1" in api.wait_for("sendMessage", chat_id=1014, count=2)["text"]
    api.wait_for("editMessageText", chat_id=1014, where=lambda c: "cancelled" in c["text"])

    asked = time.monotonic()  # the event loop is free while a song is composed
    api.push_message(kim, private_chat(kim), "/help")
    api.wait_for("sendMessage", chat_id=1015, timeout=5)
    assert time.monotonic() - asked < 3.0
    assert not api.find("sendAudio", chat_id=1013)

    bot_process.kill()
    bot_process.start()
    song(api, 1013)
    api.push({"message": asked_ida})  # Telegram may deliver an update again after a crash
    time.sleep(1.5)
    for method in ("sendAudio", "sendDocument", "sendPhoto"):
        assert len(api.find(method, chat_id=1013)) == 1, method
    assert not api.find("sendAudio", chat_id=1014)


def restart_while_sending(bot_process, chat: dict, text: str, method: str) -> Call:
    """Ask for a song; Telegram refuses `method` with a long RetryAfter, and while the bot
    waits it is killed and started again; the call of `method` made after the restart."""
    api = bot_process.api
    api.fail_next(method, retry_after=30)  # the bot waits; we pull the plug meanwhile
    api.push_message(chat, private_chat(chat), text)
    api.wait_for(method, chat_id=chat["id"])
    bot_process.kill()
    bot_process.start()
    again = api.wait_for(method, chat_id=chat["id"], count=2, timeout=60)
    time.sleep(1.5)  # a duplicate would show now
    return again


def test_restart_mid_sending_sends_only_what_is_missing(bot_process):
    fake_only(bot_process)
    api = bot_process.api
    restart_while_sending(bot_process, user(1016, "Lou", "en"), "a hornpipe", "sendPhoto")
    assert len(api.find("sendAudio", chat_id=1016)) == 1
    assert len(api.find("sendDocument", chat_id=1016)) == 1
    assert len(api.find("sendPhoto", chat_id=1016)) == 2  # the refused one and the real one
    assert len(api.find("sendMediaGroup", chat_id=1016)) == 1


def test_restart_after_the_audio_sends_only_the_score(bot_process):
    """The bot dies after the audio, MIDI and sheet went out, while the PDF and MusicXML
    album waits: after the restart only the album is sent."""
    fake_only(bot_process)
    api = bot_process.api
    album = restart_while_sending(bot_process, user(1017, "Mo", "en"), "a slip jig",
                                  "sendMediaGroup")
    for method in ("sendAudio", "sendDocument", "sendPhoto"):
        assert len(api.find(method, chat_id=1017)) == 1, method
    assert len(api.find("sendMediaGroup", chat_id=1017)) == 2  # the refused one, the real one
    assert [name.rsplit(".", 1)[1] for name, _ in album_files(album)] == ["pdf", "musicxml"]


PARTS = ("sendAudio", "sendDocument", "sendPhoto", "sendMediaGroup", "editMessageCaption")


def early_audio(bot_process, person: dict, text: str, delay: str) -> Call:
    """Restart the bot with a composer that has the MP3 `delay` seconds before the other
    files, ask for a song; its audio, sent while nothing else of the song is."""
    api = bot_process.api
    bot_process.stop()
    bot_process.start(**{FAKE_AUDIO_DELAY_ENV: delay})
    api.push_message(person, private_chat(person), text)
    audio = api.wait_for("sendAudio", chat_id=person["id"], timeout=60)
    for method in PARTS[1:]:
        assert not api.find(method, chat_id=person["id"]), method  # the audio comes first
    return audio


def test_the_audio_goes_out_as_soon_as_the_mp3_is_ready(bot_process):
    """The composer has the MP3 two seconds before the other files: the audio goes out at
    once (no cover yet, a caption from the request, the buttons), the MIDI, the sheet music
    and the score follow, the caption is completed with the song's facts; each part once."""
    fake_only(bot_process)
    api = bot_process.api
    audio = early_audio(bot_process, user(1031, "Nia", "en"), "a waltz in D minor, 30 seconds",
                        delay="2")
    assert "thumbnail" not in audio.files and is_mp3(audio.files["audio"].data)
    early = audio["caption"]
    assert early.startswith("A waltz in D minor\n") and f"job {job_of(audio)}" in early
    assert "Form:" not in early  # not known yet
    assert len(buttons(audio)) == 8 and audio["title"] and audio["duration"] >= 1

    _, midi, sheet = song(api, 1031)
    assert midi.at - audio.at > 1.5  # the audio did not wait for the rest
    assert midi["reply_parameters"]["message_id"] == audio.result["message_id"]
    edit = api.wait_for("editMessageCaption", chat_id=1031)
    assert edit["message_id"] == audio.result["message_id"] and edit.at < midi.at
    assert "Form:" in edit["caption"] and "bpm" in edit["caption"]
    assert buttons(edit) == buttons(audio)
    time.sleep(1.0)  # a duplicate would show now
    for method in PARTS:
        assert len(api.find(method, chat_id=1031)) == 1, method
    bot_process.stop()
    bot_process.start()  # the module's usual bot for the scenarios after this one


def test_a_bot_killed_after_the_early_audio_sends_only_the_rest(bot_process):
    """The bot dies after the early audio went out, while the sheet music is written: after
    the restart the song is composed again, and only the rest is sent (the caption too)."""
    fake_only(bot_process)
    api = bot_process.api
    audio = early_audio(bot_process, user(1032, "Oz", "en"), "a strathspey", delay="60")
    time.sleep(1.0)  # the bot records it as sent
    bot_process.kill()
    bot_process.start(**{FAKE_AUDIO_DELAY_ENV: "0.5"})
    _, midi, _ = song(api, 1032)
    assert midi["reply_parameters"]["message_id"] == audio.result["message_id"]
    assert "Form:" in final_caption(api, audio)
    time.sleep(1.5)  # a duplicate would show now
    for method in PARTS:
        assert len(api.find(method, chat_id=1032)) == 1, method
    bot_process.stop()
    bot_process.start()


def test_token_never_logged(bot_process):
    log = bot_process.log()
    assert "job" in log and "Isadei is up" in log
    assert BOT_TOKEN not in log and BOT_TOKEN.split(":")[1] not in log
    lines = [
        json.loads(line.split("isadei.jobs: ", 1)[1])
        for line in log.splitlines()
        if "isadei.jobs: {" in line
    ]
    done = [line for line in lines if line["state"] == "done" and not line.get("reused")]
    assert done and all("total" in line["timings"] and "queued" in line["timings"] for line in done)


def test_a_job_that_crashes_the_bot_twice_gets_an_apology(tmp_path):
    """A request that kills the embedded bot (a segfault, the OOM killer) is resumed once
    after a restart; when it kills the bot again, it gets an apology, not a third try."""
    api = FakeBotApi(BOT_TOKEN).start()
    bot = BotProcess(api, tmp_path / "data", tmp_path / "bot.log", ISADEI_TEST_COMPOSER="fake")
    try:
        bot.start()
        max_ = user(1030, "Max")
        api.push_message(max_, private_chat(max_), "a jig, crash the bot")
        for _ in range(2):
            assert bot.proc.wait(60) == -9  # killed by the request
            bot.start()
        apology = api.wait_for(
            "editMessageText", chat_id=1030, timeout=30, where=lambda c: "Sorry" in c["text"]
        )
        assert "(job j" in apology["text"] and bot.alive()
        api.push_message(max_, private_chat(max_), "a reel")  # the bot goes on
        song(api, 1030)
    finally:
        bot.stop()
        api.stop()


def test_real_composer_end_to_end(tmp_path):
    """The real `isadei bot` with the real composer: a song, a button, a restart."""
    weights = Path(__file__).parents[1] / "weights"
    assert any(weights.glob("*.safetensors")), "the trained weights are part of the repo"
    api = FakeBotApi(BOT_TOKEN).start()
    bot = BotProcess(api, tmp_path / "data", tmp_path / "bot.log", ISADEI_TEST_COMPOSER="real",
                     ISADEI_WARM_START="1")
    try:
        bot.start()
        ann, ivan = user(2001, "Ann", "en"), user(2002, "Иван", "ru")
        api.push_message(ann, private_chat(ann), "a sad waltz in D minor, 30 seconds")
        api.push_message(ivan, private_chat(ivan), "весёлая джига, 30 секунд")
        audio, midi, sheet = song(api, 2001)
        assert is_mp3(audio.files["audio"].data) and audio["duration"] >= 10
        parsed = mido.MidiFile(file=io.BytesIO(midi.files["document"].data))
        assert "Melody" in {track.name for track in parsed.tracks}
        form = next(line for line in final_caption(api, audio).splitlines()
                    if line.startswith("Form: "))
        assert "D minor" in audio["caption"] and "Part A" in form and "Part B" in form  # a dance
        assert sheet.files["photo"].data.startswith(b"\x89PNG")
        assert "Джига" in song(api, 2002)[0]["caption"]

        api.push_callback(ann, audio.result, f"var:{job_of(audio)}")
        api.wait_for("sendMessage", chat_id=2001, count=2)  # its status message
        api.wait_for(
            "editMessageText", chat_id=2001, count=2, where=lambda c: "composing" in c["text"]
        )
        bot.kill()  # mid-compose
        bot.start()
        variation, _, _ = song(api, 2001, count=2)
        assert seed_of(variation) == seed_of(audio)
        time.sleep(1.5)
        assert len(api.find("sendAudio", chat_id=2001)) == 2
        assert BOT_TOKEN not in bot.log()
    finally:
        bot.stop()
        api.stop()
