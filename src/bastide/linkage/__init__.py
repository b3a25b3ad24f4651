"""Linkage of hospital patients to national beneficiaries, through pseudonyms only."""
