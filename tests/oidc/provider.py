"""panva's oidc-provider, a real OpenID Provider, on loopback for the SSO tests.

``install.sh`` (beside this file) installs it once from the npm registry into
``~/.cache/parlor-oidc`` at a pinned version; ``provider.mjs`` configures one confidential
client and reads its users from a JSON file on every sign-in, so a test can change a user's
groups between two sign-ins.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import wait_for_port

HERE = Path(__file__).resolve().parent
CLIENT_ID = "parlor-tests"
CLIENT_SECRET = "parlor-tests-client-secret-0123456789"  # noqa: S105 - the test client's


@pytest.fixture(scope="session")
def oidc_provider_package() -> str:
    """The installed oidc-provider package's folder (installed on first use, then cached)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("the SSO tests need Node.js and npm (apt-get install nodejs npm)")
    done = subprocess.run(["bash", str(HERE / "install.sh")], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


class OidcProvider:
    """A running provider at ``issuer`` whose users a test may change (``set_user``)."""

    def __init__(self, package: str, port: int, workdir: Path, app_url: str):
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        self.users_file = workdir / "oidc-users.json"
        self.users: dict[str, dict] = {}
        self._write()
        self.log = workdir / "oidc-provider.log"
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "NODE_ENV": "test",
            "OIDC_PROVIDER_PACKAGE": package, "OIDC_PORT": str(port),
            "OIDC_USERS_FILE": str(self.users_file), "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URI": f"{app_url}/auth/oidc/callback",
            "OIDC_LOGOUT_URI": f"{app_url}/login",
        }
        with self.log.open("w") as log:
            self.process = subprocess.Popen(["node", str(HERE / "provider.mjs")], env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, timeout=30)
        except TimeoutError:
            self.stop()
            raise AssertionError("oidc-provider did not start: " + self.log.read_text()) from None

    def set_user(self, login: str, email: str, groups: list[str], verified: bool = True,
                 name: str = "") -> None:
        """Add or change the provider's user ``login`` (any password signs in)."""
        self.users[login] = {"email": email, "email_verified": verified, "groups": groups,
                             "name": name or login.title()}
        self._write()

    def _write(self) -> None:
        self.users_file.write_text(json.dumps(self.users))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def oidc_env(port: int, **extra) -> dict:
    """Parlor's environment for signing in at the provider on ``port``."""
    return {"PARLOR_OIDC_ISSUER": f"http://127.0.0.1:{port}", "PARLOR_OIDC_CLIENT_ID": CLIENT_ID,
            "PARLOR_OIDC_CLIENT_SECRET": CLIENT_SECRET, "PARLOR_OIDC_NAME": "Acme SSO",
            "PARLOR_OIDC_SCOPES": "groups", "PARLOR_OIDC_ROLES_CLAIM": "groups",
            "PARLOR_OIDC_ROLE_MAP": "parlor-admins=admin,staff=member", **extra}
