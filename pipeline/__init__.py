"""Options, graph builder and command line of wiredesk."""
