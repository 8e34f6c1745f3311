"""Old path of the polling classes, kept for running Dataflow streams (no code lives here).

A streaming job checkpoints each feed's SDF restriction with pickle, which records classes by
module path: a `--update` of a job started before the layout change unpickles
`transforms.poll_feeds.PollRange` and `FeedTrack`. Keep this module for one release.
"""
from transforms.feeds.beam_poll import PollRange, PollTracker  # noqa: F401
from transforms.feeds.tracks import FeedTrack  # noqa: F401
