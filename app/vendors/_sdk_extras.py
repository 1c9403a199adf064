"""The vendor SDKs without their optional aiohttp clients.

Parlor never uses them (every SDK client gets the transport of ``transport.py``), yet
``import openai`` and ``import anthropic`` load aiohttp, and with it multidict, yarl and the
rest, whenever aiohttp is installed beside them (the test extra installs it; so may a user's
environment): ~30 MB a worker. Marked missing here, before either SDK is imported, each SDK
takes the fallback it has for an install without aiohttp.
"""

import sys

for _name in ("openai._vendor.httpx_aiohttp", "anthropic._vendor.httpx_aiohttp"):
    sys.modules.setdefault(_name, None)
