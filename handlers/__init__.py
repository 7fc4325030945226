"""Chat commands and buttons, registered on a python-telegram-bot Application."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
    TypeHandler,
    filters,
)

from handlers import admin, channels, feedback, inline, preferences, user
from handlers.common import ban_guard, flood_guard

USER_COMMANDS = {
    "start": user.start,
    "help": user.help_command,
    "add": user.add,
    "list": user.list_keywords,
    "remove": user.remove,
    "test": user.test,
    "settings": preferences.settings,
    "pause": user.pause,
    "resume": user.resume,
    "channel": channels.channel,
    "stats": admin.stats_command,
    "mydata": user.mydata,
    "stop": user.stop,
}
ADMIN_COMMANDS = {
    "addfeed": admin.addfeed,
    "feeds": admin.feeds,
    "ban": admin.ban,
    "unban": admin.unban,
    "broadcast": admin.broadcast,
    "broadcast_cancel": admin.broadcast_cancel,
    "export_feeds": admin.export_feeds,
    "charset": admin.charset,
    "fulltext": admin.fulltext,
}
# Handlers that may take seconds (a /test scan): run beside other updates, not before them.
IN_BACKGROUND = frozenset({user.test, user.test_button})
# Buttons, by the prefix of their callback data; the admin ones refuse non-admins too.
BUTTONS = {
    "set:": preferences.settings_button,
    "kw:": user.keyword_button,
    "stop:": user.stop_button,
    "ch:": channels.channel_button,
    "bc:": admin.broadcast_button,
    "feed:": admin.feed_button,
    "test:": user.test_button,
    "add:": user.add_button,
    "fb:": feedback.feedback_button,
}


def register(application: Application) -> None:
    """Add every handler. Groups -2 and -1 run first: the ban and flood guards can stop an
    update there."""
    application.add_handler(TypeHandler(object, ban_guard), group=-2)
    application.add_handler(TypeHandler(object, flood_guard), group=-1)
    for name, callback in {**USER_COMMANDS, **ADMIN_COMMANDS}.items():
        application.add_handler(CommandHandler(name, callback, block=callback not in IN_BACKGROUND))
    for prefix, callback in BUTTONS.items():
        application.add_handler(
            CallbackQueryHandler(
                callback, pattern=f"^{prefix}", block=callback not in IN_BACKGROUND
            )
        )
    application.add_handler(CallbackQueryHandler(user.button))  # help, and anything unknown
    application.add_handler(InlineQueryHandler(inline.inline_search, block=False))
    application.add_handler(MessageReactionHandler(feedback.reaction))
    # Order matters: forwarded channel posts and migrations before the plain-text catch-all.
    application.add_handler(
        MessageHandler(
            filters.FORWARDED & filters.ChatType.PRIVATE, channels.forwarded_from_channel
        )
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, user.chat_migrated))
    application.add_handler(ChatMemberHandler(user.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(
        MessageHandler(
            filters.Document.FileExtension("opml") | filters.Document.FileExtension("xml"),
            admin.import_feeds,
        )
    )
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, user.plain_text)
    )
    application.add_handler(MessageHandler(filters.COMMAND, user.unknown_command))
