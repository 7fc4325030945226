"""Chat commands and buttons, registered on a python-telegram-bot Application."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import admin, settings, user

USER_COMMANDS = {
    "start": user.start,
    "help": user.help_command,
    "add": user.add,
    "list": user.list_keywords,
    "remove": user.remove,
    "test": user.test,
    "settings": settings.settings,
    "stop": user.stop,
}
ADMIN_COMMANDS = {
    "addfeed": admin.addfeed,
    "feeds": admin.feeds,
    "broadcast": admin.broadcast,
    "broadcast_cancel": admin.broadcast_cancel,
    "stats": admin.stats_command,
}


def register(application: Application) -> None:
    """Add every handler; order matters: commands first, the catch-alls last."""
    for name, callback in {**USER_COMMANDS, **ADMIN_COMMANDS}.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(settings.settings_button, pattern=r"^set:"))
    application.add_handler(CallbackQueryHandler(admin.broadcast_button, pattern=r"^bc:"))
    application.add_handler(CallbackQueryHandler(user.button))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, user.plain_text)
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, user.chat_migrated))
    application.add_handler(MessageHandler(filters.COMMAND, user.unknown_command))
