"""A user's own tune, end to end: the real `isadei bot` against the fake Bot API gets a voice
message, an audio file, ABC or note names in a message, a MIDI document, and every bad
input; it shows what it heard, then the song; bad input gets one friendly line and nothing breaks.

The composer is the fast stand-in (tests/fake_bot_api.py), except in the last test, which runs
the real one; the listening is always real (composer.listen).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time

import numpy as np
import pytest

from bench.listen_synth import SR, speechlike
from composer.written import written_tune
from tests.conftest import BOT_TOKEN, BotProcess
from tests.fake_bot_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.test_bot_e2e import BOT, job_of
from tests.test_listen import TUNE, _midi, _ogg, _sung, _wav

SONG_TIMEOUT = 120
JIG_ABC = """X:1
T:The Test Jig
M:6/8
L:1/8
K:D
A|dfa afd|ede fdB|AFA dfa|gfe d2:|"""
BROKEN_ABC = "X:1\nK:G\nabc|de[f|g)))z3/|]]"
MELODY = [(67, 0, 480), (71, 480, 480), (74, 960, 480), (72, 1440, 960), (71, 2400, 480),
          (69, 2880, 480), (67, 3360, 1440)]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, bytes]:
    """Sung, silent, noisy, spoken, short, long, damaged and huge inputs, made here."""
    tmp = tmp_path_factory.mktemp("tunes")
    rng = np.random.default_rng(0)
    sung, _ = _sung()
    out = {"sung.ogg": _ogg(sung, tmp / "sung.ogg").read_bytes()}
    wav = _wav(sung, tmp / "sung.wav")
    mp3 = tmp / "sung.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-b:a", "64k",
                    str(mp3)], check=True, timeout=60)
    out["sung.mp3"] = mp3.read_bytes()
    for name, audio in (
        ("silence", np.zeros(SR * 5, np.float32)),
        ("noise", (0.2 * rng.normal(size=SR * 5)).astype(np.float32)),
        ("speech", speechlike(5.0)),
        ("short", sung[: int(1.5 * SR)]),
        ("long", np.tile(sung, 6)[: 65 * SR]),
    ):
        out[f"{name}.ogg"] = _ogg(audio, tmp / f"{name}.ogg").read_bytes()
    out["random.ogg"] = rng.bytes(50_000)
    out["cut.ogg"] = out["sung.ogg"][: len(out["sung.ogg"]) // 2]
    out["tune.mid"] = _midi({"Melody": MELODY})
    out["empty.mid"] = _midi({"Melody": []})
    body = b"\x00\x90\x3c\x40" + b"\x00\x3c\x00\x00\x3c\x40" * 1_000_000
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + \
        (1).to_bytes(2, "big") + (480).to_bytes(2, "big")
    out["million.mid"] = header + b"MTrk" + len(body).to_bytes(4, "big") + body
    out["broken.mid"] = b"MThd\0\0\0\6\0\1"
    return out


def voice(api: FakeBotApi, data: bytes, seconds: int | None = None) -> dict:
    fields = api.add_file(data, "voice.ogg", "audio/ogg")
    return {**fields, "duration": seconds if seconds is not None else 8, "mime_type": "audio/ogg"}


def document(api: FakeBotApi, data: bytes, name: str, mime: str) -> dict:
    return {**api.add_file(data, name, mime), "file_name": name, "mime_type": mime}


def sheet_photo(call: Call) -> bool:
    """The song's sheet music (no caption), not the small sheet of what was heard."""
    return "caption" not in call.params


def heard_photo(api: FakeBotApi, chat_id: int, count: int = 1) -> Call:
    return api.wait_for("sendPhoto", chat_id=chat_id, count=count, timeout=60,
                        where=lambda c: "caption" in c.params)


def tune_song(api: FakeBotApi, chat_id: int, count: int = 1) -> tuple[Call, Call, Call]:
    audio = api.wait_for("sendAudio", chat_id=chat_id, count=count, timeout=SONG_TIMEOUT)
    midi = api.wait_for("sendDocument", chat_id=chat_id, count=count, timeout=30)
    sheet = api.wait_for("sendPhoto", chat_id=chat_id, count=count, timeout=30, where=sheet_photo)
    return audio, midi, sheet


