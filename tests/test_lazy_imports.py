"""A worker loads the heavy libraries of one feature when that feature is first used, not at
start: a gateway-only worker never pays for Markdown, images, PDFs or single sign-on (each
megabytes of every worker's resident memory; BENCHMARKS.md)."""

import json
import subprocess
import sys

LAZY = ("pypdf", "PIL", "markdown_it", "pygments", "nh3", "authlib")

PROBE = """
import json, sys
from app import create_app
app = create_app(migrations=False)
app.test_client().get("/healthz")
at_start = sorted(m for m in %(lazy)r if m in sys.modules)
from app.formatting.markdown import to_html
html = to_html("**hi**\\n\\n```python\\nx = 1\\n```")
from app.services.attachment_content import check
from tests.fakes.files import png
check(png(), "a.png")
after_use = sorted(m for m in ("markdown_it", "pygments", "nh3", "PIL") if m in sys.modules)
print(json.dumps({"at_start": at_start, "after_use": after_use, "html": html}))
"""


def test_a_started_worker_has_not_loaded_feature_libraries_until_they_are_used(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/lazy.db", "PARLOR_INSTANCE_PATH": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", PROBE % {"lazy": LAZY}], env=env,
                         capture_output=True, text=True, check=True, cwd=".").stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert found["at_start"] == []
    assert found["after_use"] == ["PIL", "markdown_it", "nh3", "pygments"]
    assert "<strong>hi</strong>" in found["html"]
    assert '<span class="' in found["html"]  # the code block, highlighted by Pygments


SDK_PROBE = """
import importlib.util, json, sys
import app.vendors.openai, app.vendors.anthropic  # the adapters, and the SDKs they import
print(json.dumps({"aiohttp_installed": importlib.util.find_spec("aiohttp") is not None,
                  "sdks": ["openai" in sys.modules, "anthropic" in sys.modules],
                  "aiohttp_loaded": "aiohttp" in sys.modules}))
"""


def test_the_vendor_sdks_come_without_the_aiohttp_client_parlor_never_uses():
    out = subprocess.run([sys.executable, "-c", SDK_PROBE], capture_output=True, text=True,
                         check=True, cwd=".", env={"PATH": "/usr/bin:/bin"}).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert found["aiohttp_installed"]  # (the test extra installs it: the case that matters)
    assert found["sdks"] == [True, True] and not found["aiohttp_loaded"]
