"""The Telegram bot: wiring, handlers, intake of requests, the job runner, delivery of the
files, words and keyboards, job records. Talks to the composer through bot.queue."""
