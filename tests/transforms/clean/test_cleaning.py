"""Tests for line-level boilerplate removal (transforms.cleaning)."""
import pytest

from transforms.clean.cleaning import clean_lines, is_boilerplate, normalise_whitespace

BOILERPLATE = [
    'Advertisement',
    'ADVERTISEMENT',
    'X',
    'Show comments',
    'Also Read: Sensex closes 100 points higher',
    'Also Read | Iconic Jasper resort reopens',
    'Read more',
    'Share on Facebook',
    'Share on Facebook Share on Twitter WhatsApp Email',
    'Follow The Bay Journal on Google News and WhatsApp for the latest updates.',
    'Story continues below advertisement',
    'Sign up for our daily newsletter to get the top stories in your inbox.',
    'IANS',
    '(IANS)',
    '— PTI',
    '- PTI',
    'With inputs from PTI',
    'With agency inputs',
    '— Agencies',
    'Source: PTI',
    '(Reporting by Will Dunham; Editing by Tom Brown)',
    'Associated Press writer Jane Doe in Chicago contributed to this report.',
    '© Thomson Reuters 2019',
    'Copyright 2019 The Associated Press. All rights reserved. This material may not be published, broadcast, '
    'rewritten or redistributed.',
    '(This story has not been edited by Devcourse staff and is auto-generated from a syndicated feed.)',
    '(Only the headline and picture of this report may have been reworked by the Commerce Standard staff; '
    'the rest of the content is auto-generated from a syndicated feed.)',
    'This article first appeared on The Conversation.',
    'Wednesday, 03 July 2019 | PTI | San Francisco',
    '— Laura Brennan (@breakinglive) October 9, 2018',
]

BODY = [
    'Reuters reported on Monday that the talks had stalled.',
    'The company said advertisement revenue fell 12 per cent in the quarter.',
    'Pakistan Tehreek-e-Insaf (PTI) leaders met in Islamabad on Tuesday.',
    'Follow-up talks are expected next week, officials told The Associated Press.',
    'Copyright infringement lawsuits against the platform rose sharply last year.',
    'Source: Trump ‘irritated’ by Conway attacks on Romney',
    'WASHINGTON (AP) — The Senate voted on Tuesday to approve the bill.',
    'New Delhi, Nov 20 (PTI) The government on Wednesday announced a new policy. (IANS)',
    'Readers can share their views on Facebook, the newspaper said in a statement on Friday.',
    'X-ray images showed the damage to the bridge.',
]


@pytest.mark.parametrize('line', BOILERPLATE)
def test_boilerplate_line_is_removed(line):
    kept, removed = clean_lines([line])
    assert kept == []
    assert removed == [normalise_whitespace(line)]


@pytest.mark.parametrize('line', BODY)
def test_body_paragraph_mentioning_boilerplate_words_is_kept(line):
    kept, removed = clean_lines([line])
    assert kept == [line]
    assert removed == []


def test_order_is_kept_and_removed_lines_returned_for_tagging():
    kept, removed = clean_lines(['First paragraph.', 'Advertisement', 'Second paragraph.', 'IANS'])
    assert kept == ['First paragraph.', 'Second paragraph.']
    assert removed == ['Advertisement', 'IANS']


def test_whitespace_is_normalised_and_empty_lines_dropped():
    kept, removed = clean_lines(['  Two\u00a0 spaces\tand\u200b tabs  ', '', '   ', None])
    assert kept == ['Two spaces and tabs']
    assert removed == []


def test_long_paragraph_is_never_removed_by_credit_patterns():
    paragraph = 'With inputs from PTI, ' + 'the minister said the scheme would cover every district. ' * 10
    assert not is_boilerplate(normalise_whitespace(paragraph))
