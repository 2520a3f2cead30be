"""The sinks a run report goes to: the terminal table, JSON, JUnit XML, the
self-contained HTML page, the JSON Lines run log, and the conformance and
baseline tables. The report itself is data in hil.validate.run_report."""
