"""Data sets to learn from: digits (IDX), page pairs, crops, noise, degradations, synthetic pages, mixes."""
