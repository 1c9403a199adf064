"""The registry declares each vendor kind once; the admin form, the admin API and the
credential checks follow it."""

from __future__ import annotations

import pytest

from app.admin.forms import VendorForm
from app.api.schemas.admin import VendorCreate
from app.services import vendor_credentials
from app.services.actor import Actor
from app.vendors import HANDLERS, KINDS, STORABLE_KINDS, WIRE_FORMATS
from app.vendors.base import VendorHandler


def test_every_declared_kind_has_an_adapter_and_a_wire_format():
    for name, kind in KINDS.items():
        assert issubclass(HANDLERS[name], VendorHandler)
        assert WIRE_FORMATS[name] == kind.wire_format


def test_the_admin_form_and_api_offer_exactly_the_storable_kinds(app):
    with app.test_request_context():
        assert [value for value, _ in VendorForm().kind.choices] == list(STORABLE_KINDS)
    assert VendorCreate.model_json_schema()["properties"]["kind"]["enum"] == list(STORABLE_KINDS)
    assert "mock" not in STORABLE_KINDS  # environment only


@pytest.mark.parametrize("name", STORABLE_KINDS)
def test_a_stored_credential_needs_the_fields_its_kind_declares(app, name):
    kind = KINDS[name]
    actor = Actor(user_id=None, ip="127.0.0.1")
    with app.app_context():
        with pytest.raises(vendor_credentials.CredentialError) as refused:
            vendor_credentials.add(actor, name="x-" + name, kind=name,
                                   base_url=None if kind.needs_base_url else "https://v.example",
                                   api_key=None if kind.needs_api_key else "sk-test", enabled=True)
        assert refused.value.field == ("base_url" if kind.needs_base_url else "api_key")


def test_every_declared_field_of_a_storable_kind_has_an_input_in_the_admin_form(app):
    with app.test_request_context():
        form = VendorForm()
        for name in STORABLE_KINDS:
            for declared in KINDS[name].fields:
                assert name in form.kinds_of(declared.name), (name, declared.name)
                assert getattr(form, declared.name).label.text == declared.label or \
                    declared.name in ("api_key", "base_url")
        html = app.jinja_env.get_template("admin/_vendor_form.html").render(
            form=form, with_key=True, secret_masks={})
    assert 'data-vendor-kinds="azure"' in html  # the API version, shown for Azure only