def job_request(bot: BotProcess, job_id: str) -> dict:
    """The request the bot keeps in its job record (SQLite, read-only)."""
    db = sqlite3.connect(f"file:{bot.data_dir / 'jobs.sqlite3'}?mode=ro", uri=True)
    try:
        (request,) = db.execute("SELECT request FROM jobs WHERE id = ?", (job_id,)).fetchone()
    finally:
        db.close()
    return json.loads(request)


def test_voice_message_becomes_a_song_and_its_buttons_keep_the_tune(bot_process, media):
    api = bot_process.api
    ann = user(6001, "Ann", "en")
    sent = api.push_media(ann, private_chat(ann), voice=voice(api, media["sung.ogg"]))
    heard = heard_photo(api, 6001)
    assert heard["caption"].startswith("👂 I heard 18 notes in G major, 3/4, about ")
    assert heard["reply_parameters"]["message_id"] == sent["message_id"]
    assert heard.files["photo"].data.startswith(b"\x89PNG")
    status = api.wait_for("sendMessage", chat_id=6001)
    assert "composing" in status["text"] and "waltz" in status["text"]  # 3/4, no words: a waltz
    assert heard.at <= status.at  # what was heard comes first
    assert [c.method for c in api.find("download")]  # fetched from Telegram's file server

    audio, midi, sheet = tune_song(api, 6001)
    assert "Waltz" in audio["caption"] and sheet.files["photo"].data.startswith(b"\x89PNG")
    request = job_request(bot_process, job_of(audio))
    assert request["style"] == "waltz" and request["notes"] == []
    assert [n["pitch"] for n in request["tune"]["notes"]] == [p for p, _ in TUNE]
    assert request["tune"]["meter"] == "3/4" and request["tune"]["key"] == "G"

    api.push_callback(ann, audio.result, f"again:{job_of(audio)}")  # the buttons work on it
    again, _, _ = tune_song(api, 6001, count=2)
    assert job_request(bot_process, job_of(again))["tune"] == request["tune"]
    assert len(api.find("sendPhoto", chat_id=6001)) == 3  # heard once, 2 sheets


def test_abc_message_with_words_in_russian(bot_process):
    api = bot_process.api
    ivan = user(6002, "Иван", "ru")
    api.push_message(ivan, private_chat(ivan), "сделай из этого марш\n" + JIG_ABC)
    heard = heard_photo(api, 6002)
    assert heard["caption"].startswith("👂 Я услышал мелодию: 23 ноты, ре мажор, 6/8, около")
    status = api.wait_for("sendMessage", chat_id=6002)
    assert "марш" in status["text"]  # the words chose the style
    audio, _, _ = tune_song(api, 6002)
    request = job_request(bot_process, job_of(audio))
    assert request["style"] == "march" and request["tune"]["meter"] == "6/8"
    assert request["text"] == "сделай из этого марш"


def test_note_names_in_a_message_become_a_song(bot_process):
    api = bot_process.api
    olga = user(6010, "Ольга", "ru")
    api.push_message(olga, private_chat(olga),
                     "вальс из моей мелодии: ми ре до | ре ми ми | ми - - | ре ре ми | ре до -")
    heard = heard_photo(api, 6010)
    assert heard["caption"].startswith("👂 Я услышал мелодию: 12 нот, до мажор, 3/4, около")
    audio, _, _ = tune_song(api, 6010)
    request = job_request(bot_process, job_of(audio))
    assert request["style"] == "waltz" and request["tune"]["meter"] == "3/4"
    assert [n["pitch"] for n in request["tune"]["notes"]] == [64, 62, 60, 62, 64, 64, 64, 62,
                                                              62, 64, 62, 60]
    assert request["tune"]["notes"][6]["beats"] == 3.0  # "ми - -" is held three beats
    assert request["text"] == "вальс из моей мелодии"


