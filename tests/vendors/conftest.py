from tests.fakes.fixtures import fake_vendor, fake_vendor_server  # noqa: F401
