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


REQUIRED = [(name, f.name) for name in STORABLE_KINDS for f in KINDS[name].fields if f.required]


@pytest.mark.parametrize(("name", "missing"), REQUIRED)
def test_a_stored_credential_needs_the_fields_its_kind_declares(app, name, missing):
    """Every field but one given: the one left out is refused, named."""
    kind = KINDS[name]
    values = {f.name: "http://127.0.0.1:9" if f.name == "base_url" else f"value-of-{f.name}"
              for f in kind.fields if f.name != missing}
    actor = Actor(user_id=None, ip="127.0.0.1")
    with app.app_context():
        with pytest.raises(vendor_credentials.CredentialError) as refused:
            vendor_credentials.add(
                actor, name="x-" + name, kind=name, base_url=values.pop("base_url", None),
                api_key=values.pop("api_key", None), enabled=True, settings=values)
        assert refused.value.field == missing


def test_a_key_is_refused_for_a_kind_that_declares_none(app):
    actor = Actor(user_id=None, ip="127.0.0.1")
    settings = {"region": "us-east-1", "aws_access_key_id": "AKIA0000",
                "aws_secret_access_key": "secret"}
    with app.app_context(), pytest.raises(vendor_credentials.CredentialError) as refused:
        vendor_credentials.add(actor, name="aws", kind="bedrock", base_url=None,
                               api_key="sk-test", settings=settings)
    assert refused.value.field == "api_key" and "takes no API key" in str(refused.value)


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