def test_midi_document_and_abc_document(bot_process, media):
    api = bot_process.api
    bo = user(6003, "Bo", "en")
    api.push_media(bo, private_chat(bo),
                   document=document(api, media["tune.mid"], "my tune.mid", "audio/midi"))
    heard = heard_photo(api, 6003)
    assert heard["caption"].startswith("👂 I heard 7 notes in G major, 3/4, about 96 bpm.")
    audio, _, _ = tune_song(api, 6003)
    assert job_request(bot_process, job_of(audio))["tune"]["tempo_bpm"] == 96

    api.push_media(bo, private_chat(bo), caption="as a reel, on the flute",
                   document=document(api, JIG_ABC.encode(), "jig.abc", "text/plain"))
    heard = heard_photo(api, 6003, count=2)
    assert "6/8" in heard["caption"]
    audio, _, _ = tune_song(api, 6003, count=2)
    request = job_request(bot_process, job_of(audio))
    assert request["style"] == "reel" and request["instrument"] == "flute"
    assert "Reel" in audio["caption"]

    written = "ми ми фа соль | соль фа ми ре | до до ре ми | ми ре ре".encode()
    api.push_media(bo, private_chat(bo), document=document(api, written, "мелодия.txt",
                                                           "text/plain"))
    heard = heard_photo(api, 6003, count=3)
    assert heard["caption"].startswith("👂 I heard 15 notes in C major, 4/4"), heard["caption"]
    tune_song(api, 6003, count=3)


def test_audio_file_and_voice_in_a_group_when_addressed(bot_process, media):
    api = bot_process.api
    cy, club = user(6004, "Cy", "en"), group_chat(-6100, "Singers")
    ignored = api.push_media(cy, club, voice=voice(api, media["sung.ogg"]))  # chatter
    mention = f"@{BOT}"
    asked = api.push_media(cy, club, caption=f"{mention} as a jig", voice=voice(
        api, media["sung.ogg"]), caption_entities=[{"type": "mention", "offset": 0,
                                                     "length": len(mention)}])
    heard = heard_photo(api, -6100)
    assert heard["reply_parameters"]["message_id"] == asked["message_id"]
    audio, _, _ = tune_song(api, -6100)
    assert "Jig" in audio["caption"]
    # an MP3 sent as an audio file, in reply to the bot's song
    audio_file = {**api.add_file(media["sung.mp3"], "sung.mp3", "audio/mpeg"), "duration": 8,
                  "file_name": "sung.mp3", "mime_type": "audio/mpeg"}
    api.push_media(cy, club, audio=audio_file, reply_to_message=audio.result)
    heard2 = heard_photo(api, -6100, count=2)
    assert "G major, 3/4" in heard2["caption"]
    tune_song(api, -6100, count=2)
    time.sleep(1.0)
    assert not [c for c in api.calls if (c.get("reply_parameters") or {}).get("message_id")
                == ignored["message_id"] and c.get("chat_id") == -6100]
    assert len(api.find("sendAudio", chat_id=-6100)) == 2


BAD = {  # what a user sends → words of the answer
    "silence": ("voice", "silence.ogg", "couldn't hear anything"),
    "noise": ("voice", "noise.ogg", "couldn't hear a tune"),
    "speech": ("voice", "speech.ogg", "couldn't hear a tune"),
    "short": ("voice", "short.ogg", "too short"),
    "long": ("voice", "long.ogg", "longer than I can listen"),  # Telegram says 65 s
    "long, said short": ("voice", "long.ogg", "longer than I can listen"),  # heard 65 s
    "corrupt": ("voice", "random.ogg", "damaged or cut short"),
    "truncated": ("voice", "cut.ogg", "damaged or cut short"),
    "a million notes": ("document", "million.mid", "far more notes"),
    "no notes": ("document", "empty.mid", "no notes"),
    "broken MIDI": ("document", "broken.mid", "damaged or cut short"),
    "broken ABC file": ("document", "broken.abc", "couldn't read that ABC"),
    "broken ABC text": ("text", BROKEN_ABC, "couldn't read that ABC"),
    "20 MB": ("voice", "", "too big"),
    "20 MB, size unknown": ("document", "big.ogg", "too big"),
}


