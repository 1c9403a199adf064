"""What the vendor manager reports as it works: upstream latencies, first tokens, retries,
fallbacks and errors. The app injects an observer that turns them into metrics; the vendor
package itself knows no metrics library and no Flask."""

from __future__ import annotations


class VendorObserver:
    """Hears about vendor calls; this base ignores everything (tests, scripts)."""

    def upstream(self, vendor: str, model: str, seconds: float) -> None:
        """A whole call that ``vendor`` answered in ``seconds``."""

    def first_token(self, vendor: str, model: str, seconds: float) -> None:
        """A stream whose first delta came ``seconds`` after the call started."""

    def retry(self, vendor: str) -> None:
        """A call to ``vendor`` is tried again after a transient error."""

    def fallback(self, vendor: str) -> None:
        """A route of ``vendor`` failed and the call moves on to the next route."""

    def error(self, vendor: str, kind: str) -> None:
        """``vendor`` failed with an error of ``kind`` (see ``manager.ERROR_KINDS``)."""

    def cooldown(self, vendor: str) -> None:
        """A deployment of ``vendor`` kept failing and is taken out of rotation for a while."""

    def health_check(self, vendor: str, result: str) -> None:
        """An active health check of a deployment of ``vendor`` ended with ``result``: ``ok``
        or the error kind."""
