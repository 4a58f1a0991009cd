"""The hostile-input suite (issue 15): see docs/hostile-inputs.md for the kinds and their tests."""
