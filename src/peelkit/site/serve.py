"""The application uvicorn's workers import: the site of the folder ``peelkit serve`` named
(in the environment, so that every worker process serves the same one)."""

from __future__ import annotations

import os
from pathlib import Path

from peelkit.site.app import create_app
from peelkit.workbench.service import Workbench


def _workbench() -> Workbench | None:
    """The workbench of ``$PEELKIT_DATABASE`` (peelkit serve --database), if one is named."""
    url = os.environ.get("PEELKIT_DATABASE")
    if not url:
        return None
    from peelkit.workbench.database import open_database

    site = Path(os.environ.get("PEELKIT_SITE", "peelkit-site"))
    return Workbench(open_database(url, upgrade=False), site=site)


app = create_app(Path(os.environ.get("PEELKIT_SITE", "peelkit-site")), _workbench())
