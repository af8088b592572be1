"""Serve the toy service alone (used by the shutdown test): `python -m tests.toy.serve PORT`."""

import sys

import uvicorn

from shared.hosting import Host
from shared.settings import PlatformSettings
from tests.toy.service import SERVICE

if __name__ == "__main__":
    host = Host([SERVICE], PlatformSettings())
    uvicorn.run(host.app(), host="127.0.0.1", port=int(sys.argv[1]), log_config=None, timeout_graceful_shutdown=30)
