"""The use cases: what a user or an admin can do, called alike by chat handlers, the Mini App and
the CLI. Imports core and storage, never telegram or aiohttp."""