def test_every_bad_input_gets_one_friendly_answer(bot_process, media):
    api = bot_process.api
    media = {**media, "broken.abc": BROKEN_ABC.encode(), "big.ogg": b"\0" * (21 * 1024 * 1024)}
    people = {}
    for i, (case, (kind, name, _)) in enumerate(BAD.items()):
        person = people[case] = user(6200 + i, "Dee", "en")
        chat = private_chat(person)
        if kind == "text":
            api.push_message(person, chat, name)
        elif case == "20 MB":  # Telegram says how big: refused without a download
            api.push_media(person, chat, voice={"file_id": "huge", "file_unique_id": "huge",
                                                "duration": 30, "file_size": 21 * 1024 * 1024})
        elif kind == "voice":
            seconds = 65 if case == "long" else 5
            api.push_media(person, chat, voice=voice(api, media[name], seconds))
        else:
            fields = document(api, media[name], name, "audio/midi" if name.endswith(".mid")
                              else "audio/ogg" if name.endswith(".ogg") else "text/plain")
            if case == "20 MB, size unknown":
                fields.pop("file_size")
            api.push_media(person, chat, document=fields)
    ru = user(6299, "Оля", "ru")
    api.push_media(ru, private_chat(ru), voice=voice(api, media["noise.ogg"]))
    assert "не слышно" in api.wait_for("sendMessage", chat_id=6299, timeout=90)["text"]
    for case, (_, _, words) in BAD.items():
        reply = api.wait_for("sendMessage", chat_id=people[case]["id"], timeout=90)
        assert words in reply["text"], (case, reply["text"])
    time.sleep(1.0)
    for person in (*people.values(), ru):
        assert len(api.find("sendMessage", chat_id=person["id"])) == 1  # one line, no job
        assert not api.find("sendPhoto", chat_id=person["id"])
    assert not api.find("getFile", file_id="huge")
    assert not api.find("sendAudio", where=lambda c: int(c["chat_id"]) in range(6200, 6300))
    assert bot_process.alive()
    dee = people["corrupt"]  # nothing broke: the same user's next wish is a song
    api.push_message(dee, private_chat(dee), "a jig")
    tune_song(api, dee["id"])


def test_a_flood_of_clips_from_one_user_is_heard_in_turn(bot_process, media):
    """Clips from one user are heard one after another, each after the limits are checked
    (two songs on the way at most): a clip is either refused before it is heard, or heard,
    shown and made a song; the refusals are said once a minute."""
    api = bot_process.api
    fay = user(6300, "Fay", "en")
    for _ in range(4):
        api.push_media(fay, private_chat(fay), voice=voice(api, media["sung.ogg"]))
    tune_song(api, 6300, count=2)
    time.sleep(4.0)
    songs = len(api.find("sendAudio", chat_id=6300))
    heard = [c for c in api.find("sendPhoto", chat_id=6300) if "caption" in c.params]
    assert len(heard) == songs >= 2
    texts = [c["text"] for c in api.find("sendMessage", chat_id=6300)]
    assert sum("on the way" in text for text in texts) == (songs < 4), texts
    assert bot_process.alive()


def test_tunes_in_words_are_found_and_plain_words_are_not():
    assert written_tune(JIG_ABC) == (JIG_ABC, "")
    assert written_tune("as a waltz:\n" + JIG_ABC) == (JIG_ABC, "as a waltz:")
    assert written_tune("K:G\nGABc dedB|") == ("K:G\nGABc dedB|", "")
    assert written_tune("as a jig: E D C D E E E-") == ("E D C D E E E-", "as a jig")
    for words in ("a sad waltz in D minor", "K: something", "Key: G major, please",
                  "сыграй ре минор", "do you do a jig in A?", "a waltz in C, D or E"):
        assert written_tune(words) is None


def test_real_composer_builds_a_song_around_a_voice_message(tmp_path, media):
    """The real composer (~30 s here): the sung tune's intervals are in the song's Melody."""
    import io

    import mido

    api = FakeBotApi(BOT_TOKEN).start()
    bot = BotProcess(api, tmp_path / "data", tmp_path / "bot.log", ISADEI_TEST_COMPOSER="real")
    try:
        bot.start()
        eve = user(6400, "Eve", "en")
        api.push_media(eve, private_chat(eve), caption="30 seconds",
                       voice=voice(api, media["sung.ogg"]))
        assert "3/4" in heard_photo(api, 6400)["caption"]
        audio, midi, _ = tune_song(api, 6400)
        parsed = mido.MidiFile(file=io.BytesIO(midi.files["document"].data))
        melody = next(t for t in parsed.tracks if t.name == "Melody")
        pitches = [m.note for m in melody if m.type == "note_on" and m.velocity]
        want = [b[0] - a[0] for a, b in zip(TUNE, TUNE[1:], strict=False)]
        got = [b - a for a, b in zip(pitches, pitches[1:], strict=False)]
        assert any(got[i:i + len(want)] == want for i in range(len(got)))
        assert "Waltz" in audio["caption"]
    finally:
        bot.stop()
        api.stop()
