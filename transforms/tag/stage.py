"""TagArticles: name the wire agency a page credits, with the evidence, from the agency registry."""
from __future__ import annotations

import apache_beam as beam

from schemas.types import Evidence
from transforms.beam_common.dead_letters import guarded_pardo
from transforms.beam_common.metrics import counter

STAGE = "tag"


class TagDraft(beam.DoFn):
    """Applies the credit rules; the registry arrives as plain data and is compiled once per worker."""

    def __init__(self):
        self._compiled = None
        self._compiled_from = None

    def _registry(self, data):
        from transforms.tag.registry import AgencyRegistry

        if self._compiled_from is not data:
            self._compiled = AgencyRegistry.from_data(data)
            self._compiled_from = data
        return self._compiled

    def process(self, draft, registry_data):
        from transforms.tag.providers import provider_evidence
        from transforms.tag.rules import tag_agency

        registry = self._registry(registry_data)
        signals = {"page_lines": list(draft.page_lines), "caption_lines": list(draft.caption_lines),
                   "bylines": list(draft.bylines), "structured_authors": list(draft.structured_authors)}
        agency, evidence = tag_agency(list(draft.raw_lines), list(draft.removed_lines), signals,
                                      registry, agency_hint=draft.agency_hint,
                                      url=draft.article.canonical_url or draft.article.url)
        provided = provider_evidence(list(draft.providers), registry)
        if provided:
            # An agency delivery names its own provider: that beats any credit read from its text.
            agency = provided[0]["agency"]
            evidence = provided + [e for e in evidence if e["agency"] == agency]
        counter(STAGE, f"agency.{agency or 'none'}").inc()
        yield draft._replace(article=draft.article._replace(
            agency=agency,
            agency_evidence=[Evidence(agency=e["agency"], kind=e["kind"], text=e["text"]) for e in evidence]))


class TagArticles(beam.PTransform):
    """Draft rows in; Draft rows with agency and evidence out, plus 'dead_letters'. The registry is a side input."""

    def __init__(self, registry):
        super().__init__()
        self._registry = registry

    def expand(self, drafts):
        return guarded_pardo(drafts, "Tag Agencies", STAGE, TagDraft(),
                             beam.pvalue.AsSingleton(self._registry), main="drafts")
