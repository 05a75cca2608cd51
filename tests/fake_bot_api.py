"""A fake Telegram Bot API server on 127.0.0.1 for tests: records every call, serves
long-polled getUpdates from updates the test pushes, and answers the methods the bot uses
with realistic objects (multipart uploads are kept, so tests can check the files).

    api = FakeBotApi(token).start()      # a thread with its own event loop
    env["TELEGRAM_API_URL"] = api.base_url   # "http://127.0.0.1:PORT/bot"
    api.push_message(user, chat, "a sad waltz")
    call = api.wait_for("sendAudio", chat_id=chat["id"])
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001


class ApiError(Exception):
    """A 400 answer, as Telegram gives for a bad request."""


class Forbidden(ApiError):
    """A 403 answer: the user blocked the bot or never started it."""


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Upload] = field(default_factory=dict)
    at: float = field(default_factory=time.time)
    result: Any = None

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


def user(user_id: int, first_name: str = "Ann", language_code: str = "en") -> dict:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": language_code,
    }


def private_chat(u: dict) -> dict:
    return {"id": u["id"], "type": "private", "first_name": u["first_name"]}


def group_chat(chat_id: int, title: str = "Folk club") -> dict:
    return {"id": chat_id, "type": "supergroup", "title": title}


class FakeBotApi:
    def __init__(self, token: str, username: str = "isadei_test_bot"):
        self.token = token
        self.me = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Isadei",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self.chats: dict[int, dict] = {}
        self.messages: dict[tuple[int, int], dict] = {}  # (chat id, message id) → message
        self.files: dict[str, Upload] = {}  # file_id → what was uploaded
        self.failures: dict[str, list[dict]] = {}  # method → error responses to give first
        self.strangers: set[int] = set()  # users who never pressed Start: no private messages
        self.inline_messages: dict[str, dict] = {}  # inline_message_id → what it shows
        self.delays: dict[str, list[float]] = {}  # method → seconds to sit on an answer
        self.port = 0
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- life --

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeBotApi:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Bot API did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        self._loop.run_forever()

    # -- what tests do --

    def push(self, update: dict) -> dict:
        """Queue an update for getUpdates (update_id is filled in)."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self.updates.append(update)
            self._lock.notify_all()
        return update

    def push_message(
        self,
        from_user: dict,
        chat: dict,
        text: str,
        reply_to: int | None = None,
        entities: list[dict] | None = None,
        **extra: Any,
    ) -> dict:
        """A user writes `text` in `chat` (optionally replying to message `reply_to`)."""
        with self._lock:
            self.chats[chat["id"]] = chat
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": chat,
                "from": from_user,
                "text": text,
            }
            if text.startswith("/"):
                command = text.split()[0]
                entities = [
                    {"type": "bot_command", "offset": 0, "length": len(command)},
                    *(entities or []),
                ]
            if entities:
                message["entities"] = entities
            if reply_to is not None:
                message["reply_to_message"] = self.messages[(chat["id"], reply_to)]
            message.update(extra)
            self.messages[(chat["id"], message["message_id"])] = message
        self.push({"message": message})
        return message

    def push_media(self, from_user: dict, chat: dict, **content: Any) -> dict:
        """A message without text: photo=[...], sticker={...}, voice={...}, document={...}."""
        with self._lock:
            self.chats[chat["id"]] = chat
            message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat,
                       "from": from_user, **content}
            self.messages[(chat["id"], message["message_id"])] = message
        self.push({"message": message})
        return message

    def add_file(self, data: bytes, filename: str = "file",
                 content_type: str = "application/octet-stream") -> dict:
        """A file a user sends (a voice note, a document): its bytes are served by getFile and
        the download URL; returns the fields Telegram puts in a voice/audio/document."""
        with self._lock:
            file_id = f"user-{hashlib.sha1(data).hexdigest()[:16]}-{next(self._ids)}"
            self.files[file_id] = Upload(filename, content_type, data)
        return {"file_id": file_id, "file_unique_id": file_id[-12:], "file_size": len(data)}

    def push_edit(self, message: dict, text: str) -> dict:
        """The user edits one of their messages."""
        edited = {**message, "text": text, "edit_date": int(time.time())}
        self.push({"edited_message": edited})
        return edited

    def push_chosen_inline_result(self, from_user: dict, result_id: str, query: str) -> str:
        """The user picked an inline result (one with a keyboard: it has an inline message)."""
        inline_message_id = f"im{next(self._ids)}"
        with self._lock:
            self.inline_messages[inline_message_id] = {"result_id": result_id}
        self.push({"chosen_inline_result": {"result_id": result_id, "from": from_user,
                                            "query": query,
                                            "inline_message_id": inline_message_id}})
        return inline_message_id

    def push_callback(self, from_user: dict, message: dict, data: str) -> str:
        """A user taps an inline button with `data` under the bot's `message`."""
        query_id = f"cb{next(self._ids)}"
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": from_user,
                    "message": message,
                    "chat_instance": "42",
                    "data": data,
                }
            }
        )
        return query_id

    def push_inline_query(self, from_user: dict, query: str) -> str:
        query_id = f"iq{next(self._ids)}"
        self.push(
            {"inline_query": {"id": query_id, "from": from_user, "query": query, "offset": ""}}
        )
        return query_id

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str = "Too Many Requests",
        retry_after: int | None = 1,
    ) -> None:
        """Make the next call of `method` fail as Telegram would (e.g. a RetryAfter)."""
        response: dict[str, Any] = {
            "ok": False,
            "error_code": error_code,
            "description": description,
        }
        if retry_after is not None:
            response["parameters"] = {"retry_after": retry_after}
        with self._lock:
            self.failures.setdefault(method, []).append(response)

    def delay_next(self, method: str, seconds: float) -> None:
        """Accept the next call of `method` at once, but answer it only after `seconds` (a
        slow Telegram: the message is there, the sender does not know yet)."""
        with self._lock:
            self.delays.setdefault(method, []).append(seconds)

    def find(self, method: str, **match: Any) -> list[Call]:
        """Calls of `method` whose params equal every `match` (chat_id compared as int)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and _matches(c, match)]

    def wait_for(
        self,
        method: str,
        timeout: float = 30,
        count: int = 1,
        where: Callable[[Call], bool] | None = None,
        **match: Any,
    ) -> Call:
        """Wait until `count` calls of `method` match; return the last of them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c
                    for c in self.calls
                    if c.method == method and _matches(c, match) and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.params.get("chat_id")) for c in self.calls[-15:]]
                    raise AssertionError(
                        f"no {count}x {method} {match} within {timeout}s; last calls: {seen}"
                    )
                self._lock.wait(min(left, 0.5))

    def pending_updates(self) -> int:
        with self._lock:
            return len(self.updates)

    # -- the server --

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(method, params, files)
        with self._lock:
            failures = self.failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            with self._lock:
                call.result = failure
                self.calls.append(call)
                self._lock.notify_all()
            return web.json_response(failure, status=failure["error_code"])
        if method == "getUpdates":
            result: Any = await self._get_updates(params, request)
        else:
            with self._lock:
                try:
                    result = self._answer(method, params, files)
                except ApiError as error:
                    code = 403 if isinstance(error, Forbidden) else 400
                    failure = {"ok": False, "error_code": code, "description": str(error)}
                    call.result = failure
                    self.calls.append(call)
                    self._lock.notify_all()
                    return web.json_response(failure, status=code)
        with self._lock:
            call.result = result
            if method != "getUpdates" or result:
                self.calls.append(call)
            self._lock.notify_all()
            delays = self.delays.get(method)
            delay = delays.pop(0) if delays else 0.0
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the bytes of a file getFile named."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        with self._lock:
            upload = self.files.get(path.removeprefix("files/"))
            self.calls.append(Call("download", {"file_path": path}))
            self._lock.notify_all()
        if upload is None:
            return web.Response(status=404)
        return web.Response(body=upload.data, content_type="application/octet-stream")

    async def _get_updates(self, params: dict, request: web.Request) -> list[dict]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 10)
        while True:
            with self._lock:
                # Telegram forgets updates once a later offset confirms them.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                if self.updates or time.monotonic() >= deadline:
                    return list(self.updates[: int(params.get("limit") or 100)])
            if request.transport is None or request.transport.is_closing():
                return []  # the bot went away (killed): do not hold the server up
            await asyncio.sleep(0.02)

    def _answer(self, method: str, params: dict, files: dict[str, Upload]) -> Any:
        if method == "getMe":
            return self.me
        if method in ("sendMessage", "sendChatAction", "sendAudio") and int(
                params.get("chat_id") or 0) in self.strangers:
            raise Forbidden("Forbidden: bot can't initiate conversation with a user")
        if method in ("sendMessage", "sendAudio", "sendDocument", "sendPhoto"):
            message = self._new_message(params)
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            else:
                kind = {"sendAudio": "audio", "sendDocument": "document", "sendPhoto": "photo"}
                message.update(self._media(kind[method], params, files))
                if params.get("caption"):
                    message["caption"] = params["caption"]
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return message
        if method == "sendMediaGroup":  # an album: one message per item, uploads by attach://
            messages = []
            for item in params["media"]:
                if not 2 <= len(params["media"]) <= 10 or item.get("type") != "document":
                    raise ApiError("Bad Request: wrong album (2-10 documents here)")
                message = self._new_message(params)
                upload = files.get(str(item["media"]).removeprefix("attach://"))
                message.update(self._media("document", {"document": item["media"]},
                                           {"document": upload} if upload else {}))
                if item.get("caption"):
                    message["caption"] = item["caption"]
                messages.append(message)
            return messages
        if method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup",
                      "editMessageMedia"):
            if "inline_message_id" in params:
                if params["inline_message_id"] not in self.inline_messages:
                    raise ApiError("Bad Request: MESSAGE_ID_INVALID")
                media = params.get("media")
                if method == "editMessageMedia" and str(media.get("media", "")).startswith(
                        "attach://"):  # Telegram: no uploads into inline messages
                    raise ApiError("Bad Request: can't upload file into an inline message")
                self.inline_messages[params["inline_message_id"]].update(params)
                return True
            key = (int(params["chat_id"]), int(params["message_id"]))
            message = self.messages.get(key)
            if message is None:
                raise ApiError("Bad Request: message to edit not found")
            if "text" in params and params.get("text") == message.get("text"):
                raise ApiError("Bad Request: message is not modified")
            if "text" in params:
                message["text"] = params["text"]
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        if method == "deleteMessage":
            self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
            return True
        if method == "getMyCommands":
            return []
        if method == "getFile":
            upload = self.files.get(str(params.get("file_id")))
            if upload is None:
                raise ApiError("Bad Request: invalid file_id")
            if len(upload.data) > 20 * 1024 * 1024:  # bots download at most 20 MB
                raise ApiError("Bad Request: file is too big")
            file_id = str(params["file_id"])
            return {"file_id": file_id, "file_unique_id": file_id[-12:],
                    "file_size": len(upload.data), "file_path": f"files/{file_id}"}
        return True  # sendChatAction, setMyCommands, answerCallbackQuery, answerInlineQuery, ...

    def _new_message(self, params: dict) -> dict:
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "?"})
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.me,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _media(self, kind: str, params: dict, files: dict[str, Upload]) -> dict:
        upload = files.get(kind)
        if upload is not None:
            file_id = f"{kind}-{hashlib.sha1(upload.data).hexdigest()[:16]}-{next(self._ids)}"
            self.files[file_id] = upload
        else:  # re-sent by file_id
            file_id = str(params[kind])
            upload = self.files.get(file_id, Upload("?", "?", b""))
        base = {"file_id": file_id, "file_unique_id": file_id[-12:], "file_size": len(upload.data)}
        if kind == "photo":
            return {"photo": [{**base, "width": 800, "height": 1100}]}
        if kind == "audio":
            return {
                "audio": {
                    **base,
                    "duration": int(params.get("duration") or 0),
                    "performer": params.get("performer"),
                    "title": params.get("title"),
                    "mime_type": "audio/mpeg",
                    "file_name": upload.filename,
                }
            }
        return {
            "document": {
                **base,
                "file_name": params.get("filename") or upload.filename,
                "mime_type": upload.content_type,
            }
        }


