"""One base for the failures that become dead letters; registry mistakes are config mistakes."""
import pytest

from schemas.errors import ConfigError, Failure, RegistryError
from transforms.extract.results import ExtractionError
from transforms.feeds.parsing import NotAFeed
from transforms.feeds.urls import BadLink
from transforms.fetch.errors import FetchError


@pytest.mark.parametrize("cls, reason", [(FetchError, "http_404"), (ExtractionError, "pdf"),
                                         (NotAFeed, "not_a_feed"), (BadLink, "bad_url")])
def test_every_reasoned_failure_carries_a_reason_and_a_message(cls, reason):
    err = cls(reason, "what went wrong")
    assert isinstance(err, Failure)
    assert (err.reason, err.message) == (reason, "what went wrong")


def test_a_registry_mistake_is_a_config_mistake():
    assert issubclass(RegistryError, ConfigError)
