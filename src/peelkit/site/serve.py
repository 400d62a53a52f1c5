"""The application uvicorn's workers import: the site of the folder ``peelkit serve`` named
(in the environment, so that every worker process serves the same one)."""

from __future__ import annotations

import os
from pathlib import Path

from peelkit.site.app import create_app

app = create_app(Path(os.environ.get("PEELKIT_SITE", "peelkit-site")))
