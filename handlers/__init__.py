"""Chat commands and buttons, registered on a python-telegram-bot Application."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
    TypeHandler,
    filters,
)

from handlers import (
    admin,
    channels,
    feedback,
    inline,
    keyword_ways,
    preferences,
    sources,
    stats,
    user,
)
from handlers.common import ban_guard, flood_guard, remember_turn
from handlers.context import Context

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
    "stats": stats.stats_command,
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
    "kwx:": keyword_ways.keyword_way_button,
    "stop:": user.stop_button,
    "ch:": channels.channel_button,
    "bc:": admin.broadcast_button,
    "feed:": admin.feed_button,
    "test:": user.test_button,
    "add:": user.add_button,
    "fb:": feedback.feedback_button,
    "src:": sources.sources_button,
}


# Updates that only report something (an inline query, a reaction, a migration, a change of
# membership) take no turn up front: their handlers record one only when they answer.
REPORTS = frozenset({inline.inline_search, feedback.reaction, user.chat_migrated, user.membership})
# The early groups, in the order they run. Order matters: a banned chat is refused before it
# spends flood allowance, and an update either guard stops records no turn (writes nothing).
BAN_GROUP, FLOOD_GROUP, TURN_GROUP = -3, -2, -1


class TurnGate(BaseHandler[Update, Context, None]):
    """The turn group's handler: takes an update in a chat whose route (the first that matches,
    as python-telegram-bot picks it) is not a report, so its chat is recorded once per update,
    before any handler reads it."""

    def __init__(self, routes: list[BaseHandler]) -> None:
        super().__init__(remember_turn)
        self.routes = routes

    def check_update(self, update: object) -> bool:
        """Whether the update is in a chat and its handler takes a turn."""
        if not isinstance(update, Update) or update.effective_chat is None:
            return False
        for route in self.routes:
            if route.check_update(update) not in (None, False):
                return route.callback not in REPORTS
        return False


def register(application: Application) -> None:
    """Add every handler: the ban guard, the flood guard and the turn first (each in a group
    of its own, so each sees every update), then the routes, in the order they are tried."""
    application.add_handler(TypeHandler(object, ban_guard), group=BAN_GROUP)
    application.add_handler(TypeHandler(object, flood_guard), group=FLOOD_GROUP)
    routes: list[BaseHandler] = [
        CommandHandler(name, callback, block=callback not in IN_BACKGROUND)
        for name, callback in {**USER_COMMANDS, **ADMIN_COMMANDS}.items()
    ]
    routes += [
        CallbackQueryHandler(callback, pattern=f"^{prefix}", block=callback not in IN_BACKGROUND)
        for prefix, callback in BUTTONS.items()
    ]
    routes += [
        CallbackQueryHandler(user.button),  # help, and anything unknown
        InlineQueryHandler(inline.inline_search, block=False),
        MessageReactionHandler(feedback.reaction),
        # Order matters: forwarded channel posts and migrations before the plain-text catch-all.
        MessageHandler(
            filters.FORWARDED & filters.ChatType.PRIVATE, channels.forwarded_from_channel
        ),
        MessageHandler(filters.StatusUpdate.MIGRATE, user.chat_migrated),
        ChatMemberHandler(user.membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(
            filters.Document.FileExtension("opml") | filters.Document.FileExtension("xml"),
            admin.import_feeds,
        ),
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, user.plain_text),
        MessageHandler(filters.COMMAND, user.unknown_command),
    ]
    application.add_handler(TurnGate(routes), group=TURN_GROUP)
    for route in routes:
        application.add_handler(route)
