"""Views of the tidy results table: scores.json, leaderboards, plots, radiographies, comparisons."""