def _matches(call: Call, match: dict[str, Any]) -> bool:
    for name, want in match.items():
        have = call.params.get(name)
        if name == "chat_id" and have is not None:
            have = int(have)
        if have != want:
            return False
    return True


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Form fields (JSON-decoded where they are JSON) and uploaded files."""
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    if request.content_type == "application/json":
        params = await request.json() if request.can_read_body else {}
        return params, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            files[name] = Upload(value.filename, value.content_type, value.file.read())
            continue
        params[name] = _decode(name, str(value))
    # PTB sends an upload as attach://<name> in the field and the bytes under that name.
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            files[name] = files.pop(value.removeprefix("attach://"), Upload("?", "?", b""))
            params.pop(name)
    return params, files


def _decode(name: str, value: str) -> Any:
    """PTB sends objects as JSON strings and numbers as text."""
    if name in ("text", "caption", "title", "performer", "filename", "query"):
        return value
    if value[:1] in "[{" or value in ("true", "false", "null"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value.lstrip("-").isdigit():
        return int(value)
    return value


# -- a stand-in composer (tests only; the bot itself always calls composer.pipeline) --

FAKE_DELAY_ENV = "ISADEI_FAKE_COMPOSE_DELAY"  # seconds between "composing" and "rendering"
# Set: the stand-in reports its MP3 (on_audio) this many seconds before the other files, as
# composer.render does; unset: it writes them all, then returns (the tests' old timing).
FAKE_AUDIO_DELAY_ENV = "ISADEI_FAKE_AUDIO_DELAY"
_mp3_cache: dict[float, bytes] = {}


def tiny_midi(path, tempo_bpm: int = 120) -> None:
    """A small valid MIDI file: a Melody track with a C major scale and a marker."""
    import mido

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track.name = "Melody"
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm)))
    track.append(mido.MetaMessage("marker", text="Intro"))
    for pitch in (60, 62, 64, 65, 67, 69, 71, 72):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))
    midi.tracks.append(track)
    midi.save(path)


def tiny_mp3(path, seconds: float = 1.0) -> None:
    """A real MP3 (a sine wave, encoded by ffmpeg), made once per process and copied."""
    import pathlib
    import subprocess
    import tempfile

    if seconds not in _mp3_cache:
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "sine.mp3"
            subprocess.run(
                [
                    "ffmpeg",
                    "-loglevel",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                    f"sine=frequency=440:duration={seconds}",
                    "-ac",
                    "1",
                    "-b:a",
                    "32k",
                    str(out),
                ],
                check=True,
                timeout=60,
            )
            _mp3_cache[seconds] = out.read_bytes()
    pathlib.Path(path).write_bytes(_mp3_cache[seconds])


def tiny_png(path, width: int = 8, height: int = 8) -> None:
    """A valid white PNG, written by hand (no imaging library needed)."""
    import pathlib
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff" * (width * 3) for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    pathlib.Path(path).write_bytes(png)


TINY_MUSICXML = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0"><part-list><score-part id="P1"><part-name>Melody</part-name>
</score-part></part-list><part id="P1"><measure number="1"><attributes><divisions>1</divisions>
</attributes><note><pitch><step>C</step><octave>4</octave></pitch><duration>4</duration>
<type>whole</type></note></measure></part></score-partwise>
"""


