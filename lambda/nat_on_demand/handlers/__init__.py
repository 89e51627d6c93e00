"""Lambda entry points: parse the event, call the steps, return a small JSON result."""
