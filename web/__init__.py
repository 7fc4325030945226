"""The web face inside the bot process: short links, health, metrics and the Telegram webhook."""