def tiny_pdf(path) -> None:
    """A valid one-page (blank A4) PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(path)


def tiny_jpeg(path, size: int = 32) -> None:
    """A small white JPEG, as the cover art is."""
    from PIL import Image

    Image.new("RGB", (size, size), "white").save(path, "JPEG")


def fake_song(out, request, seed: int, form: tuple[str, ...], on_audio=None):
    """Real small MIDI/MP3/PNG/PDF/MusicXML/JPEG files and the SongRecord JSON in `out`, as
    composer.render writes them; the Rendered that says where they are. The MP3 comes first:
    with ISADEI_FAKE_AUDIO_DELAY set, `on_audio(mp3)` hears of it that long before the rest."""
    import os
    import pathlib

    from composer.song import Rendered, SectionRecord, SongRecord

    out = pathlib.Path(out)
    slug = f"{request.style}-{seed}"
    tempo = request.tempo_bpm or 120
    tiny_mp3(out / f"{slug}.mp3")
    audio_delay = os.environ.get(FAKE_AUDIO_DELAY_ENV)
    if on_audio and audio_delay is not None:
        on_audio(out / f"{slug}.mp3")
        time.sleep(float(audio_delay))
    tiny_midi(out / f"{slug}.mid", tempo)
    tiny_png(out / f"{slug}.png")
    tiny_pdf(out / f"{slug}.pdf")
    (out / f"{slug}.musicxml").write_text(TINY_MUSICXML, encoding="utf-8")
    tiny_jpeg(out / f"{slug}.jpg")
    sections = tuple(
        SectionRecord(name=name, kind=name.split()[0], material="A", start_bar=1 + 4 * i,
                      bars=4, start_seconds=i / len(form), seconds=1 / len(form))
        for i, name in enumerate(form)
    )
    record = SongRecord(
        title=f"Test {request.style} {seed}",
        request=request,
        style=request.style,
        key=request.key or "D",
        mode=request.mode or "minor",
        tempo_bpm=tempo,
        meter="3/4",
        instrument=request.instrument or "violin",
        seed=seed,
        form=sections,
        duration_seconds=float(request.length_seconds or 1.0),  # what the caption shows
        timings={"compose": 0.1, "render": 0.1},
        score_pages=1,
    )
    record.save(out / f"{slug}.json")
    return Rendered(
        midi=out / f"{slug}.mid",
        mp3=out / f"{slug}.mp3",
        png=out / f"{slug}.png",
        json=out / f"{slug}.json",
        duration_seconds=1.0,
        timings={"compose": 0.1, "render": 0.1},
        pdf=out / f"{slug}.pdf",
        musicxml=out / f"{slug}.musicxml",
        cover=out / f"{slug}.jpg",
    )


def fake_compose_to_files(request, out_dir, seed=None, progress=False, on_stage=None,
                          heard=None, on_audio=None):
    """Like composer.pipeline.compose_to_files, fast (fake_song). Words in the request steer
    it: "fail always" raises, "fail once" raises the first time for this output folder."""
    import os
    import pathlib

    from composer.request import SongRequest
    from composer.song import COMPOSING, RENDERING

    if isinstance(request, str):
        request = SongRequest(text=request)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if on_stage:
        on_stage(COMPOSING)
    time.sleep(float(os.environ.get(FAKE_DELAY_ENV, "0.2")))
    text = (request.text or "").lower()
    if "crash the bot" in text:  # as a segfault or the OOM killer would
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    if "fail always" in text:
        raise ValueError("the fake composer was asked to fail")
    marker = out.parent / (out.name.removesuffix(".partial") + ".failed-once")
    if "fail once" in text and not marker.exists():
        marker.write_text("x")
        raise RuntimeError("the fake composer fails once")
    if on_stage:
        on_stage(RENDERING)
    form = ("Intro", "Verse", "Chorus", "Verse 2", "Chorus", "Coda")
    return fake_song(out, request, seed, form, on_audio)


def _fake_parse(text: str):
    from composer.request import SongRequest
    from composer.styles import STYLES

    lowered = text.lower()
    style = next(
        (sid for sid in sorted(STYLES, key=len, reverse=True) if sid in lowered),
        "waltz" if "вальс" in lowered else "folk",
    )
    return SongRequest(style=style, text=text)


def install_fake_composer(force: bool = True) -> None:
    """Stand in for composer.pipeline (always, or only while it does not exist yet), and for
    composer.request's parse/describe while they are not written yet."""
    import importlib.util
    import sys
    import types

    import composer.request

    if force or importlib.util.find_spec("composer.pipeline") is None:
        module = types.ModuleType("composer.pipeline")
        module.compose_to_files = fake_compose_to_files  # type: ignore[attr-defined]
        sys.modules["composer.pipeline"] = module
    if not hasattr(composer.request, "parse"):
        composer.request.parse = _fake_parse  # type: ignore[attr-defined]
    if not hasattr(composer.request, "describe"):
        composer.request.describe = lambda r: f"a {r.style}"  # type: ignore[attr-defined]
    if not hasattr(composer.request, "describe_ru"):
        composer.request.describe_ru = lambda r, accusative=False: f"{r.style} (ru)"  # type: ignore[attr-defined]


def run_bot_with_fake_composer() -> None:
    """`python -m tests.fake_bot_api`: the real `isadei bot`, with the stand-in composer."""
    import os

    from bot.cli import main

    install_fake_composer(force=os.environ.get("ISADEI_TEST_COMPOSER", "fake") == "fake")
    main(["bot"])


if __name__ == "__main__":
    run_bot_with_fake_composer()
