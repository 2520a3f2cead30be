"""The run report as data, and the sinks that render it: terminal, JSON, JSON Lines,
JUnit XML and a self-contained HTML page."""
