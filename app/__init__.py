"""The composition root: builds Rasd's parts once (bootstrap) and runs them under
python-telegram-bot (telegram_app) or offline (demo). Only bot.py and the tests import it."""
